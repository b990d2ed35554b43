// Whether a dump directory belongs to this run of this task: its metadata names the run's dump id,
// which the dump also recorded on the target (`<meta-schema>.<task>_dump_checkpoint`) before it
// wrote a file, and the upstream it was taken from. A directory left by an earlier task of the
// same name, by another target or another upstream is not resumed (it would load old rows and
// sync from an old position).
import { quoteString, quoteTable } from '../../mysql/connect.js';
import type { PacketConnection } from '../../mysql/protocol.js';
import { createMetaSchema, forgetSource, isMissingMeta } from '../meta.js';
import type { DumpMetadata } from './metadata.js';

/** Why the finished dump `dir` may not be resumed; undefined when it may. Pure. */
export function foreignDump(
  dir: Pick<DumpMetadata, 'dumpId' | 'upstream'>,
  recorded: string | undefined,
  upstream: string,
): string | undefined {
  if (!dir.dumpId) return 'its metadata has no dump id (an older or another tool wrote it)';
  if (recorded === undefined)
    return `the target has no record of dump ${dir.dumpId} (another target, or its meta was removed)`;
  if (recorded !== dir.dumpId)
    return `the target records dump ${recorded}, the directory holds dump ${dir.dumpId}`;
  if (dir.upstream !== upstream)
    return `it was taken from ${dir.upstream || 'an unnamed upstream'}, the upstream now is ${upstream}`;
  return undefined;
}

export class DumpRecord {
  readonly table: string;

  constructor(
    private readonly metaSchema: string,
    task: string,
    private readonly sourceId: string,
  ) {
    this.table = quoteTable(metaSchema, `${task}_dump_checkpoint`);
  }

  /** Records that dump `dumpId` of this source begins (replacing an earlier one). */
  async begin(c: PacketConnection, dumpId: string, upstream: string): Promise<void> {
    await createMetaSchema(c, this.metaSchema);
    await c.exec(`CREATE TABLE IF NOT EXISTS ${this.table} (
      id VARCHAR(128) NOT NULL PRIMARY KEY COMMENT 'source-id',
      dump_id VARCHAR(64) NOT NULL,
      upstream VARCHAR(255) NOT NULL,
      update_time TIMESTAMP DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
    ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4`);
    await c.exec(
      `REPLACE INTO ${this.table} (id, dump_id, upstream) VALUES (${quoteString(this.sourceId)}, ${quoteString(dumpId)}, ${quoteString(upstream)})`,
    );
  }

  /** The dump id recorded for this source; undefined when there is none. */
  async read(c: PacketConnection): Promise<string | undefined> {
    try {
      const rows = await c.query(
        `SELECT dump_id FROM ${this.table} WHERE id = ${quoteString(this.sourceId)}`,
      );
      return rows[0]?.dump_id ?? undefined;
    } catch (e) {
      if (isMissingMeta(e)) return undefined;
      throw e;
    }
  }

  async clear(c: PacketConnection): Promise<void> {
    await forgetSource(c, this.table, this.sourceId);
  }
}

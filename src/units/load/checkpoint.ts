// The loader checkpoint in the target: `<meta-schema>.<task>_loader_checkpoint`, DM's table. One
// row per data file of a source; `offset = end_pos` once the file is imported. The row is
// updated in the same transaction as the file's rows, so a file is either wholly imported and
// marked, or not at all.
import { quoteString, quoteTable } from '../../mysql/connect.js';
import type { PacketConnection } from '../../mysql/protocol.js';
import { createMetaSchema, forgetSource } from '../meta.js';
import { parseDumpFile } from '../dump/files.js';

export interface Interrupted {
  db: string;
  table: string;
  created: boolean;
  keysFile?: string;
}

/** A file as the checkpoint records it (its upstream table). */
export interface RecordedFile {
  filename: string;
  db: string;
  table: string;
  size: number;
}

export interface FileState {
  filename: string;
  offset: number;
  endPos: number;
}

export class LoaderCheckpoint {
  readonly table: string;

  constructor(
    readonly metaSchema: string,
    task: string,
    readonly sourceId: string,
  ) {
    this.table = quoteTable(metaSchema, `${task}_loader_checkpoint`);
  }

  async prepare(c: PacketConnection): Promise<void> {
    await createMetaSchema(c, this.metaSchema);
    await c.exec(`CREATE TABLE IF NOT EXISTS ${this.table} (
      id VARCHAR(128) NOT NULL COMMENT 'source-id',
      filename VARCHAR(255) NOT NULL,
      cp_schema VARCHAR(128) NOT NULL,
      cp_table VARCHAR(128) NOT NULL,
      \`offset\` BIGINT NOT NULL,
      end_pos BIGINT NOT NULL,
      create_time TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
      update_time TIMESTAMP DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
      UNIQUE KEY uk_id_f (id, filename)
    ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4`);
  }

  /** Forgets this source's progress (start-task --remove-meta). */
  async clear(c: PacketConnection): Promise<void> {
    await forgetSource(c, this.table, this.sourceId);
  }

  async load(c: PacketConnection): Promise<Map<string, FileState>> {
    const rows = await c.query(
      `SELECT filename, \`offset\`, end_pos FROM ${this.table} WHERE id = ${quoteString(this.sourceId)}`,
    );
    return new Map(
      rows.map((r) => [
        r.filename!,
        { filename: r.filename!, offset: Number(r.offset), endPos: Number(r.end_pos) },
      ]),
    );
  }

  /** A file's row: `offset` bytes of its `size` imported. */
  private row(f: RecordedFile, offset: number): string {
    return `(${quoteString(this.sourceId)},${quoteString(f.filename)},${quoteString(f.db)},${quoteString(f.table)},${offset},${f.size})`;
  }

  private insertInto(verb: 'INSERT' | 'INSERT IGNORE'): string {
    return `${verb} INTO ${this.table} (id, filename, cp_schema, cp_table, \`offset\`, end_pos) VALUES `;
  }

  /** Records every file of the dump as not yet imported (only files not already recorded). */
  async register(c: PacketConnection, files: RecordedFile[]): Promise<void> {
    for (let i = 0; i < files.length; i += 500) {
      const values = files.slice(i, i + 500).map((f) => this.row(f, 0));
      if (values.length) await c.exec(this.insertInto('INSERT IGNORE') + values.join(','));
    }
  }

  /** The statement that records a file imported; run inside the file's transaction (the file
   * need not be registered: a file imported while the dump runs is recorded only then). */
  doneSQL(f: RecordedFile): string {
    return this.insertInto('INSERT') + this.row(f, f.size) + ' ON DUPLICATE KEY UPDATE `offset` = end_pos';
  }

  /** Load begins while the dump runs: a row says so until the dump has finished. */
  async beginOverlap(c: PacketConnection): Promise<void> {
    await this.register(c, [{ filename: OVERLAP, db: '', table: '', size: 1 }]);
  }

  /** The dump Load imports from has finished. */
  async endOverlap(c: PacketConnection): Promise<void> {
    await c.exec(
      `UPDATE ${this.table} SET \`offset\` = end_pos WHERE id = ${quoteString(this.sourceId)} AND filename = ${quoteString(OVERLAP)}`,
    );
  }

  /** Load began while a dump ran that never finished: the tables it wrote into (`created`: it
   * created the table, whose keys are still to add). */
  async interrupted(c: PacketConnection): Promise<Interrupted[] | undefined> {
    const rows = await c.query(
      `SELECT filename, cp_schema, cp_table, \`offset\` < end_pos AS open FROM ${this.table} WHERE id = ${quoteString(this.sourceId)}`,
    );
    if (!rows.some((r) => r.filename === OVERLAP && r.open === '1')) return undefined;
    const tables = new Map<string, Interrupted>();
    for (const r of rows) {
      if (r.filename === OVERLAP) continue;
      const k = `${r.cp_schema}\0${r.cp_table}`;
      const t = tables.get(k) ?? { db: r.cp_schema!, table: r.cp_table!, created: false };
      if (parseDumpFile(r.filename!)?.kind === 'table-keys') {
        t.created = r.open === '1';
        t.keysFile = r.filename!;
      }
      tables.set(k, t);
    }
    return [...tables.values()];
  }

  /** Forgets this source's rows but those of `keep`. */
  async forgetBut(c: PacketConnection, keep: string[]): Promise<void> {
    const but = keep.length ? ` AND filename NOT IN (${keep.map(quoteString).join(', ')})` : '';
    await c.exec(`DELETE FROM ${this.table} WHERE id = ${quoteString(this.sourceId)}${but}`);
  }
}

/** The row of a Load that began while its dump ran (no data file has this name). */
const OVERLAP = '(dump in progress)';

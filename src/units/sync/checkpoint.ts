// Sync's checkpoint in the target, `<meta-schema>.<task>_syncer_checkpoint` (DM's table name and
// columns). Several appliers commit in parallel, so each keeps its own row, written in the same
// transaction as the rows it applies: the low-water mark it knew (every upstream transaction up
// to there is applied) and the end positions of the transactions it applied beyond it. After a
// crash, Sync restarts from the highest low-water mark and skips the transactions listed beyond
// it: nothing is applied twice and nothing is skipped.
import {
  comparePosition,
  formatPosition,
  parsePosition,
  type BinlogPosition,
} from '../../binlog/position.js';
import type { Location } from '../../binlog/location.js';
import { quoteString, quoteTable } from '../../mysql/connect.js';
import type { SqlSession } from '../../mysql/protocol.js';
import { createMetaSchema, forgetSource } from '../meta.js';

export interface ApplierState {
  lwm: Location;
  applied: string[];
}

export interface Recovery {
  start: Location;
  /** End positions (formatted) of transactions beyond `start` that are already applied. */
  skip: Set<string>;
}

/** The restart point from every row's state (pure). */
export function recover(rows: ApplierState[]): Recovery | undefined {
  if (!rows.length) return undefined;
  let start = rows[0].lwm;
  for (const r of rows) if (comparePosition(r.lwm.pos, start.pos) > 0) start = r.lwm;
  const skip = new Set<string>();
  for (const r of rows) {
    for (const a of r.applied) if (comparePosition(parsePosition(a), start.pos) > 0) skip.add(a);
  }
  return { start, skip };
}

/** The applied list as stored: positions grouped by binlog file (small rows: every commit of
 * an applier rewrites its row, and the target's binlog carries it). */
export function encodeApplied(applied: string[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const a of applied) {
    const p = parsePosition(a);
    (out[p.file] ??= []).push(p.pos);
  }
  return out;
}

export function decodeApplied(info: { applied?: Record<string, number[]> }): string[] {
  const out: string[] = [];
  for (const [file, positions] of Object.entries(info.applied ?? {})) {
    for (const pos of positions) out.push(formatPosition({ file, pos }));
  }
  return out;
}

export class SyncCheckpoint {
  readonly table: string;

  constructor(
    private readonly metaSchema: string,
    task: string,
    private readonly sourceId: string,
  ) {
    this.table = quoteTable(metaSchema, `${task}_syncer_checkpoint`);
  }

  async prepare(c: SqlSession): Promise<void> {
    await createMetaSchema(c, this.metaSchema);
    await c.exec(`CREATE TABLE IF NOT EXISTS ${this.table} (
      id VARCHAR(128) NOT NULL,
      cp_schema VARCHAR(128) NOT NULL,
      cp_table VARCHAR(128) NOT NULL,
      binlog_name VARCHAR(128),
      binlog_pos INT UNSIGNED,
      binlog_gtid TEXT,
      exit_safe_binlog_name VARCHAR(128) DEFAULT '',
      exit_safe_binlog_pos INT UNSIGNED DEFAULT 0,
      exit_safe_binlog_gtid TEXT,
      table_info JSON NOT NULL,
      is_global BOOLEAN,
      create_time TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
      update_time TIMESTAMP DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
      UNIQUE KEY uk_id_schema_table (id, cp_schema, cp_table)
    ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4`);
  }

  /** Forgets this source's progress (start-task --remove-meta). */
  async clear(c: SqlSession): Promise<void> {
    await forgetSource(c, this.table, this.sourceId);
  }

  async load(c: SqlSession): Promise<Recovery | undefined> {
    const rows = await c.query(
      `SELECT binlog_name, binlog_pos, binlog_gtid, table_info FROM ${this.table} WHERE id = ${quoteString(this.sourceId)}`,
    );
    return recover(
      rows.map((r) => ({
        lwm: { pos: { file: r.binlog_name ?? '', pos: Number(r.binlog_pos) }, gtid: r.binlog_gtid ?? '' },
        applied: decodeApplied(JSON.parse(r.table_info ?? '{}') as { applied?: Record<string, number[]> }),
      })),
    );
  }

  /** The statement that records an applier's state (the global row is applier ''). */
  saveSQL(applier: string, state: ApplierState): string {
    const info = quoteString(JSON.stringify({ applied: encodeApplied(state.applied) }));
    return (
      `INSERT INTO ${this.table} (id, cp_schema, cp_table, binlog_name, binlog_pos, binlog_gtid, table_info, is_global) VALUES (` +
      `${quoteString(this.sourceId)}, '', ${quoteString(applier)}, ${quoteString(state.lwm.pos.file)}, ${state.lwm.pos.pos}, ${quoteString(state.lwm.gtid)}, ${info}, ${applier === '' ? 1 : 0}) ` +
      `ON DUPLICATE KEY UPDATE binlog_name = VALUES(binlog_name), binlog_pos = VALUES(binlog_pos), binlog_gtid = VALUES(binlog_gtid), table_info = VALUES(table_info)`
    );
  }
}

/** The global row as one run writes it: the low-water mark, and the end positions of transactions
 * this writer applied beyond it (the recovered list, kept until the mark passes it; DDLs run while
 * a held-back shard transaction keeps the mark behind them). Pure: the run executes the SQL. */
export class GlobalRow {
  private saved = '';
  private beyond: string[] = [];

  constructor(private readonly cp: SyncCheckpoint) {}

  /** A run starts at `lwm`, with `applied` beyond it: the statement saving that. */
  start(lwm: Location, applied: Iterable<string>): string {
    this.beyond = [...applied];
    return this.save(lwm);
  }

  /** The mark is not the one last saved. */
  stale(pos: BinlogPosition): boolean {
    return formatPosition(pos) !== this.saved;
  }

  /** This writer applied the transaction ending at `endText` (the next save records it). */
  applied(endText: string): void {
    this.beyond.push(endText);
  }

  /** The statement saving the row at `lwm`. */
  save(lwm: Location): string {
    this.saved = formatPosition(lwm.pos);
    this.beyond = this.beyond.filter((s) => comparePosition(parsePosition(s), lwm.pos) > 0);
    return this.cp.saveSQL('', { lwm, applied: this.beyond });
  }
}

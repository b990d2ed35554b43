// The validator's state in the target's meta schema, in DM's four tables (names and columns as
// DM's, so DM's tools and queries read them): `<task>_validator_checkpoint` (where it is, its
// counts; ours beside DM's: its mode and stage), `_validator_pending_change` (rows not yet seen as
// expected), `_validator_error_change` (error rows and what the operator made of them) and
// `_validator_table_status`. The checkpoint and the pending rows are written in one transaction,
// so a restart continues from a consistent pair.
import { createHash } from 'node:crypto';
import type { Location } from '../../../binlog/location.js';
import { quoteId, quoteString } from '../../../mysql/connect.js';
import type { SqlSession } from '../../../mysql/protocol.js';
import { createMetaSchema, isMissingMeta, VALIDATOR_META_SUFFIXES } from '../../meta.js';
import {
  decodeExpectation,
  display,
  encodeExpectation,
  FAILURES,
  rowPk,
  type Expectation,
  type Failure,
} from './expect.js';
import type { Counts, Pending } from './pending.js';

/** DM's error row states. */
export const ERROR_STATES = { NewErr: 1, IgnoredErr: 2, ResolvedErr: 3 } as const;
export type ErrorState = keyof typeof ERROR_STATES;

export interface TableStatus {
  src: { db: string; table: string };
  dst: { db: string; table: string };
  stage: 'Running' | 'Stopped';
  message: string;
}

export interface Saved {
  loc: Location;
  processed: Counts;
  mode: 'full' | 'fast';
  stage: 'Running' | 'Stopped';
  pending: Pending[];
  tables: TableStatus[];
}

export interface ErrorRow {
  id: string;
  source: string;
  srcTable: string;
  dstTable: string;
  srcData: string;
  dstData: string;
  errorType: string;
  status: ErrorState;
  time: string;
}

/** DM keeps row_pk in 64 characters: a longer key is kept as its start and a hash. */
function pkText(e: Expectation): string {
  const pk = rowPk(e);
  return pk.length <= 64 ? pk : `${pk.slice(0, 31)}~${createHash('md5').update(pk).digest('hex')}`;
}

const tableName = (t: { db: string; table: string }) => `${quoteId(t.db)}.${quoteId(t.table)}`;

export class ValidatorMeta {
  readonly checkpoint: string;
  readonly pendingTable: string;
  readonly errorTable: string;
  readonly statusTable: string;

  constructor(
    private readonly metaSchema: string,
    task: string,
    private readonly source: string,
  ) {
    const t = (s: string) => `${quoteId(metaSchema)}.${quoteId(task + s)}`;
    [this.checkpoint, this.pendingTable, this.errorTable, this.statusTable] = VALIDATOR_META_SUFFIXES.map(t);
  }

  private get src(): string {
    return quoteString(this.source);
  }

  async prepare(c: SqlSession): Promise<void> {
    await createMetaSchema(c, this.metaSchema);
    const stamps =
      'create_time timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP, update_time timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP';
    await c.exec(`CREATE TABLE IF NOT EXISTS ${this.checkpoint} (
      id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, source VARCHAR(32) NOT NULL,
      binlog_name VARCHAR(128), binlog_pos INT UNSIGNED, binlog_gtid TEXT,
      procd_ins BIGINT UNSIGNED NOT NULL, procd_upd BIGINT UNSIGNED NOT NULL, procd_del BIGINT UNSIGNED NOT NULL,
      revision bigint NOT NULL, mode VARCHAR(8) NOT NULL DEFAULT 'full', stage VARCHAR(16) NOT NULL DEFAULT 'Running',
      ${stamps}, UNIQUE KEY uk_source (source)) ENGINE=InnoDB`);
    await c.exec(`CREATE TABLE IF NOT EXISTS ${this.pendingTable} (
      id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, source VARCHAR(32) NOT NULL,
      schema_name VARCHAR(128) NOT NULL, table_name VARCHAR(128) NOT NULL, row_pk VARCHAR(64) NOT NULL,
      data JSON NOT NULL, revision bigint NOT NULL, ${stamps},
      INDEX idx_source_schema_table_key(source, schema_name, table_name, row_pk), INDEX idx_revision(revision)) ENGINE=InnoDB`);
    await c.exec(`CREATE TABLE IF NOT EXISTS ${this.errorTable} (
      id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, source VARCHAR(32) NOT NULL,
      src_schema_name VARCHAR(128) NOT NULL, src_table_name VARCHAR(128) NOT NULL, row_pk VARCHAR(64) NOT NULL,
      dst_schema_name VARCHAR(128) NOT NULL, dst_table_name VARCHAR(128) NOT NULL,
      data JSON NOT NULL, dst_data JSON NOT NULL, error_type int NOT NULL, status int NOT NULL, ${stamps},
      UNIQUE KEY uk_source_schema_table_key(source, src_schema_name, src_table_name, row_pk), INDEX idx_status(status)) ENGINE=InnoDB`);
    await c.exec(`CREATE TABLE IF NOT EXISTS ${this.statusTable} (
      id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, source VARCHAR(32) NOT NULL,
      src_schema_name VARCHAR(128) NOT NULL, src_table_name VARCHAR(128) NOT NULL,
      dst_schema_name VARCHAR(128) NOT NULL, dst_table_name VARCHAR(128) NOT NULL,
      stage VARCHAR(32) NOT NULL, message VARCHAR(512) NOT NULL, ${stamps},
      UNIQUE KEY uk_source_schema_table_key(source, src_schema_name, src_table_name), INDEX idx_stage(stage)) ENGINE=InnoDB`);
  }

  /** What the last flush saved (undefined: this validator never ran). */
  async load(c: SqlSession): Promise<Saved | undefined> {
    let cp: Record<string, string | null> | undefined;
    try {
      [cp] = await c.query(`SELECT * FROM ${this.checkpoint} WHERE source = ${this.src}`);
    } catch (e) {
      if (isMissingMeta(e)) return undefined;
      throw e;
    }
    if (!cp) return undefined;
    const pending = (
      await c.query(
        `SELECT data FROM ${this.pendingTable} WHERE source = ${this.src} AND revision = ${cp.revision}`,
      )
    ).map((r) => {
      const j = JSON.parse(r.data!) as { e: string; failedSince?: number; failure?: Failure };
      return { e: decodeExpectation(j.e), bytes: 0, failedSince: j.failedSince, failure: j.failure };
    });
    const tables = (await c.query(`SELECT * FROM ${this.statusTable} WHERE source = ${this.src}`)).map(
      (r): TableStatus => ({
        src: { db: r.src_schema_name!, table: r.src_table_name! },
        dst: { db: r.dst_schema_name!, table: r.dst_table_name! },
        stage: r.stage === 'Stopped' ? 'Stopped' : 'Running',
        message: r.message ?? '',
      }),
    );
    return {
      loc: {
        pos: { file: cp.binlog_name ?? '', pos: Number(cp.binlog_pos ?? 0) },
        gtid: cp.binlog_gtid ?? '',
      },
      processed: { insert: Number(cp.procd_ins), update: Number(cp.procd_upd), delete: Number(cp.procd_del) },
      mode: cp.mode === 'fast' ? 'fast' : 'full',
      stage: cp.stage === 'Stopped' ? 'Stopped' : 'Running',
      pending,
      tables,
    };
  }

  /** Saves where the validator is with its pending rows and table statuses, in one transaction. */
  async save(c: SqlSession, s: Saved): Promise<void> {
    const revision = Date.now();
    const stmts = [
      'BEGIN',
      `INSERT INTO ${this.checkpoint} (source, binlog_name, binlog_pos, binlog_gtid, procd_ins, procd_upd, procd_del, revision, mode, stage)
       VALUES (${this.src}, ${quoteString(s.loc.pos.file)}, ${s.loc.pos.pos}, ${quoteString(s.loc.gtid)}, ${s.processed.insert}, ${s.processed.update}, ${s.processed.delete}, ${revision}, ${quoteString(s.mode)}, ${quoteString(s.stage)})
       ON DUPLICATE KEY UPDATE binlog_name = VALUES(binlog_name), binlog_pos = VALUES(binlog_pos), binlog_gtid = VALUES(binlog_gtid),
       procd_ins = VALUES(procd_ins), procd_upd = VALUES(procd_upd), procd_del = VALUES(procd_del), revision = VALUES(revision),
       mode = VALUES(mode), stage = VALUES(stage)`,
      `DELETE FROM ${this.pendingTable} WHERE source = ${this.src}`,
    ];
    for (let i = 0; i < s.pending.length; i += 500) {
      const rows = s.pending.slice(i, i + 500).map((p) => {
        const data = JSON.stringify({
          e: encodeExpectation(p.e),
          failedSince: p.failedSince,
          failure: p.failure,
        });
        return `(${this.src}, ${quoteString(p.e.src.db)}, ${quoteString(p.e.src.table)}, ${quoteString(pkText(p.e))}, ${quoteString(data)}, ${revision})`;
      });
      stmts.push(
        `INSERT INTO ${this.pendingTable} (source, schema_name, table_name, row_pk, data, revision) VALUES ${rows.join(',')}`,
      );
    }
    for (const t of s.tables) {
      stmts.push(`INSERT INTO ${this.statusTable} (source, src_schema_name, src_table_name, dst_schema_name, dst_table_name, stage, message)
        VALUES (${this.src}, ${quoteString(t.src.db)}, ${quoteString(t.src.table)}, ${quoteString(t.dst.db)}, ${quoteString(t.dst.table)}, ${quoteString(t.stage)}, ${quoteString(t.message.slice(0, 512))})
        ON DUPLICATE KEY UPDATE dst_schema_name = VALUES(dst_schema_name), dst_table_name = VALUES(dst_table_name), stage = VALUES(stage), message = VALUES(message)`);
    }
    stmts.push('COMMIT');
    try {
      for (const sql of stmts) await c.exec(sql);
    } catch (e) {
      await c.exec('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }

  /** Records an error row (a row seen again replaces its earlier record, as new). */
  async addError(
    c: SqlSession,
    p: Pending,
    dstData: Record<string, string | null> | undefined,
  ): Promise<void> {
    const e = p.e;
    const data = JSON.stringify(Object.fromEntries((e.row ?? e.key).map(([n, v]) => [n, display(v)])));
    const dst = JSON.stringify(dstData ?? null);
    const type = FAILURES[p.failure!].code;
    await c.exec(`INSERT INTO ${this.errorTable} (source, src_schema_name, src_table_name, row_pk, dst_schema_name, dst_table_name, data, dst_data, error_type, status)
      VALUES (${this.src}, ${quoteString(e.src.db)}, ${quoteString(e.src.table)}, ${quoteString(pkText(e))}, ${quoteString(e.dst.db)}, ${quoteString(e.dst.table)}, ${quoteString(data)}, ${quoteString(dst)}, ${type}, ${ERROR_STATES.NewErr})
      ON DUPLICATE KEY UPDATE dst_schema_name = VALUES(dst_schema_name), dst_table_name = VALUES(dst_table_name), data = VALUES(data),
      dst_data = VALUES(dst_data), error_type = VALUES(error_type), status = VALUES(status)`);
  }

  /** Error rows (of one state, or all). */
  async errors(c: SqlSession, state?: ErrorState): Promise<ErrorRow[]> {
    const rows = await this.tolerant(c, () =>
      c.query(
        `SELECT id, source, src_schema_name, src_table_name, dst_schema_name, dst_table_name, data, dst_data, error_type, status, update_time
         FROM ${this.errorTable} WHERE source = ${this.src}${state ? ` AND status = ${ERROR_STATES[state]}` : ''} ORDER BY id`,
      ),
    );
    const typeText = new Map<number, string>(Object.values(FAILURES).map((f) => [f.code, f.text]));
    const stateName = new Map<number, ErrorState>(
      Object.entries(ERROR_STATES).map(([k, v]) => [v, k as ErrorState]),
    );
    return (rows ?? []).map((r) => ({
      id: r.id!,
      source: r.source!,
      srcTable: tableName({ db: r.src_schema_name!, table: r.src_table_name! }),
      dstTable: tableName({ db: r.dst_schema_name!, table: r.dst_table_name! }),
      srcData: r.data!,
      dstData: r.dst_data!,
      errorType: typeText.get(Number(r.error_type)) ?? String(r.error_type),
      status: stateName.get(Number(r.status)) ?? 'NewErr',
      time: r.update_time ?? '',
    }));
  }

  /** Error rows by state. */
  async errorCounts(c: SqlSession): Promise<Record<ErrorState, number>> {
    const out: Record<ErrorState, number> = { NewErr: 0, IgnoredErr: 0, ResolvedErr: 0 };
    const rows = await this.tolerant(c, () =>
      c.query(`SELECT status, COUNT(*) n FROM ${this.errorTable} WHERE source = ${this.src} GROUP BY status`),
    );
    for (const r of rows ?? []) {
      const name = (Object.keys(ERROR_STATES) as ErrorState[]).find(
        (k) => ERROR_STATES[k] === Number(r.status),
      );
      if (name) out[name] = Number(r.n);
    }
    return out;
  }

  /** DM's ignore-error / resolve-error (a new state) and clear-error (deleted), for one id or all. */
  async operateError(c: SqlSession, op: 'ignore' | 'resolve' | 'clear', id?: number): Promise<number> {
    const where = `source = ${this.src}${id === undefined ? '' : ` AND id = ${id}`}`;
    const r = await this.tolerant(c, () =>
      op === 'clear'
        ? c.exec(`DELETE FROM ${this.errorTable} WHERE ${where}`)
        : c.exec(
            `UPDATE ${this.errorTable} SET status = ${op === 'ignore' ? ERROR_STATES.IgnoredErr : ERROR_STATES.ResolvedErr} WHERE ${where}`,
          ),
    );
    return (r as { affectedRows?: number } | undefined)?.affectedRows ?? 0;
  }

  /** Forgets this source's validation (start-task --remove-meta). */
  async clear(c: SqlSession): Promise<void> {
    for (const t of [this.checkpoint, this.pendingTable, this.errorTable, this.statusTable])
      await this.tolerant(c, () => c.exec(`DELETE FROM ${t} WHERE source = ${this.src}`));
  }

  private async tolerant<T>(c: SqlSession, f: () => Promise<T>): Promise<T | undefined> {
    try {
      return await f();
    } catch (e) {
      if (isMissingMeta(e)) return undefined;
      throw e;
    }
  }
}

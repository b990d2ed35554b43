// A very large upstream transaction applied as it is read: its row changes go to the target in
// chunks, inside one target transaction on a session of its own, which commits with Sync's
// checkpoint at the transaction's end, or rolls back (nothing of it is applied before its end, so
// a stop or crash anywhere in it is safe). Sync's memory then stays bounded whatever the size of
// an upstream transaction. One chunk is on the wire while the next is decoded and compiled. When
// the target takes LOAD DATA LOCAL, runs of inserts into one table go as LOAD DATA rows
// (row-tsv.ts): a bulk INSERT … SELECT or LOAD DATA upstream is most such transactions.
import type { OkInfo, SqlSession } from '../../mysql/protocol.js';
import { LoadFeed } from '../../mysql/load-feed.js';
import { ByteBuf, refuseWarnings, takesLoadDataLocal } from '../../mysql/tsv.js';
import { roundTrips } from './applier.js';
import { batchSQL, compactSQL, type RowChange } from './dml.js';
import { tsvLoadSQL, tsvRows } from './row-tsv.js';

/** When a transaction is applied as it is read: once this much of it is held (rows or bytes of
 * row events; decoded rows take several times their bytes). */
export interface StreamAt {
  rows: number;
  bytes: number;
}
export const STREAM_AT: StreamAt = { rows: 10_000, bytes: 4 << 20 };

/** Whether the transaction being read holds enough to be taken as it is read (Sync applies it,
 * the validator takes its rows). */
export function streamDue(held: { heldRows: number; heldBytes: number }, at: StreamAt = STREAM_AT): boolean {
  return held.heldRows >= at.rows || held.heldBytes >= at.bytes;
}

/** A run of at least this many inserts into one table goes as LOAD DATA rows. */
const TSV_MIN_ROWS = 100;

/** A round trip: SQL, or a LOAD DATA with its rows (`hold`: it may stay open for the next chunk's
 * rows of its table; not for a table with an AUTO_INCREMENT column, see TargetTable). */
export type StreamStep = string | { sql: string; rows: Buffer; table: string; hold: boolean };

/** The round trips of a chunk of row changes, in order; with `tsv` (the session takes LOAD DATA
 * LOCAL) runs of inserts into a table that allows it become LOAD DATA rows. Pure. */
export function streamSteps(
  changes: RowChange[],
  safe: boolean,
  compact: boolean,
  tsv: boolean,
): StreamStep[] {
  const sqlOf = (list: RowChange[]) => roundTrips(compact ? compactSQL(list, safe) : batchSQL(list, safe));
  if (!tsv) return sqlOf(changes);
  const steps: StreamStep[] = [];
  let from = 0; // the first change not in a step yet
  for (let i = 0; i < changes.length;) {
    const { t, op } = changes[i];
    let j = i + 1;
    if (op === 'insert' && t.tsv)
      while (j < changes.length && changes[j].op === 'insert' && changes[j].t === t) j++;
    if (j - i >= TSV_MIN_ROWS) {
      const out = new ByteBuf(1 << 16);
      if (tsvRows(t, changes, out, i, j)) {
        if (from < i) steps.push(...sqlOf(changes.slice(from, i)));
        steps.push({ sql: tsvLoadSQL(t, safe), rows: out.view(), table: t.quoted, hold: !t.autoIncrement });
        from = j;
      }
    }
    i = j;
  }
  if (from < changes.length) steps.push(...sqlOf(from ? changes.slice(from) : changes));
  return steps;
}

/** A target session that may take LOAD DATA LOCAL (opened offering it). */
export type BulkSession = SqlSession & {
  loadLocal?(sql: string, data: AsyncIterable<Buffer>): Promise<OkInfo>;
};

/** Whether `conn` takes LOAD DATA LOCAL: it can send files, and the server takes them
 * (takesLoadDataLocal). */
export async function takesLoadData(conn: BulkSession): Promise<boolean> {
  return !!conn.loadLocal && (await takesLoadDataLocal(conn));
}

export interface StreamFailure {
  error: unknown;
  /** The round trip the target refused, when it was the target. */
  sql?: string;
}

export class TxnStream {
  private sending: Promise<void> = Promise.resolve();
  /** The LOAD DATA sent last, while it takes more rows (the next chunk's rows for its table go
   * into it). */
  private feed?: { load: LoadFeed; table: string };
  private begun = false;
  /** The first failure: the rest of the transaction is read (for its position) and dropped. */
  failure?: StreamFailure;
  /** Row changes sent so far. */
  rows = 0;

  /** `tsv`: the session takes LOAD DATA LOCAL (takesLoadData). */
  constructor(
    private readonly conn: BulkSession,
    private readonly safe: boolean,
    private readonly compact: boolean,
    private readonly tsv = false,
  ) {}

  /** Builds a chunk's round trips while the chunk before it is on the wire, and sends them once
   * that one is done; resolves then. */
  async send(changes: RowChange[]): Promise<void> {
    if (this.failure) return;
    const steps = streamSteps(changes, this.safe, this.compact, this.tsv);
    await this.sending;
    if (this.failure) return;
    this.rows += changes.length;
    if (!this.begun) steps.unshift('BEGIN');
    this.begun = true;
    this.sending = this.run(steps);
  }

  /** Sends `steps` in order; resolves when the last one is on its way (a LOAD DATA may still take
   * the next chunk's rows). */
  private async run(steps: StreamStep[]): Promise<void> {
    for (const step of steps) {
      const sql = typeof step === 'string' ? step : step.sql;
      try {
        if (typeof step !== 'string' && this.feed?.load.sql === sql && (await this.feed.load.push(step.rows)))
          continue;
        if (!(await this.endLoad())) return;
        if (typeof step === 'string') await this.conn.exec(step);
        else {
          this.feed = {
            load: new LoadFeed(this.conn.loadLocal!.bind(this.conn), sql, step.rows),
            table: step.table,
          };
          if (!step.hold && !(await this.endLoad())) return;
        }
      } catch (error) {
        this.fail(error, sql);
        return;
      }
    }
  }

  /** Ends the LOAD DATA taking rows, if any, and refuses its warnings; false when it failed (the
   * stream's failure, with the LOAD DATA's statement). */
  private async endLoad(): Promise<boolean> {
    const feed = this.feed;
    if (!feed) return true;
    this.feed = undefined;
    try {
      const ok = await feed.load.finish();
      const policy = this.safe ? 'replace' : 'error';
      const what = `rows of a large transaction into ${feed.table}`;
      await refuseWarnings(this.conn, ok, policy, what, "raise the target's max_error_count to see why");
      return true;
    } catch (error) {
      this.fail(error, feed.load.sql);
      return false;
    }
  }

  /** Waits for the round trips sent, the last LOAD DATA ended. */
  private async sent(): Promise<void> {
    await this.sending;
    await this.endLoad();
  }

  /** Stops applying: `error` is what the transaction ends with. */
  fail(error: unknown, sql?: string): void {
    this.failure ??= { error, sql };
  }

  /** Waits for the chunk on the wire; the failure, if any. */
  async settle(): Promise<StreamFailure | undefined> {
    await this.sent();
    return this.failure;
  }

  /** Commits everything sent, with `checkpoint` (the statement saving Sync's position after it). */
  async commit(checkpoint: string): Promise<void> {
    await this.sent();
    if (this.failure) throw this.failure.error;
    const trips = this.begun ? [checkpoint, 'COMMIT'] : ['BEGIN', checkpoint, 'COMMIT'];
    await this.conn.exec(trips.join(';\n'));
  }

  /** Drops everything sent (the session stays usable for the next stream). */
  async rollback(): Promise<void> {
    await this.sent();
    if (this.begun) await this.conn.exec('ROLLBACK');
  }
}

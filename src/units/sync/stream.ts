// A very large upstream transaction applied as it is read: its row changes go to the target in
// chunks, inside one target transaction on a session of its own, which commits with Sync's
// checkpoint at the transaction's end, or rolls back (nothing of it is applied before its end, so
// a stop or crash anywhere in it is safe). Sync's memory then stays bounded whatever the size of
// an upstream transaction. One chunk is on the wire while the next is decoded and compiled.
import type { SqlSession } from '../../mysql/protocol.js';
import { roundTrips } from './applier.js';
import { batchSQL, compactSQL, type RowChange } from './dml.js';

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

export interface StreamFailure {
  error: unknown;
  /** The round trip the target refused, when it was the target. */
  sql?: string;
}

export class TxnStream {
  private sending: Promise<void> = Promise.resolve();
  private begun = false;
  /** The first failure: the rest of the transaction is read (for its position) and dropped. */
  failure?: StreamFailure;
  /** Row changes sent so far. */
  rows = 0;

  constructor(
    private readonly conn: SqlSession,
    private readonly safe: boolean,
    private readonly compact: boolean,
  ) {}

  /** Sends a chunk's statements once the chunk before it is done; resolves when that one is. */
  async send(changes: RowChange[]): Promise<void> {
    await this.sending;
    if (this.failure) return;
    this.rows += changes.length;
    const statements = this.compact ? compactSQL(changes, this.safe) : batchSQL(changes, this.safe);
    if (!this.begun) statements.unshift('BEGIN');
    this.begun = true;
    this.sending = this.run(roundTrips(statements));
  }

  private async run(trips: string[]): Promise<void> {
    for (const sql of trips) {
      try {
        await this.conn.exec(sql);
      } catch (error) {
        this.fail(error, sql);
        return;
      }
    }
  }

  /** Stops applying: `error` is what the transaction ends with. */
  fail(error: unknown, sql?: string): void {
    this.failure ??= { error, sql };
  }

  /** Waits for the chunk on the wire; the failure, if any. */
  async settle(): Promise<StreamFailure | undefined> {
    await this.sending;
    return this.failure;
  }

  /** Commits everything sent, with `checkpoint` (the statement saving Sync's position after it). */
  async commit(checkpoint: string): Promise<void> {
    await this.sending;
    const trips = this.begun ? [checkpoint, 'COMMIT'] : ['BEGIN', checkpoint, 'COMMIT'];
    await this.conn.exec(trips.join(';\n'));
  }

  /** Drops everything sent (the session stays usable for the next stream). */
  async rollback(): Promise<void> {
    await this.sending;
    if (this.begun) await this.conn.exec('ROLLBACK');
  }
}

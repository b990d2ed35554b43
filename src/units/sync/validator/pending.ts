// The rows the validator has yet to see as expected on the target: one entry per row identity (the
// latest change wins), with when it first failed a check. A row that still fails
// `row-error-delay` after its first failure becomes an error row. Pure: the caller passes the clock.
import { identity, sizeOf, type Expectation, type Failure, type Op } from './expect.js';

export interface Pending {
  e: Expectation;
  bytes: number;
  /** When a check first found it not as expected (ms). */
  failedSince?: number;
  failure?: Failure;
}

export type Counts = Record<Op, number>;

export const zeroCounts = (): Counts => ({ insert: 0, update: 0, delete: 0 });

export class PendingRows {
  private readonly rows = new Map<string, Pending>();
  /** Entries of a transaction still being read (a large one, taken as it is read): neither checked
   * nor saved until it ends and Sync has applied all of it (release). */
  private readonly holding = new Set<Pending>();
  /** Changes of the transaction being read: counted as processed when it is released (the saved
   * state is from before the transaction: a restart reads, and counts, them again). */
  private readonly heldCounts = zeroCounts();
  /** Row changes taken (DM's processedRowsStatus). */
  readonly processed = zeroCounts();
  private readonly counts = zeroCounts();
  private bytesTotal = 0;

  get size(): number {
    return this.rows.size;
  }

  get bytes(): number {
    return this.bytesTotal;
  }

  /** Pending rows by the operation that last changed them (DM's pendingRowsStatus). */
  byOp(): Counts {
    return { ...this.counts };
  }

  /** A change Sync applied: its row is pending again (a new change resets its failure). `held`:
   * a change of the transaction being read (see holding). */
  add(e: Expectation, processed = true, held = false): void {
    if (processed) (held ? this.heldCounts : this.processed)[e.op]++;
    this.remove(identity(e));
    const p: Pending = { e, bytes: sizeOf(e) };
    this.rows.set(identity(e), p);
    if (held) this.holding.add(p);
    this.counts[e.op]++;
    this.bytesTotal += p.bytes;
  }

  /** Restores a persisted entry. */
  restore(p: Pending): void {
    this.add(p.e, false);
    const got = this.rows.get(identity(p.e))!;
    got.failedSince = p.failedSince;
    got.failure = p.failure;
  }

  /** The transaction being read ended and Sync has applied it: its entries are checked from now on. */
  release(): void {
    this.holding.clear();
    for (const op of ['insert', 'update', 'delete'] as const) {
      this.processed[op] += this.heldCounts[op];
      this.heldCounts[op] = 0;
    }
  }

  private remove(id: string): void {
    const old = this.rows.get(id);
    if (!old) return;
    this.rows.delete(id);
    this.holding.delete(old);
    this.counts[old.e.op]--;
    this.bytesTotal -= old.bytes;
  }

  /** Every entry now but those held (a snapshot: the checks run on it while new changes arrive). */
  snapshot(): Pending[] {
    const all = [...this.rows.values()];
    return this.holding.size ? all.filter((p) => !this.holding.has(p)) : all;
  }

  /** A check's outcome for `p`, if `p` is still the entry of its row (a newer change replaced it
   * otherwise, and is checked next time). Returns the entry when it becomes an error row. */
  settle(
    p: Pending,
    failure: Failure | undefined,
    now: number,
    rowErrorDelayMs: number,
  ): Pending | undefined {
    const id = identity(p.e);
    if (this.rows.get(id) !== p) return undefined;
    if (!failure) {
      this.remove(id);
      return undefined;
    }
    p.failure = failure;
    p.failedSince ??= now;
    if (now - p.failedSince < rowErrorDelayMs) return undefined;
    this.remove(id);
    return p;
  }

  /** Drops the entries of target tables for which `drop` says so (a table the validator stops). */
  dropWhere(drop: (e: Expectation) => boolean): void {
    for (const [id, p] of [...this.rows]) if (drop(p.e)) this.remove(id);
  }
}

/** `insert/update/delete: 1/2/3`, as DM prints row counts. */
export function formatCounts(c: Counts): string {
  return `insert/update/delete: ${c.insert}/${c.update}/${c.delete}`;
}

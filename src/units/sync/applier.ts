// One applier: a target connection that commits queued upstream transactions in order, several
// per target transaction (`syncers.batch`), each commit carrying this applier's checkpoint row.
import { isServerError, ServerError, type SqlSession } from '../../mysql/protocol.js';
import { LOCK } from '../../mysql/errno.js';
import type { ApplierState } from './checkpoint.js';
import type { Location } from '../../binlog/location.js';
import type { Txn } from './txn.js';
import { batchSQL, compactSQL, transactionSQL, type RowChange } from './dml.js';
import type { Dependency } from './causality.js';
import type { SyncMeter } from '../../metrics/registry.js';

export interface CompiledTxn {
  txn: Txn;
  /** Its row changes, in order. */
  changes: RowChange[];
  /** Its statements, when given (a DDL); else built from `changes` when needed. */
  sql?: string[];
  safe?: boolean;
  /** syncers.compact/multiple-rows: a batch's changes are merged (compactSQL). */
  compact?: boolean;
  /** Transactions of other appliers that must be committed before this one runs. */
  deps?: Dependency[];
}

/** How an applier learns that other appliers have committed what a transaction depends on. */
export interface DependencyWait {
  met(deps: Dependency[]): boolean;
  /** Calls `ready` once `deps` are met. */
  wait(deps: Dependency[], ready: () => void): void;
}

export interface ApplierOptions {
  index: number;
  conn: SqlSession;
  /** Upstream transactions per target transaction at most (syncers.batch). */
  batch: number;
  /** The low-water mark once these transactions are applied too (what their commit records). */
  lwm: (txns: Txn[]) => Location;
  /** The statement that records this applier's checkpoint row. */
  saveSQL: (state: ApplierState) => string;
  /** Whether a transaction's end is beyond the low-water mark (kept in the applied list). */
  isBeyond: (pos: Txn['end'], lwm: Location) => boolean;
  onCommit: (applier: Applier, txns: Txn[]) => void;
  /** The applier stopped on `e` while applying `txn` (`sql`: the statement, when known). */
  onError: (e: unknown, txn: CompiledTxn, sql?: string) => void;
  deps: DependencyWait;
  /** DM's Sync metrics (txn duration, finished jobs, queue size). */
  meter?: SyncMeter;
}

function changesOf(group: CompiledTxn[]): RowChange[] {
  return group.length === 1 ? group[0].changes : group.flatMap((g) => g.changes);
}

type Beyond = { pos: Txn['end']; text: string };

/** One target transaction's worth of queued transactions, with its statements. */
interface Group {
  txns: CompiledTxn[];
  changes: RowChange[];
  statements: string[];
}

/** The statements of one transaction on its own, in order. */
export function statementsOf(t: CompiledTxn): string[] {
  return (t.sql ??= transactionSQL(t.changes, !!t.safe));
}

const LOCK_RETRIES = 5;

/** Most SQL bytes sent in one round trip. */
const ROUND_TRIP_BYTES = 4 << 20;

/** Statements joined into multi-statement round trips of at most ROUND_TRIP_BYTES (a longer
 * statement goes alone). */
export function roundTrips(statements: readonly string[]): string[] {
  const out: string[] = [];
  let buf = '';
  for (const s of statements) {
    if (buf && buf.length + s.length > ROUND_TRIP_BYTES) {
      out.push(buf);
      buf = s;
    } else buf = buf ? buf + ';\n' + s : s;
  }
  if (buf) out.push(buf);
  return out;
}

export class Applier {
  private readonly queue: CompiledTxn[] = [];
  /** The transactions this applier committed beyond the mark its row records. */
  private beyond: Beyond[] = [];
  private wake?: () => void;
  private idleWaiters: (() => void)[] = [];
  private running = false;
  private stopped = false;
  failure?: unknown;
  private failing?: CompiledTxn;
  private failingSQL?: string;

  readonly index: number;
  private readonly conn: SqlSession;
  private readonly batch: number;
  private readonly lwm: ApplierOptions['lwm'];
  private readonly saveSQL: ApplierOptions['saveSQL'];
  private readonly isBeyond: ApplierOptions['isBeyond'];
  private readonly onCommit: ApplierOptions['onCommit'];
  private readonly onError: ApplierOptions['onError'];
  private readonly deps: DependencyWait;
  private readonly meter?: SyncMeter;

  constructor(o: ApplierOptions) {
    ({
      index: this.index,
      conn: this.conn,
      batch: this.batch,
      lwm: this.lwm,
      saveSQL: this.saveSQL,
      isBeyond: this.isBeyond,
      onCommit: this.onCommit,
      onError: this.onError,
      deps: this.deps,
      meter: this.meter,
    } = o);
  }

  private depWake?: () => void;

  private ready(t: CompiledTxn): boolean {
    return !t.deps?.length || this.deps.met(t.deps);
  }

  get pending(): number {
    return this.queue.length + (this.running ? 1 : 0) + (this.next ? 1 : 0);
  }

  /** Row changes queued and not yet sent. */
  queuedChanges = 0;

  enqueue(t: CompiledTxn): void {
    this.queue.push(t);
    this.queuedChanges += t.changes.length;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Resolves when everything queued is committed. */
  idle(): Promise<void> {
    if (!this.queue.length && !this.running && !this.next) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
    this.depWake?.();
    this.idleWaiters.splice(0).forEach((r) => r());
  }

  /** The next group, taken while the commit before it was on the target. */
  private next?: Group;

  /** The queue's next target transaction (its first transaction ready): it ends before a
   * transaction whose dependencies are not committed yet, or at `batch` transactions. */
  private take(): Group {
    let n = 1;
    while (n < this.queue.length && n < this.batch && this.ready(this.queue[n])) n++;
    const txns = this.queue.splice(0, n);
    for (const g of txns) this.queuedChanges -= g.changes.length;
    const changes = changesOf(txns);
    const safe = txns.some((g) => g.safe);
    return {
      txns,
      changes,
      statements: txns[0].compact ? compactSQL(changes, safe) : batchSQL(changes, safe),
    };
  }

  /** While a commit is on the target: the next group's statements are built (when the reader
   * is ahead, as while behind, its transactions are queued), so the next commit goes out as soon
   * as this one is done instead of after building them. */
  private prepare(): void {
    if (!this.next && !this.stopped && this.queue.length && this.ready(this.queue[0]))
      this.next = this.take();
  }

  async run(): Promise<void> {
    while (!this.stopped) {
      const group = this.next;
      this.next = undefined;
      if (group) await this.apply(group);
      else if (!this.queue.length) {
        this.idleWaiters.splice(0).forEach((r) => r());
        await new Promise<void>((r) => (this.wake = r));
      } else if (!this.ready(this.queue[0])) {
        // Wait (between target transactions: everything before is committed) for the other
        // appliers' transactions this one depends on.
        const deps = this.queue[0].deps!;
        await new Promise<void>((r) => {
          this.depWake = r;
          this.deps.wait(deps, r);
        });
        this.depWake = undefined;
      } else await this.apply(this.take());
    }
    this.idleWaiters.splice(0).forEach((r) => r());
  }

  /** Commits `group` with this applier's checkpoint row; a lock conflict: again; a statement the
   * target refuses: one transaction at a time, to name the one; a failure stops the applier. */
  private async apply(group: Group): Promise<void> {
    const { txns } = group;
    this.running = true;
    try {
      try {
        const t0 = performance.now();
        for (let attempt = 1; ; attempt++) {
          try {
            await this.commit(group);
            this.meter?.committed(
              this.index,
              (performance.now() - t0) / 1000,
              group.changes,
              this.queue.length,
            );
            break;
          } catch (e) {
            // A deadlock or lock wait timeout (appliers never change the same row, but their locks
            // on index gaps can meet, as can another client's): roll back and try again.
            if (!isServerError(e, LOCK) || attempt >= LOCK_RETRIES) throw e;
            await this.conn.exec('ROLLBACK');
          }
        }
        this.onCommit(
          this,
          txns.map((g) => g.txn),
        );
      } catch (e) {
        if (!(e instanceof ServerError)) throw e;
        // Find the transaction and statement the target refuses: one at a time, statement by statement.
        await this.conn.exec('ROLLBACK');
        for (const g of txns) {
          this.failing = g;
          const t0 = performance.now();
          await this.commitAlone(g);
          this.meter?.committed(this.index, (performance.now() - t0) / 1000, g.changes, this.queue.length);
          this.onCommit(this, [g.txn]);
        }
        this.failing = undefined;
      }
    } catch (e) {
      this.failure = e;
      this.stopped = true;
      this.onError(e, this.failing ?? txns[0], this.failingSQL);
      await this.conn.exec('ROLLBACK').catch(() => undefined);
    } finally {
      this.running = false;
    }
  }

  /** This applier's checkpoint row once `txns` are applied too: the mark their commit reaches, and
   * the transactions it applied beyond it (kept as `beyond` once the commit lands). */
  private checkpoint(txns: CompiledTxn[]): { sql: string; beyond: Beyond[] } {
    const lwm = this.lwm(txns.map((g) => g.txn));
    const beyond = this.beyond.filter((b) => this.isBeyond(b.pos, lwm));
    for (const { txn } of txns)
      if (this.isBeyond(txn.end, lwm)) beyond.push({ pos: txn.end, text: txn.endText });
    return { sql: this.saveSQL({ lwm, applied: beyond.map((b) => b.text) }), beyond };
  }

  private async commit(group: Group): Promise<void> {
    const cp = this.checkpoint(group.txns);
    const trips = roundTrips(['BEGIN', ...group.statements, cp.sql, 'COMMIT']);
    for (let i = 0; i < trips.length; i++) {
      const reply = this.conn.exec(trips[i]);
      if (i === trips.length - 1) this.prepare();
      await reply;
    }
    this.beyond = cp.beyond;
  }

  private async commitAlone(g: CompiledTxn): Promise<void> {
    const cp = this.checkpoint([g]);
    await this.conn.exec('BEGIN');
    for (const s of statementsOf(g)) {
      this.failingSQL = s;
      await this.conn.exec(s);
    }
    this.failingSQL = undefined;
    await this.conn.exec(cp.sql);
    await this.conn.exec('COMMIT');
    this.beyond = cp.beyond;
  }
}

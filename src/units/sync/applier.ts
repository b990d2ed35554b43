// One applier: a target connection that commits queued upstream transactions in order, several
// per target transaction (`syncers.batch`), each commit carrying this applier's checkpoint row.
import { ServerError, type PacketConnection } from '../../mysql/protocol.js';
import type { ApplierState, Mark } from './checkpoint.js';
import type { Txn } from './txn.js';
import { compactSQL, type RowChange } from './dml.js';
import type { Dependency } from './causality.js';

export interface CompiledTxn {
  txn: Txn;
  /** The transaction's statements, in order. */
  sql: string[];
  /** Its row changes, when syncers.compact/multiple-rows merge them across the batch. */
  changes?: RowChange[];
  safe?: boolean;
  /** Transactions of other appliers that must be committed before this one runs. */
  deps?: Dependency[];
}

/** How an applier learns that other appliers have committed what a transaction depends on. */
export interface DependencyWait {
  met(deps: Dependency[]): boolean;
  /** Calls `ready` once `deps` are met. */
  wait(deps: Dependency[], ready: () => void): void;
}

/** Most SQL bytes sent in one round trip. */
const ROUND_TRIP_BYTES = 4 << 20;

export class Applier {
  private readonly queue: CompiledTxn[] = [];
  private beyond: { pos: Txn['end']; text: string }[] = [];
  private wake?: () => void;
  private idleWaiters: (() => void)[] = [];
  private running = false;
  private stopped = false;
  failure?: unknown;
  private failing?: CompiledTxn;
  private failingSQL?: string;

  constructor(
    readonly index: number,
    private readonly conn: PacketConnection,
    private readonly batch: number,
    /** The low-water mark now (every transaction up to it is applied). */
    private readonly lwm: () => Mark,
    private readonly saveSQL: (state: ApplierState) => string,
    private readonly isBeyond: (pos: Txn['end'], lwm: Mark) => boolean,
    private readonly onCommit: (applier: Applier, txns: Txn[]) => void,
    private readonly onError: (e: unknown, txn: CompiledTxn, sql?: string) => void,
    private readonly deps: DependencyWait,
  ) {}

  private depWake?: () => void;

  private ready(t: CompiledTxn): boolean {
    return !t.deps?.length || this.deps.met(t.deps);
  }

  get pending(): number {
    return this.queue.length + (this.running ? 1 : 0);
  }

  /** Statements queued and not yet sent. */
  queuedStatements = 0;

  enqueue(t: CompiledTxn): void {
    this.queue.push(t);
    this.queuedStatements += t.sql.length;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Resolves when everything queued is committed. */
  idle(): Promise<void> {
    if (!this.queue.length && !this.running) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
    this.depWake?.();
    this.idleWaiters.splice(0).forEach((r) => r());
  }

  async run(): Promise<void> {
    while (!this.stopped) {
      if (!this.queue.length) {
        this.idleWaiters.splice(0).forEach((r) => r());
        await new Promise<void>((r) => (this.wake = r));
        continue;
      }
      if (!this.ready(this.queue[0])) {
        // Wait (between target transactions: everything before is committed) for the other
        // appliers' transactions this one depends on.
        const deps = this.queue[0].deps!;
        await new Promise<void>((r) => {
          this.depWake = r;
          this.deps.wait(deps, r);
        });
        this.depWake = undefined;
        continue;
      }
      // A target transaction ends before a transaction whose dependencies are not committed yet.
      let n = 1;
      while (n < this.queue.length && n < this.batch && this.ready(this.queue[n])) n++;
      const group = this.queue.splice(0, n);
      for (const g of group) this.queuedStatements -= g.sql.length;
      this.running = true;
      try {
        try {
          await this.commit(group, false);
          this.onCommit(
            this,
            group.map((g) => g.txn),
          );
        } catch (e) {
          if (!(e instanceof ServerError)) throw e;
          // Find the transaction and statement the target refuses: one at a time, statement by statement.
          await this.conn.exec('ROLLBACK');
          this.beyond.splice(this.beyond.length - group.length);
          for (const g of group) {
            this.failing = g;
            await this.commit([g], true);
            this.onCommit(this, [g.txn]);
          }
          this.failing = undefined;
        }
      } catch (e) {
        this.failure = e;
        this.stopped = true;
        this.onError(e, this.failing ?? group[0], this.failingSQL);
        await this.conn.exec('ROLLBACK').catch(() => undefined);
        break;
      } finally {
        this.running = false;
      }
    }
    this.idleWaiters.splice(0).forEach((r) => r());
  }

  private async commit(group: CompiledTxn[], oneByOne: boolean): Promise<void> {
    const lwm = this.lwm();
    this.beyond = this.beyond.filter((b) => this.isBeyond(b.pos, lwm));
    for (const g of group) this.beyond.push({ pos: g.txn.end, text: g.txn.endText });
    if (oneByOne) {
      await this.conn.exec('BEGIN');
      for (const s of group[0].sql) {
        this.failingSQL = s;
        await this.conn.exec(s);
      }
      this.failingSQL = undefined;
      await this.conn.exec(this.saveSQL({ lwm, applied: this.beyond.map((b) => b.text) }));
      await this.conn.exec('COMMIT');
      return;
    }
    let buf = 'BEGIN';
    const statements = group[0].changes
      ? compactSQL(
          group.flatMap((g) => g.changes!),
          group.some((g) => g.safe),
        )
      : group.flatMap((g) => g.sql);
    {
      for (const s of statements) {
        if (buf.length + s.length > ROUND_TRIP_BYTES) {
          await this.conn.exec(buf);
          buf = s;
        } else buf += ';\n' + s;
      }
    }
    buf += ';\n' + this.saveSQL({ lwm, applied: this.beyond.map((b) => b.text) }) + ';\nCOMMIT';
    await this.conn.exec(buf);
  }
}

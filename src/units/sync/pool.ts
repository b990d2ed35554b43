// The appliers of a run and the causality that spreads transactions over them: a transaction
// goes to the applier owning its keys (with dependencies on the other owners), else to the one
// being filled, so a commit carries several upstream transactions.
import type { SyncMeter } from '../../metrics/registry.js';
import { comparePosition } from '../../binlog/position.js';
import type { SqlSession } from '../../mysql/protocol.js';
import { Applier, type CompiledTxn } from './applier.js';
import { Causality, type Dependency } from './causality.js';
import type { SyncCheckpoint } from './checkpoint.js';
import type { LowWaterMark } from './progress.js';
import type { Compiled } from './compile.js';
import type { Txn } from './txn.js';

export interface PoolOptions {
  /** One target session per applier. */
  sessions: SqlSession[];
  /** Upstream transactions per target transaction at most (syncers.batch). */
  batch: number;
  /** The low-water mark: each commit records it, and completes its transactions in it. */
  lwm: LowWaterMark;
  /** Writes each applier's checkpoint row. */
  checkpoint: SyncCheckpoint;
  onError: (e: unknown, t: CompiledTxn, sql?: string) => void;
  meter?: SyncMeter;
}

export class ApplierPool {
  private readonly appliers: Applier[] = [];
  private readonly causality: Causality;
  private readonly depWaiters: { deps: Dependency[]; ready: () => void }[] = [];
  /** The applier free transactions go to until it holds a batch. */
  private filling = 0;

  constructor(private readonly o: PoolOptions) {
    this.causality = new Causality(o.sessions.length, () => this.pick());
    o.sessions.forEach((conn, i) => {
      const a = new Applier({
        index: i,
        conn,
        batch: o.batch,
        lwm: (txns) => o.lwm.markWith(txns),
        saveSQL: (s) => o.checkpoint.saveSQL(`applier-${i}`, s),
        isBeyond: (pos, lwm) => comparePosition(pos, lwm.pos) > 0,
        onCommit: (ap, txns) => this.committed(ap, txns),
        onError: o.onError,
        meter: o.meter,
        deps: {
          met: (d) => this.causality.met(d),
          wait: (deps, ready) => this.depWaiters.push({ deps, ready }),
        },
      });
      this.appliers.push(a);
      void a.run();
    });
  }

  /** Free transactions fill one applier with up to `batch` changes (DM's batch: DMLs per target
   * transaction) before the next gets any: a commit then carries several upstream transactions
   * (one round trip, one checkpoint row, one target commit for all of them) instead of round
   * robin's one or two, and large transactions still spread out. */
  private pick(): number {
    const a = this.appliers;
    if (a[this.filling].queuedChanges < this.o.batch) return this.filling;
    let best = this.filling;
    for (let k = 1; k < a.length; k++) {
      const i = (this.filling + k) % a.length;
      if (a[i].queuedChanges < a[best].queuedChanges) best = i;
    }
    return (this.filling = best);
  }

  private committed(ap: Applier, txns: Txn[]): void {
    for (const t of txns) this.o.lwm.complete(t);
    this.causality.commit(ap.index, txns[txns.length - 1].seq);
    const w = this.depWaiters;
    for (let k = w.length - 1; k >= 0; k--) {
      if (this.causality.met(w[k].deps)) w.splice(k, 1)[0].ready();
    }
  }

  enqueue(txn: Txn, compiled: Compiled, safe: boolean, compact: boolean): void {
    const a = this.causality.assign(compiled.keys, txn.seq);
    const ap = this.appliers[a.applier];
    ap.enqueue({ txn, changes: compiled.changes, safe, compact, deps: a.deps });
    this.o.meter?.added(a.applier, compiled.changes, ap.pending);
  }

  /** Resolves when everything queued is committed (or an applier stopped). */
  drain(): Promise<unknown> {
    return Promise.all(this.appliers.map((a) => a.idle()));
  }

  stop(): void {
    for (const a of this.appliers) a.stop();
  }
}

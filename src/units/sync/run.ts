// One run of Sync, from the checkpoint until it stops (abort, error, or a re-sync after a sharding
// DDL lock was resolved). Its loop assembles upstream transactions and hands each to the handler
// of its kind: already applied, an operator's skip/replace, held back by a shard lock, a shard
// DDL, a DDL, DML. What must run alone (DDLs, the operator's SQL) goes through `barrier`: the
// appliers drain, the SQL runs, the transaction completes and the checkpoint is saved.
import { setImmediate } from 'node:timers/promises';
import type { EventSource } from '../../binlog/source.js';
import { comparePosition, formatPosition } from '../../binlog/position.js';
import { isServerError, type SqlSession } from '../../mysql/protocol.js';
import { SchemaTracker } from '../../schema/tracker.js';
import { errorResult, okResult } from '../unit.js';
import type { ProcessResult } from '../../task/status.js';
import { statementsOf } from './applier.js';
import { ApplierPool } from './pool.js';
import { applyDDL, forgetTables } from './apply-ddl.js';
import { serialize, settleAll, sleep } from '../../async.js';
import { applyError, metaPrivilegeError, statementError } from './errors.js';
import { LargeTxns } from './large-txn.js';
import { GlobalRow } from './checkpoint.js';
import { runStart, type StartPoint } from './start.js';
import type { SyncContext } from './context.js';
import type { Tracked } from './progress.js';
import { TxnAssembler, type Txn } from './txn.js';
import { ShardWatch } from './shard-watch.js';
import type { OnlineDDL } from './online-ddl.js';
import type { ErrorOp } from './operators.js';

/** How long the reader runs before it lets other callbacks in (the appliers' replies). */
const TURN_MS = 1;

export class SyncRun {
  private readonly conns: SqlSession[] = [];
  private target!: SqlSession;
  private upstream!: SqlSession;
  private readonly serial = serialize();
  private pool?: ApplierPool;
  private tracker!: SchemaTracker;
  private source?: EventSource;
  private failure?: unknown;
  private from!: StartPoint;
  /** Transactions held back by a sharding DDL lock (in flight, not counted for backpressure). */
  private held = 0;
  private global!: GlobalRow;
  /** No transaction was applied yet in this run (a DDL then may be applied already). */
  private first = true;
  private timer?: NodeJS.Timeout;
  private shardWatch?: ShardWatch;
  /** Transactions applied as they are read (large-txn.ts). */
  private readonly large: LargeTxns;

  constructor(
    private readonly c: SyncContext,
    private readonly signal: AbortSignal,
  ) {
    this.large = new LargeTxns({
      c,
      drain: async () => {
        await this.drain();
      },
      session: () => this.connect(() => c.edges.target({ localInfile: true })),
      held: () => this.held,
      applied: (endText) => this.from.skip.has(endText),
      failed: (e, txn, sql) => this.failed(e, txn, sql),
    });
  }

  /** 'resync' when a sharding DDL lock was resolved and the held-back transactions must be read again. */
  async run(): Promise<ProcessResult | 'resync'> {
    const onAbort = () => this.source?.close();
    this.signal.addEventListener('abort', onAbort);
    try {
      await this.open();
      await this.follow();
      if (this.failure) throw this.failure;
      if (this.shardWatch?.resolved) {
        await this.drain();
        await this.saveGlobal();
        return 'resync';
      }
      return okResult(true);
    } catch (e) {
      if (this.signal.aborted && !this.failure) return okResult(true);
      return errorResult(this.failure ?? e);
    } finally {
      clearInterval(this.timer);
      this.shardWatch?.stop();
      const lwm = this.c.state.lwm.position;
      if (lwm) this.source?.retainFrom?.(lwm);
      this.signal.removeEventListener('abort', onAbort);
      this.source?.close();
      this.pool?.stop();
      this.conns.forEach((c) => c.close());
    }
  }

  /** Stops the run with `e` (the first failure wins). */
  private fail(e: unknown): void {
    this.failure ??= e;
    this.source?.close();
  }

  private async open(): Promise<void> {
    const { c } = this;
    c.state.rate.start(Date.now());
    c.state.rows.start(Date.now());
    this.target = await this.connect(() => c.edges.target());
    try {
      await c.checkpoint.prepare(this.target);
      await c.online?.open(this.target);
    } catch (e) {
      throw metaPrivilegeError(e, c.cfg, c.checkpoint.table);
    }
    this.upstream = await this.connect(() => c.edges.upstream());
    await c.state.pollMaster(this.upstream);
    const { from, atTime } = await runStart(c, this.target, this.upstream, this.serial);
    this.from = from;
    const { start, skip } = this.from;
    c.state.safeUntil = this.from.safeUntil;
    c.state.lwm.reset(start, this.upstream.flavor);
    c.state.runStart = start;
    c.log.info(
      { from: formatPosition(start.pos), gtid: start.gtid, skip: skip.size, safeMode: c.state.safeMode },
      'sync: starting',
    );
    this.global = new GlobalRow(c.checkpoint);
    await this.serial(() => this.target.exec(this.global.start(start, skip)));
    if (atTime) c.startTime = undefined; // saved: a restart continues from this checkpoint
    c.compiler.reset();
    this.tracker = c.tracker = new SchemaTracker((sql) => this.serial(() => this.target.query(sql)));
    // side by side: one round of logins instead of worker-count of them
    const login = () => this.connect(() => c.edges.target());
    this.pool = new ApplierPool({
      sessions: await settleAll(Array.from({ length: c.cfg.instance.syncer.workerCount }, login)),
      batch: c.cfg.instance.syncer.batch,
      lwm: c.state.lwm,
      checkpoint: c.checkpoint,
      onError: (e, t, sql) => this.fail(this.failed(e, t.txn, sql ?? statementsOf(t)[0] ?? '')),
      meter: c.meter,
    });
    this.timer = setInterval(() => void this.tick().catch((e) => this.fail(e)), 1000);
    if (c.shard) {
      await c.shard.start(await c.verdicts.tablesOf(this.upstream));
      this.shardWatch = new ShardWatch(c.shard, {
        exec: (sql) => this.targetExec(this.c.state.lwm.oldest()!, sql),
        forget: (db, table) => this.tracker.invalidate(db, table),
        log: c.log,
        onResolved: () => this.source?.close(),
        onError: (e) => this.fail(e),
      });
    }
    this.source = await c.edges.events({
      start,
      byGtid: this.from.byGtid,
      rowColumns: c.compiler.rowColumns,
    });
    c.state.binlogType = this.source.local ? 'local' : 'remote';
    if (this.signal.aborted) this.source.close();
  }

  private async connect(open: () => Promise<SqlSession>): Promise<SqlSession> {
    const s = await open();
    this.conns.push(s);
    return s;
  }

  /** Once a second: the global row follows the low-water mark (it matters when no applier
   * commits, e.g. for transactions of filtered tables), and the master position is refreshed. */
  private async tick(): Promise<void> {
    const lwm = this.c.state.lwm.position!;
    this.source?.retainFrom?.(lwm);
    if (this.global.stale(lwm)) await this.saveGlobal();
    await this.c.state.pollMaster(this.upstream).catch((e: Error) => {
      // Only the status's masterBinlog waits for it: the stream reconnects by itself (or comes
      // from the relay), so an upstream restart must not fail the subtask.
      this.c.log.debug({ err: e.message }, 'sync: cannot read the upstream position');
      this.upstream.close();
      void this.c.edges
        .upstream()
        .then((s) => {
          if (this.failure || this.signal.aborted) return s.close();
          this.conns.push(s);
          this.upstream = s;
        })
        .catch(() => undefined);
    });
    this.c.meter?.remaining(this.c.state.remainingSeconds);
  }

  private saveGlobal(): Promise<unknown> {
    const sql = this.global.save(this.c.state.lwm.mark());
    return this.serial(() => this.target.exec(sql));
  }

  private async follow(): Promise<void> {
    const { state } = this.c;
    const asm = new TxnAssembler(this.from.start.pos.file);
    // Transactions read ahead of the low-water mark: enough to fill every applier's batch; more
    // only makes later transactions depend on earlier ones in other appliers (a longer wait).
    const { workerCount, batch: batchSize } = this.c.cfg.instance.syncer;
    const window = Math.max(256, workerCount * batchSize);
    let turnEnds = performance.now() + TURN_MS;
    for await (const batch of this.source!.batches()) {
      if (this.failure) return;
      for (const ev of batch) {
        state.rate.total++;
        state.ioBytes += ev.header.eventSize;
        const txn = asm.feed(ev);
        if (!txn) {
          if (!asm.idle && this.large.due(asm)) await this.large.spill(asm);
          if (asm.idle && ev.header.logPos > 0 && ev.kind !== 'heartbeat') {
            state.lwm.passed(
              ev.kind === 'rotate'
                ? { file: ev.nextFile, pos: ev.position }
                : { file: asm.file, pos: ev.header.logPos },
            );
          }
          continue;
        }
        state.lastRead = txn.timestamp;
        state.lwm.read(txn);
        // Turns: a read-ahead decoded and compiled in one go (the events are already buffered,
        // so nothing above waits for I/O) would hold the appliers' replies, and every commit, until
        // it ends: 350 ms before the first commit of a backlog, measured.
        if (performance.now() >= turnEnds) {
          await setImmediate();
          turnEnds = performance.now() + TURN_MS;
        }
        if (this.large.open && (await this.large.end(txn)) === 'committed') {
          this.first = false;
          continue;
        }
        // recorded as failed wherever it fails (target or before it): binlog skip finds it
        let handled: boolean;
        try {
          const h = this.dispatch(txn);
          handled = typeof h === 'boolean' ? h : await h;
        } catch (e) {
          throw this.failed(e, txn);
        }
        if (!handled) continue;
        this.first = false;
        // Backpressure: too many transactions in flight (a timer, not an idle applier, wakes us:
        // one busy applier can hold the low-water mark while the others are idle).
        while (state.lwm.inFlight - this.held > window && !this.failure) await sleep(5);
        if (this.failure) return;
      }
      state.rate.sample(Date.now());
      state.rows.sample(Date.now());
      if (this.failure) return;
    }
  }

  /** Hands a transaction to its handler; true when it went to the DDL or DML handler. Row changes
   * of known tables go to the appliers at once, without a promise (a backlog has hundreds of
   * thousands of transactions: each promise and suspended call is work for the GC). */
  private dispatch(txn: Txn): boolean | Promise<boolean> {
    if (this.from.skip.has(txn.endText)) {
      this.c.state.lwm.complete(txn);
      return false;
    }
    const op = this.c.operators.at(txn.endText);
    return op ? this.operate(txn, op) : this.handle(txn);
  }

  /** The operator's binlog skip, replace or inject at `txn`; after an injection, `txn` itself. */
  private async operate(txn: Txn, op: ErrorOp): Promise<boolean> {
    this.c.log.warn({ at: txn.endText, op: op.op, sqls: op.sqls }, `sync: binlog ${op.op} by the operator`);
    if (op.op === 'inject') {
      await this.drain();
      await this.serial(() => this.execAll(txn, op.sqls));
    } else {
      this.c.online?.noteSwap(txn); // skipped or replaced, an online DDL swap ends too
      await this.barrier(txn, op.sqls.length ? () => this.execAll(txn, op.sqls) : undefined);
    }
    this.c.operators.done(txn.endText);
    return op.op === 'inject' && this.handle(txn);
  }

  private handle(txn: Txn): boolean | Promise<boolean> {
    const { state, shard, verdicts } = this.c;
    const stmt = verdicts.replicatedStatement(txn);
    if (stmt) throw this.failed(statementError(txn, stmt), txn);
    if (state.safeUntil && comparePosition(txn.end, state.safeUntil) >= 0) state.safeUntil = undefined;
    if (txn.ddl) return this.handleDDL(txn);
    if (shard?.holds(txn)) return this.hold(txn);
    return this.dml(txn);
  }

  private async handleDDL(txn: Txn): Promise<boolean> {
    const { shard, verdicts } = this.c;
    const ddl = txn.ddl!;
    if (this.c.collations) ddl.query = await this.c.collations.adjust(ddl, this.upstream);
    if (this.c.online && (await this.onlineDDL(txn))) return false;
    if (shard?.holds(txn)) return this.hold(txn);
    if (shard?.groupOfDDL(txn) && verdicts.admitsShardDDL(txn)) {
      await this.shardDDL(txn);
      return false;
    }
    await this.ddl(txn);
    return true;
  }

  /** A shard-held transaction: read again after the re-sync, nothing of it kept. */
  private hold(txn: Txn): false {
    txn.rows = [];
    this.held++;
    return false;
  }

  /** Completes `txn` alone: after everything before it is committed, `work` (if any) runs on the
   * target, then the checkpoint is saved. */
  private async barrier(txn: Txn, work?: () => Promise<void>): Promise<void> {
    if (work) {
      await this.drain();
      await this.serial(work);
    }
    this.c.state.lwm.complete(txn);
    this.global.applied(txn.endText);
    await this.saveGlobal();
    const sql = this.c.online?.finished(txn);
    if (sql) await this.targetExec(txn, sql);
  }

  /** online-ddl: a shadow or trash table's DDL is absorbed (true: done); a swap becomes the DDL
   * of its real table, which the DDL handlers apply. */
  private async onlineDDL(txn: Txn): Promise<boolean> {
    let h: ReturnType<OnlineDDL['handle']>;
    try {
      h = this.c.online!.handle(txn, (ts) => ts.some((t) => this.c.verdicts.filter.table(t.db, t.table)));
    } catch (e) {
      throw this.failed(e, txn);
    }
    if (h.swap) this.c.log.info({ ddl: txn.ddl!.query, at: txn.endText }, 'sync: online DDL swap');
    if (!h.absorb) return false;
    const sqls = h.absorb;
    await this.barrier(txn, sqls.length ? () => this.execAll(txn, sqls) : undefined);
    return true;
  }

  /** Runs `sqls` of `txn` on the target (a barrier's work); an error in `tolerate` means done. */
  private async execAll(txn: Txn, sqls: string[], tolerate: ReadonlySet<number> = new Set()): Promise<void> {
    for (const sql of sqls) {
      try {
        await this.target.exec(sql);
      } catch (e) {
        if (!isServerError(e, tolerate)) throw this.failed(e, txn, sql);
      }
    }
  }

  private async shardDDL(txn: Txn): Promise<void> {
    const r = await this.c.shard!.onDDL(txn);
    if (r.action === 'held') {
      this.held++;
      return;
    }
    const apply = r.action === 'apply' ? () => this.execAll(txn, [r.sql], new Set(r.tolerate)) : undefined;
    forgetTables({ ...this.c, tracker: this.tracker }, txn.ddl!.info);
    await this.barrier(txn, apply);
  }

  private async ddl(txn: Txn): Promise<void> {
    const replay = this.first;
    const admitted = this.c.verdicts.admitsDDL(txn);
    await this.barrier(txn, async () => {
      try {
        if (admitted) await applyDDL({ ...this.c, target: this.target, tracker: this.tracker }, txn, replay);
      } catch (e) {
        throw this.failed(e, txn);
      }
    });
  }

  /** Row changes to the appliers: at once when every table is known (see dispatch). */
  private dml(txn: Txn): true | Promise<true> {
    const loading = this.c.compiler.load(txn, this.tracker);
    if (loading) return loading.then(() => this.dml(txn));
    const compiled = this.c.compiler.compileLoaded(txn);
    txn.rows = []; // compiled: the decoded rows need not live until the commit
    if (!compiled) {
      this.c.state.lwm.complete(txn);
      return true;
    }
    this.c.state.rows.total += compiled.changes.length;
    const sy = this.c.cfg.instance.syncer;
    this.pool!.enqueue(txn, compiled, this.c.state.safeMode, sy.compact || sy.multipleRows);
    return true;
  }

  /** Resolves when everything handed to the appliers is committed (throws the run's failure). */
  private async drain(): Promise<void> {
    await this.pool?.drain();
    if (this.failure) throw this.failure;
  }

  private async targetExec(txn: Tracked, sql: string): Promise<void> {
    try {
      await this.serial(() => this.target.exec(sql));
    } catch (e) {
      throw this.failed(e, txn, sql);
    }
  }

  /** An error at `txn`: recorded as the failed transaction (for binlog skip/replace). */
  private failed(e: unknown, txn: Tracked, sql?: string): unknown {
    this.c.state.errorAt = txn.endText;
    return sql === undefined ? e : applyError(e, txn, sql);
  }
}

// One run of a validator, while Sync runs: reads the binlog from the validator's checkpoint (or
// --start-time, or where Sync is), takes each transaction once Sync has applied it, keeps the rows
// it changed pending, checks them every validate-interval and saves its state every
// meta-flush-interval and at its end.
import { comparePosition, formatPosition, type BinlogPosition } from '../../../binlog/position.js';
import type { Location } from '../../../binlog/location.js';
import { parseGtidSet } from '../../../binlog/gtid.js';
import type { SqlSession } from '../../../mysql/protocol.js';
import { SchemaTracker } from '../../../schema/tracker.js';
import type { ValidatorConfig } from '../../../task/config.js';
import { DMError, ERR } from '../../../errors.js';
import { DmlCompiler } from '../compile.js';
import { forgetTables } from '../apply-ddl.js';
import { LowWaterMark } from '../progress.js';
import { startAtTime } from '../start-time.js';
import { TxnAssembler, type Txn } from '../txn.js';
import { streamDue } from '../stream.js';
import { checkSQL, expectationsOf, targetRowSQL, verdicts, type CheckOptions } from './expect.js';
import type { ValidatorMeta, ErrorState, TableStatus } from './meta.js';
import { PendingRows, type Pending } from './pending.js';
import type { Logger } from '../../../log.js';
import type { Router } from '../../../rules/route.js';
import type { ColumnMapping } from '../../../rules/column-mapping.js';
import type { SubTaskConfig } from '../../../task/config.js';
import type { SyncEdges } from '../edges.js';
import type { Verdicts } from '../verdicts.js';

export interface ValidatorHost {
  cfg: SubTaskConfig;
  log: Logger;
  edges: SyncEdges;
  router: Router;
  verdicts: Verdicts;
  mapping?: ColumnMapping;
  /** Where Sync has applied every transaction up to (undefined: not known yet). */
  synced(): Location | undefined;
  /** Where Sync's current run began (undefined: not known yet). */
  runStart(): Location | undefined;
}

export type Mode = 'full' | 'fast';

/** What a run shares with its validator (the figures status shows). */
export interface RunState {
  pending: PendingRows;
  tables: Map<string, TableStatus>;
  loc?: Location;
  mode: Mode;
  stage: 'Running' | 'Stopped';
  errorCounts: Record<ErrorState, number>;
  /** Set once the run has saved its first checkpoint. */
  started: boolean;
  /** dmctl validation update: once the validator passes this point it saves its state at once
   * (DM's cut-over location), then forgets it. */
  cutover?: { pos?: BinlogPosition; gtid?: string };
}

export const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });

export class ValidatorRun {
  constructor(
    private readonly h: ValidatorHost,
    private readonly vc: ValidatorConfig,
    private readonly meta: ValidatorMeta,
    private readonly st: RunState,
    private readonly startTime: string,
    /** Started with the subtask (not by the operator later): a new validator begins where Sync's
     * run began, so it sees every change that run applies (DM's rule). */
    private readonly withSync: boolean,
  ) {}

  private readonly conns: SqlSession[] = [];
  private source?: { close(): void };
  private failure: unknown;
  private busy: Promise<void> = Promise.resolve();

  private async open(): Promise<SqlSession> {
    const c = await this.h.edges.target();
    this.conns.push(c);
    return c;
  }

  async run(signal: AbortSignal): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => this.source?.close();
    signal.addEventListener('abort', onAbort);
    try {
      const target = await this.open();
      const start = await this.restore(target, signal);
      if (!start) return;
      const checkers = await Promise.all(Array.from({ length: this.vc.workerCount }, () => this.open()));
      let lastFlush = Date.now();
      const tick = async () => {
        await this.checkAll(checkers, target);
        if (Date.now() - lastFlush < this.vc.metaFlushInterval * 1000) return;
        lastFlush = Date.now();
        await this.flush(target);
      };
      timer = setInterval(() => {
        this.busy = this.busy.then(tick).catch((e) => {
          this.failure ??= e;
          this.source?.close();
        });
      }, this.vc.validateInterval * 1000);
      await this.follow(start, target, signal);
      if (this.failure) throw this.failure;
      clearInterval(timer);
      await this.busy;
      if (this.failure) throw this.failure;
      await this.flush(target);
    } finally {
      clearInterval(timer);
      signal.removeEventListener('abort', onAbort);
      this.source?.close();
      this.conns.forEach((c) => c.close());
    }
  }

  /** Loads the saved state; the start: the checkpoint, else --start-time, else where Sync began
   * (started with the subtask) or is (started later). */
  private async restore(target: SqlSession, signal: AbortSignal): Promise<Location | undefined> {
    const { h } = this;
    await this.meta.prepare(target);
    const saved = await this.meta.load(target);
    this.st.pending = new PendingRows();
    this.st.tables = new Map((saved?.tables ?? []).map((t) => [`${t.src.db}.${t.src.table}`, t]));
    if (saved) {
      Object.assign(this.st.pending.processed, saved.processed);
      for (const p of saved.pending) this.st.pending.restore(p);
    }
    this.st.errorCounts = await this.meta.errorCounts(target);
    let start = saved?.loc.pos.file ? saved.loc : undefined;
    if (!start && this.startTime) {
      const up = await h.edges.upstream();
      try {
        start = await startAtTime(this.startTime, up, h.edges.scan, h.log, h.cfg.timezone);
      } finally {
        up.close();
      }
    }
    while (!start && !signal.aborted) {
      start = this.withSync ? h.runStart() : h.synced();
      if (!start) await sleep(200, signal);
    }
    if (!start) return undefined;
    this.st.loc = start;
    this.st.started = true;
    await this.flush(target);
    h.log.info({ from: formatPosition(start.pos), mode: this.st.mode }, 'validator: starting');
    return start;
  }

  /** Reads the binlog from `start`, each transaction once Sync has applied it. */
  private async follow(start: Location, target: SqlSession, signal: AbortSignal): Promise<void> {
    const { h } = this;
    const tracker = new SchemaTracker((sql) => target.query(sql));
    const compiler = new DmlCompiler(h.router, h.verdicts, h.mapping);
    const lwm = new LowWaterMark();
    lwm.reset(start, target.flavor);
    const events = await h.edges.events({
      start,
      byGtid: false,
      rowColumns: compiler.rowColumns,
      reader: 'validator',
    });
    this.source = events;
    if (signal.aborted) return;
    const asm = new TxnAssembler(start.pos.file);
    for await (const batch of events.batches()) {
      for (const ev of batch) {
        const txn = asm.feed(ev);
        if (!txn) {
          // A large transaction is not held whole: its rows become pending as they come, held
          // back from checks until Sync has applied all of it.
          if (!asm.idle && streamDue(asm)) {
            await this.take(asm.spill(), compiler, tracker, true);
            this.checkLimits();
          }
          continue;
        }
        await this.waitSynced(txn.end, signal);
        if (signal.aborted) break;
        lwm.read(txn);
        if (txn.ddl) forgetTables({ tracker, compiler, router: h.router }, txn.ddl.info);
        else if (txn.rows.length) await this.take(txn, compiler, tracker);
        this.st.pending.release();
        lwm.complete(txn);
        this.st.loc = lwm.mark();
        this.checkLimits();
        if (this.passedCutover(target.flavor)) {
          this.st.cutover = undefined;
          this.busy = this.busy.then(() => this.flush(target));
        }
      }
      if (signal.aborted || this.failure) break;
    }
  }

  private passedCutover(flavor: 'mysql' | 'mariadb'): boolean {
    const c = this.st.cutover;
    const loc = this.st.loc;
    if (!c || !loc) return false;
    if (c.pos) return comparePosition(c.pos, loc.pos) <= 0;
    if (!c.gtid || !loc.gtid) return false;
    return parseGtidSet(flavor, loc.gtid).contains(parseGtidSet(flavor, c.gtid));
  }

  /** Waits until Sync has applied the transaction ending at `end` (DM's validator does too). */
  private async waitSynced(end: BinlogPosition, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const s = this.h.synced();
      if (s && comparePosition(s.pos, end) >= 0) return;
      await sleep(Math.min(this.vc.checkInterval * 1000, 200), signal);
    }
  }

  /** A transaction's row changes (or those read so far of a large one: `held`) become pending
   * rows (a table that cannot be validated stops, with its reason in the table status, and the
   * others go on). */
  private async take(txn: Txn, compiler: DmlCompiler, tracker: SchemaTracker, held = false): Promise<void> {
    for (const ev of txn.rows) {
      const src = { db: ev.table.schema, table: ev.table.table };
      const name = `${src.db}.${src.table}`;
      const status = this.st.tables.get(name);
      if (status?.stage === 'Stopped') continue;
      const dst = this.h.router.route(src.db, src.table);
      let compiled;
      try {
        compiled = await compiler.compile({ ...txn, rows: [ev] }, tracker);
      } catch (e) {
        this.st.tables.set(name, { src, dst, stage: 'Stopped', message: (e as Error).message });
        this.st.pending.dropWhere((x) => x.src.db === src.db && x.src.table === src.table);
        continue;
      }
      if (!compiled) continue;
      if (!status) {
        const noKey = compiled.changes.some((c) => !c.t.hasKey);
        this.st.tables.set(name, {
          src,
          dst,
          stage: noKey ? 'Stopped' : 'Running',
          message: noKey ? 'no primary key or NOT NULL unique key: rows cannot be told apart' : '',
        });
        if (noKey) continue;
      }
      for (const c of compiled.changes)
        for (const e of expectationsOf(c, src, dst)) this.st.pending.add(e, true, held);
    }
  }

  private checkLimits(): void {
    const { vc } = this;
    const { pending } = this.st;
    if (pending.size <= vc.maxPendingRowCount && pending.bytes <= vc.maxPendingRowSize) return;
    throw new DMError(ERR.validatorOperation, {
      message: `the validator holds ${pending.size} pending rows (${pending.bytes} bytes), over max-pending-row-count ${vc.maxPendingRowCount} or max-pending-row-size ${vc.maxPendingRowSize} bytes: the target does not match the rows Sync applied, or the validator cannot keep up`,
      workaround:
        'Look at validation show-error and the target; raise max-pending-row-count / max-pending-row-size in the validator config, then validation start.',
    });
  }

  private get checkOptions(): CheckOptions {
    return { mode: this.st.mode, binaryCollation: 'utf8mb4_bin' };
  }

  /** Checks every pending row once; error rows are recorded. */
  private async checkAll(checkers: SqlSession[], target: SqlSession): Promise<void> {
    const rows = this.st.pending.snapshot();
    if (!rows.length) return;
    const size = this.vc.batchQuerySize;
    const batches: Pending[][] = [];
    for (let i = 0; i < rows.length; i += size) batches.push(rows.slice(i, i + size));
    const o = {
      ...this.checkOptions,
      binaryCollation: target.flavor === 'mariadb' ? 'utf8mb4_nopad_bin' : 'utf8mb4_bin',
    };
    const errors: Pending[] = [];
    let next = 0;
    await Promise.all(
      checkers.map(async (c) => {
        for (let b = next++; b < batches.length; b = next++) {
          const batch = batches[b];
          const es = batch.map((p) => p.e);
          const [row] = await c.query(checkSQL(es, o));
          const now = Date.now();
          verdicts(es, row, o).forEach((f, i) => {
            const err = this.st.pending.settle(batch[i], f, now, this.vc.rowErrorDelay * 1000);
            if (err) errors.push(err);
          });
        }
      }),
    );
    for (const p of errors) {
      const [dst] = p.e.row && p.failure === 'rowNotExist' ? [] : await target.query(targetRowSQL(p.e));
      await this.meta.addError(target, p, dst);
    }
    if (errors.length) this.st.errorCounts = await this.meta.errorCounts(target);
  }

  private async flush(target: SqlSession): Promise<void> {
    await this.meta.save(target, {
      loc: this.st.loc!,
      processed: this.st.pending.processed,
      mode: this.st.mode,
      stage: this.st.stage,
      pending: this.st.pending.snapshot(),
      tables: [...this.st.tables.values()],
    });
  }

  // ---- what the operator sees and does ----
}

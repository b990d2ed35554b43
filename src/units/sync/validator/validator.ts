// DM's continuous validation for one subtask: a second reader of the same binlog, behind Sync (a
// transaction is taken only once Sync has applied it), turns each row change into what the target
// must hold (expect.ts), keeps those rows pending (pending.ts) and checks them against the target
// every `validate-interval` in batches of `batch-query-size` on `worker-count` sessions. A row
// still not as expected `row-error-delay` after its first failed check is an error row. Its
// position, counts and pending rows are saved every `meta-flush-interval` (and when it stops) in
// the meta schema (meta.ts), so a restart, even after SIGKILL, continues with the same pending
// rows; error rows are written when they are found.
import { formatPosition, parsePosition } from '../../../binlog/position.js';
import type { SqlSession } from '../../../mysql/protocol.js';
import type { ValidatorConfig } from '../../../task/config.js';
import type { ProcessResult } from '../../../task/status.js';
import { DMError, ERR } from '../../../errors.js';
import { errorResult } from '../../unit.js';
import { ValidatorMeta, type ErrorRow, type ErrorState } from './meta.js';
import { formatCounts, PendingRows } from './pending.js';

export type { Mode, ValidatorHost } from './run.js';
import { ValidatorRun, type Mode, type RunState, type ValidatorHost } from './run.js';
/** query-status `validation` and `validation status` (DM's ValidationStatus, field for field). */
export interface ValidationStatus {
  task: string;
  source: string;
  mode: string;
  stage: string;
  validatorBinlog: string;
  validatorBinlogGtid: string;
  result: ProcessResult | null;
  processedRowsStatus: string;
  pendingRowsStatus: string;
  errorRowsStatus: string;
  cutoverBinlogPos: string;
  cutoverBinlogGtid: string;
}

export interface ValidationTableStatus {
  source: string;
  srcTable: string;
  dstTable: string;
  stage: string;
  message: string;
}

export class Validator {
  /** Its stage as the operator (or the task file) wants it, mode, figures; loaded from the meta
   * schema, shared with the run. */
  private readonly st: RunState;
  private loaded = false;
  result: ProcessResult | null = null;
  private readonly meta: ValidatorMeta;
  private readonly vc: ValidatorConfig;
  private run?: { abort: AbortController; done: Promise<void> };
  private startTime: string;
  /** Sync runs: the validator runs while it does (and its stage is Running). */
  private syncRunning = false;

  constructor(private readonly h: ValidatorHost) {
    this.vc = h.cfg.instance.validator;
    this.st = {
      pending: new PendingRows(),
      tables: new Map(),
      mode: this.vc.mode === 'fast' ? 'fast' : 'full',
      stage: 'Stopped',
      errorCounts: { NewErr: 0, IgnoredErr: 0, ResolvedErr: 0 },
      started: false,
    };
    this.startTime = this.vc.startTime;
    this.meta = new ValidatorMeta(h.cfg.metaSchema, h.cfg.name, h.cfg.instance.sourceId);
  }

  /** Whether query-status shows it (it was configured or started once). */
  get shown(): boolean {
    return this.st.started || this.vc.mode !== 'none' || this.st.stage === 'Running';
  }

  private async withTarget<T>(f: (c: SqlSession) => Promise<T>): Promise<T> {
    const c = await this.h.edges.target();
    try {
      return await f(c);
    } finally {
      c.close();
    }
  }

  /** Reads the saved stage and mode once (a new validator: the task file's mode decides). */
  private async load(): Promise<void> {
    if (this.loaded) return;
    const saved = await this.withTarget((c) => this.meta.load(c));
    this.loaded = true;
    if (saved) {
      this.st.started = true;
      this.st.stage = saved.stage;
      this.st.mode = saved.mode;
    } else this.st.stage = this.vc.mode === 'none' ? 'Stopped' : 'Running';
  }

  /** Sync started a run: the validator runs beside it when its stage says so. */
  async syncStarted(): Promise<void> {
    this.syncRunning = true;
    try {
      await this.load();
    } catch (e) {
      this.h.log.warn({ err: (e as Error).message }, 'validator: cannot read its state');
      return;
    }
    if (this.syncRunning && this.st.stage === 'Running') this.launch(true);
  }

  /** Sync stopped (paused, stopped, failed): the validator stops with it, keeping its stage. */
  async syncStopped(): Promise<void> {
    this.syncRunning = false;
    await this.halt();
  }

  /** dmctl validation start: `mode` and `startTime` only for a validator that never ran. */
  async start(o: { mode?: Mode; startTime?: string }): Promise<string> {
    await this.load();
    if (this.st.started && (o.mode !== undefined || o.startTime !== undefined)) {
      throw new DMError(ERR.validatorOperation, {
        message: `the validator of subtask ${this.h.cfg.name} on source ${this.h.cfg.instance.sourceId} ran before (mode ${this.st.mode}): --mode and --start-time apply only to a first start`,
        workaround:
          'Run validation start without --mode and --start-time to resume it, or stop-task and start-task --remove-meta to validate from scratch.',
      });
    }
    if (o.mode) this.st.mode = o.mode;
    if (o.startTime !== undefined) this.startTime = o.startTime;
    this.st.stage = 'Running';
    this.result = null;
    await this.saveStage();
    if (this.syncRunning) this.launch(false);
    return this.syncRunning ? 'validator started' : 'validator starts when the subtask runs Sync';
  }

  /** dmctl validation stop. */
  async stop(): Promise<string> {
    await this.load();
    this.st.stage = 'Stopped';
    await this.halt();
    await this.saveStage();
    return 'validator stopped';
  }

  /** dmctl validation update: the cut-over point; passing it, the validator saves its state at
   * once (Sync saves its checkpoint with every commit already). */
  update(pos: string, gtid: string): string {
    this.st.cutover = pos ? { pos: parsePosition(pos) } : { gtid };
    return 'validator updated';
  }

  private async saveStage(): Promise<void> {
    await this.withTarget(async (c) => {
      await this.meta.prepare(c);
      const saved = this.run ? undefined : await this.meta.load(c);
      await this.meta.save(c, {
        loc: this.st.loc ?? saved?.loc ?? { pos: { file: '', pos: 0 }, gtid: '' },
        processed: this.run ? this.st.pending.processed : (saved?.processed ?? this.st.pending.processed),
        mode: this.st.mode,
        stage: this.st.stage,
        pending: this.run ? this.st.pending.snapshot() : (saved?.pending ?? []),
        tables: [...this.st.tables.values()],
      });
    });
  }

  private launch(withSync: boolean): void {
    if (this.run) return;
    const abort = new AbortController();
    const done = new ValidatorRun(this.h, this.vc, this.meta, this.st, this.startTime, withSync)
      .run(abort.signal)
      .catch((e: unknown) => {
        if (abort.signal.aborted) return;
        this.result = errorResult(e);
        this.st.stage = 'Stopped';
        this.h.log.error({ err: (e as Error).message }, 'validator: stopped by an error');
      })
      .finally(() => {
        if (this.run?.abort === abort) this.run = undefined;
      });
    this.run = { abort, done };
  }

  private async halt(): Promise<void> {
    const r = this.run;
    if (!r) return;
    r.abort.abort();
    await r.done;
  }

  private refreshedAt = 0;
  private refreshing?: Promise<void>;

  /** refresh() in the background, at most once a second (query-status asks often). */
  refreshSoon(): void {
    if (this.refreshing || Date.now() - this.refreshedAt < 1000) return;
    this.refreshedAt = Date.now();
    this.refreshing = this.refresh().finally(() => (this.refreshing = undefined));
  }

  /** Reads the figures again: the saved ones while it does not run here, the error counts always. */
  async refresh(): Promise<void> {
    await this.load().catch(() => undefined);
    await this.withTarget(async (c) => {
      if (!this.run) {
        const saved = await this.meta.load(c);
        if (saved) {
          this.st.loc = saved.loc.pos.file ? saved.loc : this.st.loc;
          this.st.pending = new PendingRows();
          Object.assign(this.st.pending.processed, saved.processed);
          for (const p of saved.pending) this.st.pending.restore(p);
          this.st.tables = new Map(saved.tables.map((t) => [`${t.src.db}.${t.src.table}`, t]));
        }
      }
      this.st.errorCounts = await this.meta.errorCounts(c);
    }).catch((e: Error) => this.h.log.debug({ err: e.message }, 'validator: cannot read its state'));
  }

  /** The figures as last known (refresh() reads them again). */
  status(): ValidationStatus {
    const e = this.st.errorCounts;
    return {
      task: this.h.cfg.name,
      source: this.h.cfg.instance.sourceId,
      mode: this.st.mode,
      stage: this.run ? 'Running' : this.st.stage === 'Running' && !this.result ? 'Running' : 'Stopped',
      validatorBinlog: this.st.loc?.pos.file ? formatPosition(this.st.loc.pos) : '',
      validatorBinlogGtid: this.st.loc?.gtid ?? '',
      result: this.result,
      processedRowsStatus: formatCounts(this.st.pending.processed),
      pendingRowsStatus: formatCounts(this.st.pending.byOp()),
      errorRowsStatus: `new/ignored/resolved: ${e.NewErr}/${e.IgnoredErr}/${e.ResolvedErr}`,
      cutoverBinlogPos: this.st.cutover?.pos ? formatPosition(this.st.cutover.pos) : '',
      cutoverBinlogGtid: this.st.cutover?.gtid ?? '',
    };
  }

  tableStatus(stage?: 'running' | 'stopped'): ValidationTableStatus[] {
    return [...this.st.tables.values()]
      .filter((t) => !stage || t.stage.toLowerCase() === stage)
      .map((t) => ({
        source: this.h.cfg.instance.sourceId,
        srcTable: `\`${t.src.db}\`.\`${t.src.table}\``,
        dstTable: `\`${t.dst.db}\`.\`${t.dst.table}\``,
        stage: t.stage,
        message: t.message,
      }));
  }

  errors(state?: ErrorState): Promise<ErrorRow[]> {
    return this.withTarget((c) => this.meta.errors(c, state));
  }

  async operateError(op: 'ignore' | 'resolve' | 'clear', id?: number): Promise<string> {
    const n = await this.withTarget((c) => this.meta.operateError(c, op, id));
    if (id !== undefined && n === 0) {
      throw new DMError(ERR.validatorOperation, {
        message: `source ${this.h.cfg.instance.sourceId} has no validation error row ${id}${op === 'clear' ? '' : ` to ${op}`}`,
        workaround: 'List the error rows and their ids with validation show-error --error all <task>.',
      });
    }
    return `${n} error row(s) ${op === 'clear' ? 'cleared' : op === 'ignore' ? 'ignored' : 'resolved'}`;
  }

  /** start-task --remove-meta. */
  async removeMeta(): Promise<void> {
    await this.withTarget((c) => this.meta.clear(c));
    this.loaded = false;
    this.st.started = false;
    this.st.pending = new PendingRows();
    this.st.tables.clear();
    this.st.loc = undefined;
  }

  async close(): Promise<void> {
    await this.halt();
  }
}

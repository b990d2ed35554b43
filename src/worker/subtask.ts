// A subtask: one task's work on one source. Runs its units in order (Dump → Load → Sync), keeps
// the seed's stage machine, pauses on errors and resumes by itself after retryable ones (with
// backoff), and continues after a restart from the first unit whose work is not done.
import { join, resolve } from 'node:path';
import { configError } from '../task/yaml.js';
import { DMError, ERR } from '../errors.js';
import type { Logger } from '../log.js';
import type { SubTaskConfig } from '../task/config.js';
import { transition, type Stage, type StageEvent } from '../task/stage.js';
import type { SubTaskStatus } from '../task/status.js';
import { DumpUnit } from '../units/dump/dump.js';
import { DumpFeed } from '../units/dump/feed.js';
import { LoadUnit } from '../units/load/load.js';
import { readFinishedDump } from '../units/dump/metadata.js';
import { SyncUnit } from '../units/sync/sync.js';
import type { BinlogOp } from '../units/sync/operators.js';
import type { SchemaRequest } from '../units/sync/schema-op.js';
import {
  operateValidation,
  type ValidationAnswer,
  type ValidationRequest,
} from '../units/sync/validator/ops.js';
import { locationOf } from '../binlog/location.js';
import { AutoResume } from '../units/supervisor.js';
import { serverEdges } from '../units/sync/edges.js';
import { openRelayStream } from '../units/relay/stream.js';
import type { ShardCoordinator } from '../units/sync/shard.js';
import { errorResult, type Unit } from '../units/unit.js';
import type { ProcessResult } from '../task/status.js';
import type { RelayUnit } from '../units/relay/relay.js';
import type { BinlogPosition } from '../binlog/position.js';
import { unitExitedWithError } from '../metrics/registry.js';

export interface SubTaskOptions {
  log: Logger;
  /** Called after every stage change. */
  onStage?: (st: SubTask) => void;
  /** First auto-resume delay after a retryable error (doubles up to 60 s). */
  autoResumeMs?: number;
  /** The sharding DDL locks (the master's, or in-process ones), for shard-mode pessimistic. */
  shard?: ShardCoordinator;
  /** The source's relay unit, when the source has enable-relay. */
  relay?: RelayUnit;
  /** The worker's name (the metrics' `worker` label). */
  worker?: string;
}

/** Where a subtask keeps its dump: `<loaders.dir>/<task>.<source-id>`. */
export function dumpDir(cfg: SubTaskConfig): string {
  return resolve(join(cfg.instance.loader.dir, `${cfg.name}.${cfg.instance.sourceId}`));
}

export class SubTask {
  stage: Stage = 'New';
  result: ProcessResult | null = null;
  private readonly units: Unit[];
  private current = 0;
  private abort?: AbortController;
  private running?: Promise<void>;
  private readonly autoResume: AutoResume;

  constructor(
    readonly cfg: SubTaskConfig,
    private readonly opts: SubTaskOptions,
  ) {
    this.autoResume = new AutoResume(opts.autoResumeMs);
    const dir = dumpDir(cfg);
    const log = opts.log.child({ task: cfg.name, source: cfg.instance.sourceId });
    const mode = cfg.taskMode;
    this.units = [];
    const dump = ['full', 'all', 'dump'].includes(mode) ? new DumpUnit(cfg, dir, log) : undefined;
    if (dump) this.units.push(dump);
    const fromDump = mode === 'all' || mode === 'load&sync'; // Sync starts where the dump was taken
    if (mode === 'full' || mode === 'load' || fromDump) this.units.push(new LoadUnit(cfg, dir, log));
    if (mode === 'incremental' || fromDump) {
      const hint = async () => {
        if (!fromDump) return undefined;
        const m = await readFinishedDump(dir);
        if (!m) {
          throw configError(
            cfg.name,
            `the dump's metadata file in ${dir} is gone, so Sync does not know where the dump's snapshot was taken`,
            'Restore the metadata file, or restart the task from scratch (drop the target tables and the dm_meta checkpoints).',
          );
        }
        return locationOf(m);
      };
      const relay = opts.relay;
      const edges = serverEdges(
        cfg,
        relay &&
          ((f) =>
            openRelayStream(
              relay,
              f.start,
              f.reader ? `${cfg.name}.${f.reader}` : cfg.name,
              f.rowColumns,
              log,
            )),
      );
      const dumpIOBytes = () => dump?.ioBytes ?? 0;
      this.units.push(
        new SyncUnit(cfg, { hint, log, coordinator: opts.shard, edges, dumpIOBytes, worker: opts.worker }),
      );
    }
  }

  get name(): string {
    return this.cfg.name;
  }

  /** Where this subtask's Sync reads the binlog from next (undefined: no Sync, or not known yet). */
  async plannedSyncStart(): Promise<BinlogPosition | undefined> {
    const sync = this.units.find((u) => u instanceof SyncUnit);
    return sync?.plannedStart();
  }

  private get sync(): SyncUnit | undefined {
    return this.units.find((u): u is SyncUnit => u instanceof SyncUnit);
  }

  /** start-task --start-time (task-mode incremental): where the next Sync run starts. */
  startAt(time: string): void {
    this.sync?.startAt(time);
  }

  /** A --start-time given is not used yet. */
  get startTimePending(): boolean {
    return !!this.sync?.startTimePending;
  }

  get unit(): Unit {
    return this.units[Math.min(this.current, this.units.length - 1)];
  }

  /** Starts (or, from Stopped, restarts) the subtask. */
  start(): void {
    if (this.stage === 'Stopped') this.current = 0;
    this.launch(this.stage === 'New' ? 'run' : 'start');
  }

  /** A worker that restarts finds the operator's Paused or Stopped stage: the subtask takes it
   * without running, and shows the unit it would continue with. */
  async restore(stage: 'Paused' | 'Stopped'): Promise<void> {
    this.stage = stage;
    this.opts.onStage?.(this);
    await this.skipFinishedUnits().catch(() => undefined);
  }

  /** start-task --remove-meta: forgets every unit's checkpoint and the dump, so the next start
   * begins from scratch. Only while nothing runs. */
  async removeMeta(): Promise<void> {
    for (const u of this.units) await u.removeMeta();
    this.current = 0;
  }

  /** Stops the work without changing the stage (the worker shuts down or gives the source up);
   * checkpoints let whoever runs the subtask next continue. */
  async close(): Promise<void> {
    this.halt();
    await this.running;
  }

  pause(): void {
    this.setStage('pause');
    this.halt();
  }

  resume(): void {
    this.result = null;
    this.launch('resume');
  }

  /** DM's `binlog skip|replace|inject|revert|list`: for a subtask in its Sync unit; without a
   * position, for the error a paused Sync unit failed on. */
  handleError(op: BinlogOp, sqls: string[] = [], position?: string): string {
    const u = this.unit;
    const paused = this.stage === 'Paused';
    const fits =
      u instanceof SyncUnit &&
      (paused || (this.stage === 'Running' && (position !== undefined || op === 'list')));
    if (!fits) {
      throw new DMError(ERR.notSyncing, {
        message: `subtask ${this.name} is ${this.stage} in unit ${u.name}; binlog ${op} applies to a Sync unit paused by an error${u instanceof SyncUnit ? ', or to a running one with --binlog-pos' : ''}`,
        workaround:
          'Use query-status to see where the subtask is; give -b <position> to act on a later event while Sync runs.',
      });
    }
    return u.handleError(op, sqls, position);
  }

  /** DM's binlog-schema: list while the subtask runs or is paused in Sync; update and delete
   * only while it is paused (as DM). */
  operateSchema(req: SchemaRequest): Promise<string> {
    const u = this.unit;
    const fits =
      u instanceof SyncUnit && (this.stage === 'Paused' || (req.op === 'list' && this.stage === 'Running'));
    if (!fits) {
      throw new DMError(ERR.notSyncing, {
        message: `subtask ${this.name} is ${this.stage} in unit ${u.name}; binlog-schema ${req.op} applies to a ${req.op === 'list' ? 'running or paused' : 'paused'} Sync unit`,
        workaround:
          req.op === 'list'
            ? 'Wait until the subtask reaches Sync.'
            : 'pause-task the task first, then resume-task after the update.',
      });
    }
    return u.operateSchema(req);
  }

  async stop(): Promise<void> {
    this.setStage('stop');
    this.halt();
    await this.running;
  }

  /** Resolves when the subtask reaches one of `stages`. */
  async until(stages: Stage[], timeoutMs = 0): Promise<Stage> {
    const started = Date.now();
    while (!stages.includes(this.stage)) {
      if (timeoutMs && Date.now() - started > timeoutMs)
        throw new Error(`subtask ${this.name} still ${this.stage}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.stage;
  }

  status(): SubTaskStatus {
    const u = this.unit;
    return {
      name: this.name,
      stage: this.stage,
      unit: u.name,
      result: this.result,
      unresolvedDDLLockID: u instanceof SyncUnit ? u.lockId() : '',
      [u.name.toLowerCase()]: u.status(),
      ...this.validationStatus(),
    } as SubTaskStatus;
  }

  private validationStatus(): Pick<SubTaskStatus, 'validation'> {
    const v = this.sync?.validator;
    if (!v?.shown) return {};
    v.refreshSoon();
    return { validation: v.status() as unknown as Record<string, unknown> };
  }

  /** dmctl validation … on this subtask's validator. */
  validation(req: ValidationRequest): Promise<ValidationAnswer> {
    const v = this.sync?.validator;
    if (!v)
      throw new DMError(ERR.validatorNotFound, {
        message: `subtask ${this.name} has no Sync unit (task-mode ${this.cfg.taskMode}), so nothing to validate`,
        workaround: 'Validation follows the binlog: use it with task-mode all or incremental.',
      });
    return operateValidation(v, req);
  }

  /** After a restart: continue with the last unit that has begun its work (the ones before it
   * finished theirs), e.g. Sync once it has a checkpoint, Load once the dump is complete. */
  private async skipFinishedUnits(): Promise<void> {
    const load = this.units.find((u): u is LoadUnit => u instanceof LoadUnit);
    const dump = this.units.findIndex((u) => u instanceof DumpUnit);
    const partial = load && dump >= this.current && dump >= 0 ? await load.overlapInterrupted() : undefined;
    if (partial) {
      // Load imported while a dump ran that did not finish: those rows are of a snapshot that is
      // gone. The tables (empty before, see LoadUnit.importsEarly) are emptied; the dump starts over.
      this.opts.log.warn(
        { task: this.name, tables: partial.length },
        'the dump did not finish while Load imported its files: emptying those tables and dumping again',
      );
      await load!.discardPartial(partial);
      this.current = dump;
      return;
    }
    for (let i = this.units.length - 1; i >= this.current; i--) {
      const u = this.units[i];
      if (!(await u.isFresh())) {
        // Load or a finished dump comes next: only a dump of this task run may be used.
        const dump = this.units.find((d) => d instanceof DumpUnit);
        if (dump && u instanceof LoadUnit) {
          const why = await dump.foreign();
          if (why) {
            throw configError(
              this.cfg.name,
              `the load has begun from the dump in ${dump.dir}, but that dump is not this task run's: ${why}`,
              'Start the task again from scratch: stop-task, then start-task --remove-meta (and empty the target tables).',
            );
          }
        }
        if (u instanceof DumpUnit && (await u.discardForeign())) {
          this.current = i;
          return;
        }
        // A dump that is not fresh is complete: go on with what follows it.
        this.current = u instanceof DumpUnit ? i + 1 : i;
        return;
      }
    }
  }

  private setStage(event: StageEvent): void {
    this.stage = transition(this.stage, event);
    this.opts.onStage?.(this);
  }

  private halt(): void {
    this.autoResume.cancel();
    this.abort?.abort();
  }

  private launch(event: StageEvent): void {
    this.setStage(event);
    this.running = this.runUnits();
  }

  private async runUnits(): Promise<void> {
    const abort = new AbortController();
    this.abort = abort;
    try {
      await this.skipFinishedUnits();
    } catch (e) {
      if (!abort.signal.aborted) this.failed(errorResult(e), this.unit);
      return;
    }
    /** Load importing while the dump runs. */
    let loading: Promise<ProcessResult> | undefined;
    while (this.current < this.units.length) {
      if (abort.signal.aborted) break;
      this.opts.log.info({ task: this.name, unit: this.units[this.current].name }, 'unit starting');
      const unit = this.units[this.current];
      const next = this.units[this.current + 1];
      let r: ProcessResult;
      if (unit instanceof LoadUnit && loading) {
        r = await loading;
        loading = undefined;
      } else if (unit instanceof DumpUnit && next instanceof LoadUnit) {
        // Load imports each file as the dump completes it; either one's failure stops both.
        const both = new AbortController();
        const stop = () => both.abort();
        abort.signal.addEventListener('abort', stop);
        const feed = new DumpFeed();
        unit.announce(feed);
        next.follow(feed);
        loading = runUnit(next, both.signal).then((lr) => {
          if (lr.errors.length) both.abort();
          return lr;
        });
        r = await runUnit(unit, both.signal);
        if (!r.errors.length && r.isCanceled && !abort.signal.aborted) {
          this.current++; // the dump stopped because Load failed: Load's error is the subtask's
          continue;
        }
        if (r.errors.length || r.isCanceled) await loading;
      } else r = await runUnit(unit, abort.signal);
      if (r.isCanceled || abort.signal.aborted) return;
      if (r.errors.length) {
        this.failed(r, unit);
        return;
      }
      this.autoResume.reset();
      this.current++;
    }
    if (abort.signal.aborted) {
      await loading;
      return;
    }
    this.current = this.units.length - 1;
    this.setStage('finish');
  }

  private failed(r: ProcessResult, unit: Unit): void {
    this.result = r;
    unitExitedWithError(
      unit.name,
      this.name,
      this.cfg.instance.sourceId,
      r.errors.every((e) => e.retryable),
    );
    this.opts.log.warn({ task: this.name, unit: unit.name, errors: r.errors }, 'subtask paused on error');
    this.setStage('error');
    if (r.errors.every((e) => e.retryable)) this.scheduleResume();
  }

  private scheduleResume(): void {
    const delay = this.autoResume.schedule(() => {
      if (this.stage === 'Paused') this.resume();
    });
    this.opts.log.info({ task: this.name, delayMs: delay }, 'auto-resume scheduled after a retryable error');
  }
}

/** Runs a unit once: init, process, close; a thrown error is its result. */
async function runUnit(unit: Unit, signal: AbortSignal): Promise<ProcessResult> {
  try {
    await unit.init();
    return await unit.process(signal);
  } catch (e) {
    return errorResult(e);
  } finally {
    await unit.close().catch(() => undefined);
  }
}

// A dm-worker: runs the subtasks of the one source the master binds to it. It heartbeats to the
// master, which answers with the worker's assignment (source, tasks, the stages operators asked
// for); the master also pushes an assignment at once when an operator acts. Either way the
// worker makes its subtasks match it. A worker that has not reached the master for its
// keepalive TTL stops its subtasks, since the master may have moved the source elsewhere.
import { DMError, ERR } from '../errors.js';
import type { Logger } from '../log.js';
import { parseSourceConfig, parseTaskConfig, subTaskConfig, type SourceConfig } from '../task/config.js';
import type { SubTaskStatus, WorkerStatus } from '../task/status.js';
import { errorResult } from '../units/unit.js';
import { useSecretKey } from '../task/encrypt.js';
import type { Assignment, SubTaskAssignment } from './assignment.js';
import type { SubTask } from './subtask.js';
import type { ShardCoordinator } from '../units/sync/shard.js';
import type { Verdict } from '../shard/locks.js';
import { SourceRuntime } from './runtime.js';
import type { BinlogOp } from '../units/sync/operators.js';
import type { ValidationAnswer, ValidationRequest } from '../units/sync/validator/ops.js';
import type { SchemaRequest } from '../units/sync/schema-op.js';

export interface Heartbeat {
  name: string;
  addr: string;
  /** Task → the `seq` of the last operation this worker applied to its subtask. */
  applied: Record<string, number>;
  /** Task → the `seq` whose --start-time Sync has used (its start point is saved). */
  seeked?: Record<string, number>;
  /** How long the master waits for the next heartbeat before this worker is offline. */
  ttlMs?: number;
}

export interface MasterLink {
  heartbeat(hb: Heartbeat): Promise<Assignment>;
  /** The master's sharding DDL locks: register, report (answers the verdict), executed, skipped. */
  shard(op: string, body: unknown): Promise<unknown>;
}

export interface WorkerOptions {
  name: string;
  /** host:port where this worker answers the master. */
  addr: string;
  log: Logger;
  /** How long the worker runs on without reaching the master. */
  keepaliveTtlMs: number;
  /** DM's relay-keepalive-ttl: the TTL instead while its source runs a relay (a relay source
   * moves to another worker only after it, as the relay would start again there). */
  relayKeepaliveTtlMs?: number;
  heartbeatMs?: number;
  autoResumeMs?: number;
  /** The worker's relay-dir (DM's worker.toml): overrides the sources' relay-dir. */
  relayDir?: string;
}

interface Local {
  st: SubTask;
  yaml: string;
  seq: number;
  /** The seq of a start with --start-time. */
  startTimeSeq?: number;
}

export class Worker {
  private source?: { id: string; yaml: string; cfg: SourceConfig };
  /** The bound source's relay and subtasks. */
  private runtime?: SourceRuntime;
  /** The last relay operation applied. */
  private relaySeq = -1;
  private readonly subtasks = new Map<string, Local>();
  /** Subtasks that could not even be created (the task file does not fit this source…). */
  private readonly broken = new Map<string, unknown>();
  private queue: Promise<void> = Promise.resolve();
  private lastContact = Date.now();
  private timer?: NodeJS.Timeout;
  private closed = false;
  private readonly log: Logger;

  constructor(
    private readonly link: MasterLink,
    readonly opts: WorkerOptions,
  ) {
    this.log = opts.log.child({ worker: opts.name });
  }

  get name(): string {
    return this.opts.name;
  }

  /** Starts heartbeating; the first heartbeat registers the worker. */
  start(): void {
    void this.beat();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.enqueue(() => this.dropAll());
  }

  /** Makes the subtasks match `a`; resolves when every operation in it has been applied. */
  apply(a: Assignment): Promise<void> {
    this.lastContact = Date.now();
    return this.enqueue(() => this.reconcile(a));
  }

  status(task?: string): WorkerStatus {
    const subTaskStatus: SubTaskStatus[] = [];
    for (const [name, l] of this.subtasks) if (!task || name === task) subTaskStatus.push(l.st.status());
    for (const [name, e] of this.broken) {
      if (task && name !== task) continue;
      subTaskStatus.push({
        name,
        stage: 'Paused',
        unit: 'Check',
        result: errorResult(e),
        unresolvedDDLLockID: '',
      });
    }
    return {
      result: true,
      worker: this.opts.addr,
      msg: '',
      source: this.source?.id ?? '',
      subTaskStatus,
      relayStatus: this.runtime?.relayStatus() ?? null,
    };
  }

  /** The relay directory's space, while this worker runs a relay (DM's dm_relay_space). */
  relaySpace(): Promise<{ capacity: number; available: number } | undefined> {
    return this.runtime?.relay?.space() ?? Promise.resolve(undefined);
  }

  /** purge-relay on this worker's source. */
  async purgeRelay(file: string, subDir?: string): Promise<string[]> {
    const relay = this.runtime?.relay;
    if (!relay) {
      throw new DMError(
        ERR.workerRelayStage,
        `worker ${this.name} runs no relay${this.source ? ` (source ${this.source.id} has enable-relay: false)` : ''}`,
      );
    }
    return relay.purge(file, subDir);
  }

  /** DM's binlog-schema on this worker's subtask of `task`. */
  operateSchema(task: string, req: SchemaRequest): Promise<string> {
    const l = this.subtasks.get(task);
    if (!l)
      throw new DMError(ERR.workerSubTaskNotFound, `worker ${this.name} runs no subtask of task ${task}`);
    return l.st.operateSchema(req);
  }

  /** dmctl validation … on this worker's subtask of `task`. */
  validation(task: string, req: ValidationRequest): Promise<ValidationAnswer> {
    const l = this.subtasks.get(task);
    if (!l)
      throw new DMError(ERR.workerSubTaskNotFound, `worker ${this.name} runs no subtask of task ${task}`);
    return l.st.validation(req);
  }

  /** DM's `binlog …` on this worker's subtask of `task`; a subtask paused by an error resumes
   * after it (not after `list`), as in DM; one the operator paused waits for resume-task. */
  handleError(task: string, op: BinlogOp, sqls: string[], position?: string): string {
    const l = this.subtasks.get(task);
    if (!l)
      throw new DMError(ERR.workerSubTaskNotFound, `worker ${this.name} runs no subtask of task ${task}`);
    const msg = l.st.handleError(op, sqls, position);
    if (l.st.stage === 'Paused' && l.st.result?.errors.length && op !== 'list') l.st.resume();
    return msg;
  }

  private coordinator(task: string, source: string): ShardCoordinator {
    const call = (op: string, body: object) => this.link.shard(op, { task, source, ...body });
    return {
      register: async (groups) => void (await call('register', { groups })),
      report: async (r) => (await call('report', r)) as Verdict,
      optimistic: async (r) => (await call('optimistic', r)) as 'exec' | 'skip',
      executed: async (target) => void (await call('executed', { target })),
      skipped: async (target) => void (await call('skipped', { target })),
    };
  }

  /** The keepalive TTL now: the relay's while this worker's source runs one. */
  private get ttlMs(): number {
    const relay = this.source?.cfg.enableRelay && this.opts.relayKeepaliveTtlMs;
    return relay || this.opts.keepaliveTtlMs;
  }

  private async beat(): Promise<void> {
    if (this.closed) return;
    const interval = this.opts.heartbeatMs ?? Math.min(1000, this.opts.keepaliveTtlMs / 5);
    try {
      const applied: Record<string, number> = {};
      const seeked: Record<string, number> = {};
      for (const [task, l] of this.subtasks) {
        applied[task] = l.seq;
        if (l.startTimeSeq !== undefined && !l.st.startTimePending) seeked[task] = l.startTimeSeq;
      }
      const a = await this.link.heartbeat({
        name: this.name,
        addr: this.opts.addr,
        applied,
        seeked,
        ttlMs: this.ttlMs,
      });
      await this.apply(a);
    } catch (e) {
      const silentMs = Date.now() - this.lastContact;
      this.log.warn({ err: (e as Error).message, silentMs }, 'cannot reach dm-master');
      if (silentMs > this.ttlMs && this.subtasks.size) {
        this.log.warn(
          { ttlMs: this.ttlMs },
          'no contact with dm-master for the keepalive TTL: stopping subtasks until it answers again (they continue from their checkpoints)',
        );
        await this.enqueue(() => this.dropAll());
      }
    }
    if (!this.closed) this.timer = setTimeout(() => void this.beat(), interval);
  }

  private enqueue(f: () => Promise<void>): Promise<void> {
    const p = this.queue.then(f);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async dropAll(): Promise<void> {
    await this.runtime?.close();
    this.runtime = undefined;
    this.subtasks.clear();
    this.broken.clear();
    this.source = undefined;
  }

  private async reconcile(a: Assignment): Promise<void> {
    if (this.closed) return;
    useSecretKey(a.secretKey);
    if (a.source?.id !== this.source?.id || a.source?.yaml !== this.source?.yaml) {
      if (this.source) this.log.info({ source: this.source.id }, 'source unbound from this worker');
      await this.dropAll();
      if (a.source) {
        this.source = { ...a.source, cfg: parseSourceConfig(a.source.yaml, a.source.file) };
        this.log.info({ source: a.source.id }, 'source bound to this worker');
        this.runtime = new SourceRuntime(this.source.cfg, {
          log: this.log,
          relayDir: this.opts.relayDir,
          autoResumeMs: this.opts.autoResumeMs,
          coordinator: (task, source) => this.coordinator(task, source),
          worker: this.name,
        });
        this.relaySeq = -1;
      }
    }
    const runtime = this.runtime;
    if (!this.source || !runtime) return;
    const wanted = new Set(a.subtasks.map((s) => s.task));
    for (const name of [...this.subtasks.keys()]) {
      if (wanted.has(name)) continue;
      await runtime.remove(name);
      this.subtasks.delete(name);
    }
    for (const name of this.broken.keys()) if (!wanted.has(name)) this.broken.delete(name);
    for (const d of a.subtasks) {
      try {
        await this.drive(d);
        this.broken.delete(d.task);
      } catch (e) {
        this.log.error({ task: d.task, err: (e as Error).message }, 'cannot apply the subtask assignment');
        this.broken.set(d.task, e);
      }
    }
    // The relay starts once the subtasks exist (it may start where their checkpoints are).
    const r = runtime.relay;
    if (r) {
      const want = a.relay ?? { stage: 'Running', seq: 0 };
      if (r.stage === 'New' && want.stage !== 'Running') r.stage = 'Paused';
      if (this.relaySeq !== want.seq || r.stage === 'New') {
        this.relaySeq = want.seq;
        if (want.stage === 'Running') r.resume();
        else if (r.stage === 'Running') await r.pause();
      }
    }
  }

  private async drive(d: SubTaskAssignment): Promise<void> {
    let l = this.subtasks.get(d.task);
    if (l && l.yaml !== d.yaml) {
      // A task started again with a changed file: the old subtask is Stopped; rebuild it.
      await this.runtime!.remove(d.task);
      this.subtasks.delete(d.task);
      l = undefined;
    }
    if (!l) {
      const cfg = subTaskConfig(parseTaskConfig(d.yaml, d.file), this.source!.cfg);
      const st = this.runtime!.add(cfg);
      l = { st, yaml: d.yaml, seq: -1 };
      this.subtasks.set(d.task, l);
      if (d.stage !== 'Running') {
        await st.restore(d.stage);
        l.seq = d.seq;
        return;
      }
    }
    if (l.seq === d.seq) return;
    l.seq = d.seq;
    const st = l.st;
    if (d.stage === 'Running') {
      if (st.stage === 'New' || st.stage === 'Stopped') {
        if (d.removeMeta) await st.removeMeta();
        if (d.startTime) {
          st.startAt(d.startTime);
          l.startTimeSeq = d.seq;
        }
        st.start();
      } else if (st.stage === 'Paused') st.resume();
    } else if (d.stage === 'Paused') {
      if (st.stage === 'Running') st.pause();
    } else if (st.stage === 'Running' || st.stage === 'Paused') {
      await st.stop();
    }
  }
}

// dm-master: the control plane. Keeps sources, tasks and the stages operators asked for (in its
// store), binds each source to one worker, tells workers what to run (answering their
// heartbeats, and pushing at once when an operator acts), and answers dmctl's commands in DM's
// result shapes. It talks to workers through a WorkerLink (HTTP in production).
import { sleep } from '../async.js';
import { DMError, ERR, isError } from '../errors.js';
import type { Logger } from '../log.js';
import { downstreamRole, openConnection, upstreamRole } from '../mysql/connect.js';
import { dropTaskMeta } from '../units/meta.js';
import { customSecretKey, encryptPasswords } from '../task/encrypt.js';
import { withTopKey } from '../task/yaml.js';
import { checkStartTime } from '../units/sync/start-time.js';
import {
  parseSourceConfig,
  parseTaskConfig,
  subTaskConfigs,
  type SourceConfig,
  type TaskConfig,
  type SubTaskConfig,
} from '../task/config.js';
import { nextStage, type StageEvent } from '../task/stage.js';
import type { QueryStatus, SubTaskStatus, TaskList, WorkerStatus } from '../task/status.js';
import { checkTask, type TaskCheck } from '../units/check/check.js';
import type { Assignment, DesiredStage } from '../worker/assignment.js';
import type { Heartbeat } from '../worker/worker.js';
import { schedule, transferRefusal } from './scheduler.js';
import type { BinlogOp } from '../units/sync/operators.js';
import type { SchemaRequest } from '../units/sync/schema-op.js';
import type { ValidationAnswer, ValidationRequest } from '../units/sync/validator/ops.js';
import { ShardLocks, type LockState, type ShardReport, type Verdict } from '../shard/locks.js';
import type { ClusterState, TaskRecord } from './store.js';
import type { StateStore } from './etcd-store.js';
import { masterSamples, type Sample } from '../metrics/samples.js';
import { shardDDLFailed } from '../metrics/registry.js';
import { taskList, type SubTaskReport } from './task-status.js';
import { CheckDataJobs } from './check-data.js';
import { Cutover } from './cutover.js';

export interface WorkerLink {
  apply(addr: string, a: Assignment): Promise<void>;
  status(addr: string, task?: string): Promise<WorkerStatus>;
  handleError(addr: string, req: HandleErrorRequest): Promise<string>;
  purgeRelay(addr: string, file: string, subDir?: string): Promise<string[]>;
  operateSchema(addr: string, task: string, req: SchemaRequest): Promise<string>;
  validation(addr: string, task: string, req: ValidationRequest): Promise<ValidationAnswer>;
}

export interface HandleErrorRequest {
  task: string;
  op: BinlogOp;
  sqls: string[];
  binlogPos?: string;
}

/** The cluster of masters, as the leader operates on it (MasterNode). */
export interface MasterCluster {
  masters(): Promise<MemberMaster[]>;
  leader(): { name: string; addr: string } | undefined;
  /** Adds a master to etcd's members; answers the --initial-cluster it starts its member with. */
  addMaster(name: string, peerUrls: string): Promise<string>;
  /** offline-member --master: removes a master that is not alive. */
  removeMaster(name: string): Promise<void>;
  /** operate-leader evict | cancel-evict. */
  evict(name: string, on: boolean): Promise<void>;
  /** A worker's heartbeat renews its keepalive key in etcd (DM's /dm-worker/a/, with a lease of
   * its TTL), so the next leader knows who was alive. */
  workerKeepalive(name: string, ttlMs: number): void;
  /** The workers whose keepalive key is still there. */
  aliveWorkers(): Promise<string[]>;
}

export interface MemberMaster {
  name: string;
  addr: string;
  alive: boolean;
  peerURLs: string[];
  clientURLs: string[];
  evicted: boolean;
}

export interface MasterOptions {
  name: string;
  /** host:port where dmctl and workers reach this master. */
  addr: string;
  store: StateStore;
  cluster?: MasterCluster;
  log: Logger;
  link: WorkerLink;
  /** How long past a worker's keepalive TTL before its source moves to a free worker. */
  rebindGraceMs?: number;
  /** All-in-one: called when a source has no worker and none is free. */
  needWorker?: () => Promise<void>;
  /** The master's own config, as `get-config master` shows it. */
  configText?: string;
  /** The master's data directory (check-data writes its statements under it). */
  dataDir?: string;
}

export interface StartOptions {
  removeMeta?: boolean;
  startTime?: string;
  /** Only these sources' subtasks (all when empty). */
  sources?: string[];
}

/** A file given to dmctl: its name (for error messages) and text. */
export interface ConfigFile {
  file: string;
  yaml: string;
}

export interface SourceResult {
  result: boolean;
  msg: string;
  source: string;
  worker: string;
}

export interface OperateResult {
  op?: string;
  result: boolean;
  msg: string;
  sources: SourceResult[];
  checkResult?: TaskCheck['checkResult'];
}

interface Live {
  lastSeen: number;
  ttlMs: number;
}

const DEFAULT_TTL_MS = 10_000;

export class Master {
  readonly store: StateStore;
  private readonly live = new Map<string, Live>();
  /** Workers whose keepalive had expired in etcd when this leader started: offline at once
   * (the others get a full TTL to report to it). */
  private readonly goneAtStart = new Set<string>();
  private readonly startedAt = Date.now();
  private timer?: NodeJS.Timeout;
  private starting?: Promise<void>;

  /** dmctl check-data's jobs (on this leader). */
  readonly checkData: CheckDataJobs;
  /** dmctl cutover's jobs (on this leader). */
  readonly cutover: Cutover;

  constructor(private readonly opts: MasterOptions) {
    this.store = opts.store;
    this.checkData = new CheckDataJobs({
      subtaskConfigs: (t) => this.subtaskConfigs(t),
      subtaskStatus: (t, s) => this.subtaskStatus(t, s),
      dataDir: opts.dataDir,
    });
    this.cutover = new Cutover({
      subtaskConfigs: (t) => this.subtaskConfigs(t),
      subtaskStatus: (t, s) => this.subtaskStatus(t, s),
      pendingLocks: (t) => this.locks.list(t).map((l) => l.id),
      checkData: this.checkData,
    });
  }

  private get s() {
    return this.store.state;
  }

  private locks = new ShardLocks();

  async open(): Promise<void> {
    await this.store.open();
    if (this.opts.cluster) {
      const alive = new Set(await this.opts.cluster.aliveWorkers());
      for (const w of Object.keys(this.s.workers)) if (!alive.has(w)) this.goneAtStart.add(w);
    }
    this.locks = new ShardLocks(this.s.shard);
    this.s.shard = this.locks.state;
    this.timer = setInterval(
      () =>
        void this.reschedule()
          .then(() => this.ensureWorkers())
          .catch((e: Error) => this.opts.log.warn({ err: e.message }, 'reschedule failed')),
      1000,
    );
    await this.ensureWorkers();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.store.close();
  }

  // ---- workers ----

  /** A worker's heartbeat: registers it, and answers with what it should run. */
  async heartbeat(hb: Heartbeat & { ttlMs?: number }): Promise<Assignment> {
    const known = this.s.workers[hb.name];
    // The name at another address still online: a second worker of that name, unless the first
    // one is gone (a worker restarted on a new port, within a long relay-keepalive-ttl).
    if (
      known &&
      known.addr !== hb.addr &&
      this.live.has(hb.name) &&
      this.online(hb.name) &&
      (await this.opts.link.status(known.addr).then(
        () => true,
        () => false,
      ))
    ) {
      throw new DMError(
        ERR.workerNameTaken,
        `dm-worker name '${hb.name}' is already used by the online worker at ${known.addr}; give this worker another --name`,
      );
    }
    this.live.set(hb.name, { lastSeen: Date.now(), ttlMs: hb.ttlMs ?? DEFAULT_TTL_MS });
    this.opts.cluster?.workerKeepalive(hb.name, hb.ttlMs ?? DEFAULT_TTL_MS);
    let dirty = false;
    if (!known || known.addr !== hb.addr) {
      this.opts.log.info({ worker: hb.name, addr: hb.addr }, known ? 'worker moved' : 'worker registered');
      this.s.workers[hb.name] = { addr: hb.addr };
      dirty = true;
    }
    const source = this.sourceOf(hb.name);
    for (const [name, t] of Object.entries(this.s.tasks)) {
      const d = source ? t.stages[source] : undefined;
      if (d?.removeMeta && (hb.applied[name] ?? -1) >= d.seq) {
        delete d.removeMeta;
        dirty = true;
      }
      if (d?.startTime && (hb.seeked?.[name] ?? -1) >= d.seq) {
        delete d.startTime;
        dirty = true;
      }
    }
    if (dirty) await this.store.save();
    // Bindings change synchronously; the pushes to other workers must not hold up this answer.
    void this.reschedule(hb.name).catch((e: Error) =>
      this.opts.log.warn({ err: e.message }, 'reschedule failed'),
    );
    return this.assignment(hb.name);
  }

  private online(worker: string): boolean {
    const l = this.live.get(worker);
    if (!l && this.goneAtStart.has(worker)) return false;
    const seen = l?.lastSeen ?? this.startedAt;
    return Date.now() - seen <= (l?.ttlMs ?? DEFAULT_TTL_MS);
  }

  private offlineMs(worker: string): number {
    const l = this.live.get(worker);
    if (!l && this.goneAtStart.has(worker)) return Date.now() - this.startedAt + DEFAULT_TTL_MS;
    const seen = l?.lastSeen ?? this.startedAt;
    return Math.max(0, Date.now() - seen - (l?.ttlMs ?? DEFAULT_TTL_MS));
  }

  private sourceOf(worker: string): string | undefined {
    return Object.keys(this.s.bounds).find((src) => this.s.bounds[src] === worker);
  }

  private assignment(worker: string): Assignment {
    const source = this.sourceOf(worker);
    const key = customSecretKey();
    if (!source || !this.s.sources[source]) return { subtasks: [], ...(key ? { secretKey: key } : {}) };
    const subtasks = Object.entries(this.s.tasks)
      .filter(([, t]) => t.stages[source])
      .map(([task, t]) => ({ task, yaml: t.yaml, file: t.file, ...t.stages[source] }));
    const relay = this.s.relays?.[source];
    return {
      source: { id: source, ...this.s.sources[source] },
      subtasks,
      ...(relay ? { relay } : {}),
      ...(key ? { secretKey: key } : {}),
    };
  }

  /** Rebinds sources (see scheduler.ts) and tells the workers whose source changed; `except`
   * is a worker that gets its assignment in the heartbeat answer. */
  private async reschedule(except?: string): Promise<void> {
    const members = this.members();
    const next = schedule(
      Object.keys(this.s.sources),
      members,
      this.s.bounds,
      this.opts.rebindGraceMs ?? 2000,
    );
    const changed = new Set<string>();
    for (const src of new Set([...Object.keys(next), ...Object.keys(this.s.bounds)])) {
      if (next[src] === this.s.bounds[src]) continue;
      if (this.s.bounds[src]) changed.add(this.s.bounds[src]);
      if (next[src]) changed.add(next[src]);
      this.opts.log.info({ source: src, from: this.s.bounds[src], to: next[src] }, 'source rebound');
    }
    if (!changed.size) return;
    this.s.bounds = next;
    await this.store.save();
    await Promise.all([...changed].filter((w) => w !== except).map((w) => this.push(w)));
  }

  /** All-in-one: every source without a worker heard from since this master started gets an
   * in-process one; resolves once they are bound (or after 10 s). */
  private ensureWorkers(): Promise<void> {
    const needs = this.opts.needWorker;
    if (!needs) return Promise.resolve();
    const unserved = () =>
      Object.keys(this.s.sources).filter((src) => !this.live.has(this.s.bounds[src] ?? ''));
    // Cleared in a later tick (an inline `finally` could run before the assignment).
    this.starting ??= (async () => {
      // Workers this state knows (started by this process before, in an earlier term) report
      // within a heartbeat: wait for them before starting more.
      if (Object.keys(this.s.workers).length)
        while (unserved().length && Date.now() - this.startedAt < 1500) await sleep(50);
      const deadline = Date.now() + 10_000;
      while (unserved().length && Date.now() < deadline) {
        const free = [...this.live.keys()].filter((w) => !this.sourceOf(w)).length;
        if (unserved().length > free) {
          const before = this.live.size;
          await needs();
          while (this.live.size === before && Date.now() < deadline) await sleep(50);
        } else await sleep(50);
      }
    })().finally(() => (this.starting = undefined));
    return this.starting;
  }

  /** Sends a worker its assignment now; false when it cannot be reached (it gets it with its
   * next heartbeat). */
  private async push(worker: string): Promise<boolean> {
    if (!this.online(worker)) return false;
    try {
      await this.opts.link.apply(this.s.workers[worker].addr, this.assignment(worker));
      return true;
    } catch (e) {
      this.opts.log.warn({ worker, err: (e as Error).message }, 'cannot push the assignment to the worker');
      return false;
    }
  }

  // ---- sources ----

  /** operate-source create [-w worker]: the sources, bound to `worker` when one is named. */
  async createSource(files: ConfigFile[], worker?: string): Promise<OperateResult> {
    const parsed = files.map((f) => ({ f, cfg: parseSourceConfig(f.yaml, f.file) }));
    if (worker !== undefined) {
      if (parsed.length !== 1)
        throw new DMError(
          ERR.badRequest,
          "operate-source create can't create multiple sources when specify worker",
        );
      const refusal = transferRefusal(parsed[0].cfg.sourceId, worker, this.members(), this.s.bounds);
      if (refusal) throw new DMError(ERR.workerInvalidTransfer, refusal);
    }
    for (const { cfg } of parsed) {
      if (this.s.sources[cfg.sourceId]) {
        throw new DMError(
          ERR.sourceExists,
          `source '${cfg.sourceId}' already exists; operate-source stop ${cfg.sourceId} first to replace it`,
        );
      }
    }
    for (const { cfg } of parsed) await checkReachable(cfg);
    for (const { f, cfg } of parsed) {
      this.s.sources[cfg.sourceId] = { file: f.file, yaml: encryptPasswords(f.yaml) };
      if (worker !== undefined) this.s.bounds[cfg.sourceId] = worker;
    }
    await this.store.save();
    if (worker !== undefined) await this.push(worker);
    await this.reschedule();
    await this.ensureWorkers();
    return withWarnings(
      this.sourceResults(parsed.map((p) => p.cfg.sourceId)),
      parsed.flatMap((p) => p.cfg.warnings),
      this.opts.log,
    );
  }

  /** operate-source update: a source's new file, while no task runs on it and its relay is off
   * (as DM); its worker takes the new file. */
  async updateSource(files: ConfigFile[]): Promise<OperateResult> {
    const parsed = files.map((f) => ({ f, cfg: parseSourceConfig(f.yaml, f.file) }));
    for (const { cfg } of parsed) {
      const id = cfg.sourceId;
      const old = this.s.sources[id];
      if (!old)
        throw new DMError(
          ERR.sourceNotExist,
          `source '${id}' does not exist; operate-source create it instead`,
        );
      const running = Object.entries(this.s.tasks)
        .filter(([, t]) => t.stages[id]?.stage === 'Running')
        .map(([n]) => n);
      if (running.length)
        throw new DMError(
          ERR.sourceHasTasks,
          `source '${id}' cannot be updated while task ${running.join(', ')} runs on it; pause-task -s ${id} ${running[0]} (or stop it) first`,
        );
      if (parseSourceConfig(old.yaml, old.file).enableRelay)
        throw new DMError(
          ERR.sourceHasTasks,
          `source '${id}' cannot be updated while its relay is enabled; stop-relay -s ${id} first`,
        );
    }
    for (const { cfg } of parsed) await checkReachable(cfg);
    for (const { f, cfg } of parsed)
      this.s.sources[cfg.sourceId] = { file: f.file, yaml: encryptPasswords(f.yaml) };
    await this.store.save();
    const r = await this.pushSources(
      'update-source',
      parsed.map((p) => p.cfg.sourceId),
      'the worker takes it when it is back',
    );
    return withWarnings(
      r,
      parsed.flatMap((p) => p.cfg.warnings),
      this.opts.log,
    );
  }

  /** offline-member --worker: forgets a worker that is offline (its source, if still bound to
   * it, waits for another worker). */
  async offlineWorker(name: string): Promise<{ result: boolean; msg: string }> {
    if (!this.s.workers[name])
      throw new DMError(
        ERR.workerInvalidTransfer,
        `dm-worker '${name}' does not exist; list-member --worker lists the workers`,
      );
    if (this.online(name))
      throw new DMError(
        ERR.workerInvalidTransfer,
        `dm-worker '${name}' is online; stop it first (only an offline worker can be removed)`,
      );
    delete this.s.workers[name];
    this.live.delete(name);
    for (const [src, w] of Object.entries(this.s.bounds)) if (w === name) delete this.s.bounds[src];
    await this.store.save();
    await this.reschedule();
    this.opts.log.info({ worker: name }, 'worker removed by the operator');
    return { result: true, msg: '' };
  }

  /** A source's stored file, or the error naming it. */
  private sourceRecord(id: string): ClusterState['sources'][string] {
    const src = this.s.sources[id];
    if (!src)
      throw new DMError(
        ERR.sourceNotExist,
        `source '${id}' does not exist; operate-source show lists the sources`,
      );
    return src;
  }

  /** A task's record, or the error naming it. */
  private taskRecord(name: string): TaskRecord {
    const t = this.s.tasks[name];
    if (!t)
      throw new DMError(ERR.taskNotExist, `task '${name}' does not exist; query-status lists the tasks`);
    return t;
  }

  private members() {
    return Object.keys(this.s.workers).map((name) => ({
      name,
      online: this.online(name),
      offlineMs: this.offlineMs(name),
    }));
  }

  async stopSource(ids: string[]): Promise<OperateResult> {
    for (const id of ids) {
      this.sourceRecord(id);
      const users = Object.entries(this.s.tasks)
        .filter(([, t]) => t.stages[id] && t.stages[id].stage !== 'Stopped')
        .map(([n]) => n);
      if (users.length) {
        throw new DMError(
          ERR.sourceHasTasks,
          `source '${id}' is used by task ${users.join(', ')}; stop-task ${users[0]} first`,
        );
      }
    }
    const results = this.sourceResults(ids);
    for (const id of ids) {
      delete this.s.sources[id];
      delete this.s.relays?.[id];
      for (const [name, t] of Object.entries(this.s.tasks)) {
        delete t.stages[id];
        if (!Object.keys(t.stages).length) delete this.s.tasks[name];
      }
    }
    await this.store.save();
    await this.reschedule();
    return results;
  }

  // ---- relay ----

  /** The sources given (all with enable-relay when none), checked to have a relay. */
  private relaySources(ids: string[]): string[] {
    if (!ids.length) throw new DMError(ERR.badRequest, 'name the source(s): -s source-id');
    for (const id of ids) {
      const src = this.sourceRecord(id);
      if (!parseSourceConfig(src.yaml, src.file).enableRelay) {
        throw new DMError(
          ERR.workerRelayStage,
          `source '${id}' has no relay (enable-relay: false); set enable-relay: true in its source file and create it again`,
        );
      }
    }
    return ids;
  }

  /** pause-relay / resume-relay: each relay must be in a stage that allows it (Running to pause,
   * Paused to resume), or nothing changes. */
  async operateRelay(op: 'pause' | 'resume', ids: string[]): Promise<OperateResult> {
    const sources = this.relaySources(ids);
    const opName = op === 'pause' ? 'PauseRelay' : 'ResumeRelay';
    const statuses = await Promise.all(sources.map((s) => this.sourceStatus(s)));
    const problems: string[] = [];
    statuses.forEach((ws, i) => {
      if (!ws.result) return problems.push(`${sources[i]}: ${ws.msg}`);
      const stage = ws.relayStatus?.stage;
      if (!stage) return problems.push(`${sources[i]}: the relay has not started yet; try again in a moment`);
      if (op === 'pause' && stage !== 'Running')
        problems.push(
          `${sources[i]}: the relay is ${stage}, not Running; only a Running relay can be paused`,
        );
      if (op === 'resume' && stage !== 'Paused')
        problems.push(`${sources[i]}: the relay is ${stage}, not Paused; only a Paused relay can be resumed`);
    });
    if (problems.length) return { op: opName, result: false, msg: problems.join('; '), sources: [] };
    this.s.relays ??= {};
    for (const s of sources) {
      const seq = (this.s.relays[s]?.seq ?? 0) + 1;
      this.s.relays[s] = { stage: op === 'pause' ? 'Paused' : 'Running', seq };
    }
    await this.store.save();
    return {
      ...(await this.pushSources('relay', sources, 'the worker applies it when it is back')),
      op: opName,
    };
  }

  /** purge-relay: the source's worker removes relay files before `file`. */
  async purgeRelay(ids: string[], file: string, subDir?: string): Promise<OperateResult> {
    if (!file) throw new DMError(ERR.badRequest, '--filename is required: relay files before it are removed');
    const sources = await Promise.all(
      this.relaySources(ids).map(async (src): Promise<SourceResult> => {
        const w = this.s.bounds[src] ?? '';
        if (!w || !this.online(w))
          return { result: false, msg: 'the source has no online dm-worker', source: src, worker: w };
        try {
          const gone = await this.opts.link.purgeRelay(this.s.workers[w].addr, file, subDir);
          return {
            result: true,
            msg: gone.length ? `purged ${gone.join(', ')}` : 'nothing to purge',
            source: src,
            worker: w,
          };
        } catch (e) {
          return { result: false, msg: (e as Error).message, source: src, worker: w };
        }
      }),
    );
    const bad = sources.filter((s) => !s.result);
    return { result: !bad.length, msg: bad.map((s) => `${s.source}: ${s.msg}`).join('; '), sources };
  }

  /** start-relay / stop-relay -s src [worker…]: the source's relay on or off (DM v5.4's
   * enable-relay, written into the stored source file). The source's worker restarts its
   * subtasks from their checkpoints, reading the relay (or the upstream again). */
  async switchRelay(op: 'start' | 'stop', id: string, workers: string[]): Promise<OperateResult> {
    const src = this.sourceRecord(id);
    const bound = this.s.bounds[id] ?? '';
    const others = workers.filter((w) => w !== bound);
    if (others.length)
      throw new DMError(
        ERR.relayWorkersWrongBound,
        `worker ${others.join(', ')} is not the worker of source '${id}' (${bound || 'none yet'}): a source's relay runs on the worker it is bound to; omit the worker names, or transfer-source ${id} ${others[0]} first`,
      );
    const on = op === 'start';
    if (parseSourceConfig(src.yaml, src.file).enableRelay !== on) {
      src.yaml = withTopKey(src.yaml, 'enable-relay', on);
      if (!on) delete this.s.relays?.[id];
      await this.store.save();
      this.opts.log.info({ source: id }, `relay ${on ? 'started' : 'stopped'} by the operator`);
    }
    const r = await this.pushSources('relay', [id], 'the worker applies it when it is back');
    return { ...r, op: on ? 'StartRelay' : 'StopRelay' };
  }

  /** transfer-source: the source moves to a free worker. Its old worker lets the source go
   * (subtasks stop at their checkpoints) before the new one starts it. */
  async transferSource(id: string, worker: string): Promise<{ result: boolean; msg: string }> {
    this.sourceRecord(id);
    const old = this.s.bounds[id];
    if (old === worker) return { result: true, msg: '' };
    const refusal = transferRefusal(id, worker, this.members(), this.s.bounds);
    if (refusal) throw new DMError(ERR.workerInvalidTransfer, refusal);
    const running = Object.entries(this.s.tasks).filter(([, t]) => t.stages[id]?.stage === 'Running');
    if (running.length && old && this.online(old)) {
      const ws = await this.sourceStatus(id);
      const notSync = ws.subTaskStatus.filter((st) => st.stage === 'Running' && st.unit !== 'Sync');
      if (!ws.result || notSync.length)
        throw new DMError(
          ERR.transferNeedsSync,
          ws.result
            ? `running task ${notSync.map((st) => st.name).join(', ')} of source '${id}' is in ${notSync[0].unit}, not Sync; wait until it reaches Sync, or pause-task -s ${id} ${notSync[0].name} first`
            : ws.msg,
        );
    }
    if (old && !this.online(old) && this.offlineMs(old) < (this.opts.rebindGraceMs ?? 2000))
      throw new DMError(
        ERR.workerInvalidTransfer,
        `dm-worker '${old}' of source '${id}' has just gone offline and may still be running it; try again in a few seconds`,
      );
    this.s.bounds[id] = worker;
    await this.store.save();
    if (old && this.online(old) && !(await this.push(old))) {
      this.s.bounds[id] = old;
      await this.store.save();
      throw new DMError(
        ERR.unreachable,
        `cannot reach dm-worker '${old}' to let source '${id}' go; nothing was moved`,
      );
    }
    this.opts.log.info({ source: id, from: old, to: worker }, 'source transferred by the operator');
    await this.push(worker);
    return { result: true, msg: '' };
  }

  showSources(ids: string[] = []): OperateResult {
    return this.sourceResults(ids.length ? ids : Object.keys(this.s.sources).sort());
  }

  private sourceResults(ids: string[]): OperateResult {
    return {
      result: true,
      msg: '',
      sources: ids.map((id) => {
        const worker = this.s.bounds[id] ?? '';
        const msg = !this.s.sources[id]
          ? 'source not found'
          : !worker
            ? 'no free dm-worker: start one with --join pointing at this master'
            : this.online(worker)
              ? ''
              : `dm-worker ${worker} is offline`;
        return { result: !!this.s.sources[id], msg, source: id, worker };
      }),
    };
  }

  private sourceConfigs(): SourceConfig[] {
    return Object.values(this.s.sources).map((s) => parseSourceConfig(s.yaml, s.file));
  }

  // ---- tasks ----

  private parseTask(f: ConfigFile): TaskConfig {
    return parseTaskConfig(f.yaml, f.file);
  }

  async checkTask(f: ConfigFile): Promise<TaskCheck> {
    return checkTask(subTaskConfigs(this.parseTask(f), this.sourceConfigs()));
  }

  /** start-task [-s source…] [--remove-meta] [--start-time]: starts (or restarts) the task's
   * subtasks, on the given sources only when some are named. */
  async startTask(f: ConfigFile, o: StartOptions = {}): Promise<OperateResult> {
    return this.putTask(f, o, 'Running');
  }

  /** DM's OpenAPI create: the task is checked and stored with every subtask Stopped (start it
   * with startTask on its stored file). */
  async createTask(f: ConfigFile): Promise<OperateResult & { task?: TaskConfig }> {
    const name = this.parseTask(f).name;
    if (this.s.tasks[name])
      throw new DMError(
        ERR.taskExists,
        `task '${name}' already exists; delete it first, or give the new task another name`,
      );
    return { ...(await this.putTask(f, {}, 'Stopped')), task: this.parseTask(f) };
  }

  /** A stored task's file, or undefined. */
  taskFile(name: string): ConfigFile | undefined {
    return this.s.tasks[name];
  }

  /** The task's subtasks' configs (its sources' files resolved). */
  subtaskConfigs(task: string): SubTaskConfig[] {
    return subTaskConfigs(this.parseTask(this.taskRecord(task)), this.sourceConfigs());
  }

  /** How the task's subtask on `source` is, or why that cannot be told. */
  async subtaskStatus(task: string, source: string): Promise<SubTaskStatus | string> {
    const ws = await this.sourceStatus(source, task);
    if (!ws.result) return ws.msg;
    return (
      ws.subTaskStatus.find((st) => st.name === task) ?? `source ${source} runs no subtask of task ${task}`
    );
  }

  /** A stored source's config, or undefined. */
  sourceConfig(id: string): SourceConfig | undefined {
    const s = this.s.sources[id];
    return s && parseSourceConfig(s.yaml, s.file);
  }

  /** The worker a source is bound to ('' when none). */
  boundWorker(id: string): string {
    return this.s.bounds[id] ?? '';
  }

  /** The tasks that run on a source. */
  tasksOfSource(id: string): string[] {
    return Object.entries(this.s.tasks)
      .filter(([, t]) => t.stages[id])
      .map(([n]) => n)
      .sort();
  }

  /** Every task's name. */
  taskNames(): string[] {
    return Object.keys(this.s.tasks).sort();
  }

  /** DM's OpenAPI task templates (task files kept for later), by name. */
  templates(): Record<string, ConfigFile> {
    return { ...(this.s.templates ?? {}) };
  }

  /** Stores a task template (checked as a task file); `create`: it must not exist yet. */
  async putTemplate(f: ConfigFile, create: boolean): Promise<TaskConfig> {
    const t = this.parseTask(f);
    const all = (this.s.templates ??= {});
    if (create && all[t.name]) throw new DMError(ERR.taskExists, `task template '${t.name}' already exists`);
    if (!create && !all[t.name])
      throw new DMError(ERR.badRequest, `task template '${t.name}' does not exist`);
    all[t.name] = { file: f.file, yaml: encryptPasswords(f.yaml) };
    await this.store.save();
    return t;
  }

  async deleteTemplate(name: string): Promise<void> {
    if (!this.s.templates?.[name])
      throw new DMError(ERR.badRequest, `task template '${name}' does not exist`);
    delete this.s.templates[name];
    await this.store.save();
  }

  /** Every task's file as a template (DM's import); an existing one is kept unless `overwrite`. */
  async importTemplates(
    overwrite: boolean,
  ): Promise<{ done: string[]; failed: { task_name: string; error_msg: string }[] }> {
    const all = (this.s.templates ??= {});
    const done: string[] = [];
    const failed: { task_name: string; error_msg: string }[] = [];
    for (const [name, t] of Object.entries(this.s.tasks)) {
      if (all[name] && !overwrite)
        failed.push({ task_name: name, error_msg: `task template '${name}' already exists` });
      else {
        all[name] = { file: t.file, yaml: t.yaml };
        done.push(name);
      }
    }
    await this.store.save();
    return { done, failed };
  }

  /** Every source's id. */
  sourceNames(): string[] {
    return Object.keys(this.s.sources).sort();
  }

  /** A source's worker status (its relay and subtasks). */
  sourceStatusOf(id: string): Promise<WorkerStatus> {
    return this.sourceStatus(id);
  }

  /** DM's OpenAPI update: a stopped task's new file (it stays stopped). */
  async updateTask(f: ConfigFile): Promise<OperateResult> {
    const t = this.taskRecord(this.parseTask(f).name);
    if (Object.values(t.stages).some((d) => d.stage !== 'Stopped'))
      throw new DMError(
        ERR.taskExists,
        `task '${this.parseTask(f).name}' is not stopped; stop it before updating it`,
      );
    return this.putTask(f, {}, 'Stopped');
  }

  /** DM's OpenAPI start: a paused task resumes, a stopped one starts from its stored file. */
  async startOrResume(name: string, o: StartOptions): Promise<OperateResult> {
    const t = this.taskRecord(name);
    const targets = o.sources?.length ? o.sources : Object.keys(t.stages);
    if (targets.every((s) => t.stages[s]?.stage === 'Paused'))
      return this.operateTask('resume', name, o.sources);
    return this.startTask(t, o);
  }

  /** DM's OpenAPI stop: the subtasks stop; a stopped task stays (stop-task would remove it). */
  async stopKeeping(name: string, sources: string[]): Promise<void> {
    const t = this.taskRecord(name);
    const targets = sources.length ? sources : Object.keys(t.stages);
    if (targets.every((s) => t.stages[s]?.stage === 'Stopped')) return;
    const r = await this.operateTask('stop', name, sources);
    if (!r.result) throw new DMError(ERR.badRequest, r.msg);
  }

  /** The masters (DM's OpenAPI cluster/masters). */
  async masterList(): Promise<{ name: string; alive: boolean; leader: boolean; addr: string }[]> {
    const c = this.opts.cluster;
    const leader = c?.leader()?.name ?? this.opts.name;
    const all = c ? await c.masters() : [{ name: this.opts.name, addr: this.opts.addr, alive: true }];
    return all.map((x) => ({ name: x.name, alive: x.alive, leader: x.name === leader, addr: x.addr }));
  }

  /** The workers and what they are bound to (DM's OpenAPI cluster/workers). */
  workerList(): { name: string; addr: string; stage: string; source: string }[] {
    return Object.entries(this.s.workers)
      .map(([name, w]) => {
        const source = this.sourceOf(name) ?? '';
        return {
          name,
          addr: w.addr,
          stage: !this.online(name) ? 'offline' : source ? 'bound' : 'free',
          source,
        };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** DM's OpenAPI delete: a stopped task is removed (with `force`, a running one is stopped
   * first), its meta tables dropped on the target unless `keepMeta`. */
  async deleteTask(name: string, force: boolean, keepMeta: boolean): Promise<void> {
    const t = this.taskRecord(name);
    const cfg = this.parseTask(t);
    const running = Object.values(t.stages).some((d) => d.stage !== 'Stopped');
    if (running) {
      if (!force)
        throw new DMError(
          ERR.taskExists,
          `task '${name}' is not stopped; stop it first, or delete it with force=true`,
        );
      const r = await this.operateTask('stop', name);
      if (!r.result) throw new DMError(ERR.badRequest, `task '${name}' cannot be stopped: ${r.msg}`);
    }
    const r = await this.operateTask('stop', name);
    if (!r.result) throw new DMError(ERR.badRequest, `task '${name}' cannot be removed: ${r.msg}`);
    if (!keepMeta) {
      const c = await openConnection(cfg.targetDatabase, downstreamRole());
      try {
        await dropTaskMeta(c, cfg.metaSchema, name);
      } finally {
        c.close();
      }
    }
  }

  private async putTask(
    f: ConfigFile,
    o: StartOptions,
    initial: 'Running' | 'Stopped',
  ): Promise<OperateResult> {
    const { removeMeta, startTime } = o;
    const task = this.parseTask(f);
    const sources = o.sources ?? [];
    const unknown = sources.filter((s) => !task.mysqlInstances.some((i) => i.sourceId === s));
    if (unknown.length)
      throw new DMError(
        ERR.subTaskNotExist,
        `source ${unknown.join(', ')} is not in task '${task.name}' (mysql-instances)`,
      );
    if (startTime !== undefined) {
      checkStartTime(startTime);
      if (task.taskMode !== 'incremental')
        throw new DMError(
          ERR.dmctlUsage,
          `--start-time is for task-mode incremental; task '${task.name}' is '${task.taskMode}', whose Sync starts where its dump was taken`,
        );
    }
    const cfgs = subTaskConfigs(task, this.sourceConfigs()).filter(
      (c) => !sources.length || sources.includes(c.instance.sourceId),
    );
    const old = this.s.tasks[task.name];
    const targeted = Object.entries(old?.stages ?? {}).filter(
      ([s]) => !sources.length || sources.includes(s),
    );
    if (targeted.some(([, d]) => d.stage !== 'Stopped')) {
      throw new DMError(
        ERR.taskExists,
        `task '${task.name}' already exists and is not stopped; stop-task ${task.name} first, or give the new task another name`,
      );
    }
    const check = await checkTask(cfgs);
    if (!check.result) return { result: false, msg: check.msg, sources: [], checkResult: check.checkResult };
    const stages: Record<string, DesiredStage> = sources.length ? { ...old?.stages } : {};
    for (const c of cfgs) {
      const id = c.instance.sourceId;
      stages[id] = {
        stage: initial,
        seq: (old?.stages[id]?.seq ?? 0) + 1,
        ...(removeMeta ? { removeMeta } : {}),
        ...(startTime !== undefined ? { startTime } : {}),
      };
    }
    this.s.tasks[task.name] = { file: f.file, yaml: encryptPasswords(f.yaml), stages };
    await this.store.save();
    const r = await this.pushSources(
      task.name,
      cfgs.map((c) => c.instance.sourceId),
      'the subtask starts when its worker is back',
    );
    return withWarnings(r, task.warnings, this.opts.log);
  }

  /** pause-task / resume-task / stop-task, on some or all sources of a task. Each targeted
   * subtask must allow the operation in its current stage (the seed's state machine), or
   * nothing changes. stop-task on a task that is already Stopped everywhere removes it. */
  async operateTask(
    op: 'pause' | 'resume' | 'stop',
    name: string,
    sources: string[] = [],
  ): Promise<OperateResult> {
    const opName = { pause: 'Pause', resume: 'Resume', stop: 'Stop' }[op];
    const t = this.taskRecord(name);
    const targets = sources.length ? sources : Object.keys(t.stages);
    for (const s of targets) {
      if (!t.stages[s])
        throw new DMError(ERR.subTaskNotExist, `task '${name}' has no subtask on source '${s}'`);
    }
    if (op === 'stop' && targets.every((s) => t.stages[s].stage === 'Stopped')) {
      for (const s of targets) delete t.stages[s];
      if (!Object.keys(t.stages).length) {
        delete this.s.tasks[name];
        this.locks.drop(name);
      }
      await this.store.save();
      const r = await this.pushSources(name, targets, '');
      return { ...r, op: opName, msg: `task '${name}' was stopped; now removed` };
    }
    const event: StageEvent = op;
    const statuses = await Promise.all(targets.map((s) => this.sourceStatus(s, name)));
    const problems: string[] = [];
    statuses.forEach((ws, i) => {
      const src = targets[i];
      if (!ws.result) return problems.push(`${src}: ${ws.msg}`);
      const st = ws.subTaskStatus.find((x) => x.name === name);
      if (!st)
        return problems.push(`${src}: the worker has not started the subtask yet; try again in a moment`);
      if (!nextStage(st.stage, event)) problems.push(`${src}: ${refusal(op, st.stage, name)}`);
    });
    if (problems.length) {
      return { op: opName, result: false, msg: problems.join('; '), sources: [] };
    }
    const stage = ({ pause: 'Paused', resume: 'Running', stop: 'Stopped' } as const)[op];
    for (const s of targets) t.stages[s] = { stage, seq: t.stages[s].seq + 1 };
    await this.store.save();
    return {
      ...(await this.pushSources(name, targets, 'the worker applies it when it is back')),
      op: opName,
    };
  }

  private async pushSources(task: string, sources: string[], offlineMsg: string): Promise<OperateResult> {
    const results: SourceResult[] = [];
    const workers = new Set<string>();
    for (const src of sources) {
      const w = this.s.bounds[src] ?? '';
      if (w) workers.add(w);
      results.push({ result: true, msg: '', source: src, worker: w });
    }
    const reached = new Map<string, boolean>();
    await Promise.all([...workers].map(async (w) => reached.set(w, await this.push(w))));
    for (const r of results) {
      if (!r.worker) r.msg = `source has no dm-worker; ${offlineMsg}`;
      else if (!reached.get(r.worker)) r.msg = `dm-worker ${r.worker} is offline; ${offlineMsg}`;
    }
    this.opts.log.info({ task, sources }, 'task operation applied');
    return { result: true, msg: '', sources: results };
  }

  // ---- status ----

  private async sourceStatus(src: string, task?: string): Promise<WorkerStatus> {
    const w = this.s.bounds[src];
    const base = { worker: '', source: src, subTaskStatus: [], relayStatus: null };
    if (!w) {
      return {
        ...base,
        result: false,
        msg: `source ${src} has no dm-worker: start one with --join ${this.opts.addr}`,
      };
    }
    const addr = this.s.workers[w].addr;
    if (!this.online(w)) {
      const l = this.live.get(w);
      const since = l
        ? `${Math.round((Date.now() - l.lastSeen) / 1000)} s ago`
        : 'not since this master started';
      return {
        ...base,
        worker: addr,
        result: false,
        msg: `dm-worker ${w} (${addr}) of source ${src} is offline: last heartbeat ${since}; restart it, or start a free dm-worker to take the source over`,
      };
    }
    try {
      const ws = await this.opts.link.status(addr, task);
      return { ...ws, source: src };
    } catch (e) {
      return {
        ...base,
        worker: addr,
        result: false,
        msg: `cannot query dm-worker ${w}: ${(e as Error).message}`,
      };
    }
  }

  /** Why a source's worker cannot say how its subtasks are, in a few words. */
  private brief(src: string): string {
    const w = this.s.bounds[src];
    if (!w) return `source ${src} has no dm-worker`;
    return this.online(w)
      ? `dm-worker ${w} of source ${src} does not answer`
      : `dm-worker ${w} of source ${src} is offline`;
  }

  async queryStatus(task: string): Promise<QueryStatus> {
    const t = this.s.tasks[task];
    if (!t) {
      return {
        result: false,
        msg: `task '${task}' does not exist; query-status without a name lists the tasks`,
        workers: [],
      };
    }
    const workers = await Promise.all(Object.keys(t.stages).map((src) => this.sourceStatus(src, task)));
    for (const w of workers) w.subTaskStatus = w.subTaskStatus.filter((s) => s.name === task);
    return { result: true, msg: '', workers };
  }

  /** DM's `query-status --more` (and `-s` without a task): every source that runs a task, with
   * all its subtasks' full status. */
  async allStatus(): Promise<QueryStatus> {
    const sources = [...new Set(Object.values(this.s.tasks).flatMap((t) => Object.keys(t.stages)))].sort();
    return {
      result: true,
      msg: '',
      workers: await Promise.all(sources.map((src) => this.sourceStatus(src))),
    };
  }

  async listTasks(): Promise<TaskList> {
    const sources = [...new Set(Object.values(this.s.tasks).flatMap((t) => Object.keys(t.stages)))];
    const statuses = new Map(
      await Promise.all(sources.map(async (s) => [s, await this.sourceStatus(s)] as const)),
    );
    const reports: SubTaskReport[] = [];
    for (const [name, t] of Object.entries(this.s.tasks)) {
      for (const src of Object.keys(t.stages)) {
        const ws = statuses.get(src)!;
        const st = ws.subTaskStatus.find((x) => x.name === name);
        reports.push({
          task: name,
          source: src,
          relay: ws.relayStatus,
          status: st ?? {
            unreachable: ws.result
              ? `dm-worker of source ${src} has not started the subtask yet`
              : this.brief(src),
          },
        });
      }
    }
    return { result: true, msg: '', tasks: taskList(reports) };
  }

  // ---- sharding DDL locks ----

  async shardRegister(task: string, source: string, groups: Record<string, string[]>): Promise<void> {
    this.locks.register(task, source, groups);
    await this.store.save();
  }

  async shardReport(r: ShardReport): Promise<Verdict> {
    const v = counted(r.task, () => this.locks.report(r));
    await this.store.save();
    if (v === 'exec')
      this.opts.log.info({ lock: `${r.task}-${r.target}`, owner: r.source }, 'sharding DDL lock resolved');
    return v;
  }

  async shardOptimistic(r: ShardReport): Promise<'exec' | 'skip'> {
    const v = counted(r.task, () => this.locks.optimistic(r));
    await this.store.save();
    return v;
  }

  async shardDone(op: 'executed' | 'skipped', task: string, target: string, source: string): Promise<void> {
    this.locks[op](task, target, source);
    await this.store.save();
  }

  /** shard-ddl-lock: DM's shape, with the tables each source still misses. */
  showLocks(task?: string): unknown {
    const view = (l: LockState) => ({
      ID: l.id,
      task: l.task,
      mode: 'pessimistic',
      owner: l.owner,
      DDLs: l.ddls,
      synced: Object.entries(l.synced).flatMap(([s, tables]) => Object.keys(tables).map((t) => `${s}:${t}`)),
      unsynced: Object.entries(this.locks.unsynced(l)).flatMap(([s, tables]) =>
        tables.map((t) => `${s}:${t}`),
      ),
    });
    return { result: true, msg: '', locks: this.locks.list(task).map(view) };
  }

  /** shard-ddl-lock unlock: resolve a lock with the sources that have reached it. */
  async unlock(id: string, owner?: string, action: 'exec' | 'skip' = 'exec'): Promise<unknown> {
    const l = this.locks.unlock(id, owner, action);
    await this.store.save();
    this.opts.log.warn({ lock: id, owner: l.owner, action }, 'sharding DDL lock unlocked by the operator');
    return {
      result: true,
      msg: l.skipAll
        ? `lock ${id} unlocked: every source skips the DDLs (none executes them)`
        : `lock ${id} unlocked: ${l.owner} executes the DDLs, the other sources skip them`,
      sources: [],
    };
  }

  // ---- errors, members, configs ----

  async handleError(req: HandleErrorRequest & { sources?: string[] }): Promise<OperateResult> {
    const t = this.taskRecord(req.task);
    let targets = req.sources?.length ? req.sources : Object.keys(t.stages);
    if (!req.sources?.length && targets.length > 1 && !req.binlogPos && req.op !== 'list') {
      const statuses = await Promise.all(targets.map((s) => this.sourceStatus(s, req.task)));
      targets = targets.filter((_, i) =>
        statuses[i].subTaskStatus.some(
          (st) => st.stage === 'Paused' && st.unit === 'Sync' && st.result?.errors.length,
        ),
      );
      if (!targets.length)
        throw new DMError(ERR.notSyncing, `no subtask of task '${req.task}' is paused by a Sync error`);
    }
    const { task, op, sqls, binlogPos } = req;
    return this.onSubtasks(task, targets, (addr) =>
      this.opts.link.handleError(addr, { task, op, sqls, binlogPos }),
    );
  }

  /** binlog-schema list | update | delete on the task's subtasks (of `sources`, or all). */
  async operateSchema(task: string, sources: string[], req: SchemaRequest): Promise<OperateResult> {
    const t = this.taskRecord(task);
    return this.onSubtasks(task, sources.length ? sources : Object.keys(t.stages), (addr) =>
      this.opts.link.operateSchema(addr, task, req),
    );
  }

  /** `work` on the worker of each source's subtask of `task`; one result per source. */
  private async onSubtasks(
    task: string,
    targets: string[],
    work: (addr: string, source: string) => Promise<string>,
  ): Promise<OperateResult> {
    const t = this.s.tasks[task];
    const sources = await Promise.all(
      targets.map(async (src): Promise<SourceResult> => {
        const w = this.s.bounds[src] ?? '';
        if (!t?.stages[src])
          return { result: false, msg: `task has no subtask on source ${src}`, source: src, worker: w };
        if (!w || !this.online(w))
          return { result: false, msg: 'the source has no online dm-worker', source: src, worker: w };
        try {
          return { result: true, msg: await work(this.s.workers[w].addr, src), source: src, worker: w };
        } catch (e) {
          return { result: false, msg: (e as Error).message, source: src, worker: w };
        }
      }),
    );
    const ok = sources.every((s) => s.result);
    return {
      result: ok,
      msg: ok
        ? ''
        : sources
            .filter((s) => !s.result)
            .map((s) => `${s.source}: ${s.msg}`)
            .join('; '),
      sources,
    };
  }

  /** dmctl validation …: on every subtask of `task` (of `sources`, or all; every task when
   * `task` is empty), with DM's answer for the operation. */
  async validation(
    task: string,
    sources: string[],
    req: ValidationRequest,
  ): Promise<Record<string, unknown>> {
    const tasks = task ? [task] : Object.keys(this.s.tasks);
    if (task) this.taskRecord(task);
    const answers: ValidationAnswer[] = [];
    const results: SourceResult[] = [];
    for (const name of tasks) {
      const all = Object.keys(this.s.tasks[name].stages);
      const unknown = sources.filter((s) => !all.includes(s));
      if (task && unknown.length)
        throw new DMError(
          ERR.validatorNotFound,
          `task '${name}' has no subtask on source(s) ${unknown.join(', ')}`,
        );
      const r = await this.onSubtasks(
        name,
        sources.length ? sources.filter((s) => all.includes(s)) : all,
        async (addr) => {
          const a = await this.opts.link.validation(addr, name, req);
          answers.push(a);
          return a.msg;
        },
      );
      results.push(...r.sources);
    }
    const ok = results.every((s) => s.result);
    const msg = results
      .filter((s) => !s.result)
      .map((s) => `${s.source}: ${s.msg}`)
      .join('; ');
    switch (req.op) {
      case 'status':
        return {
          result: ok,
          msg,
          validators: answers.flatMap((a) => (a.status ? [a.status] : [])),
          tableStatuses: answers.flatMap((a) => a.tableStatuses ?? []),
        };
      case 'show-error':
        return { result: ok, msg, error: answers.flatMap((a) => a.errors ?? []) };
      case 'ignore-error':
      case 'resolve-error':
      case 'clear-error':
        return { result: ok, msg: ok ? '' : msg };
      default:
        return { result: ok, msg, sources: results };
    }
  }

  async listMember(): Promise<unknown> {
    const workers = this.workerList();
    const self = { name: this.opts.name, addr: this.opts.addr };
    const c = this.opts.cluster;
    const masters = c
      ? (await c.masters()).map(({ name, addr, alive, peerURLs, clientURLs }) => ({
          name,
          addr,
          alive,
          peerURLs,
          clientURLs,
        }))
      : [{ ...self, alive: true, peerURLs: [], clientURLs: [`http://${this.opts.addr}`] }];
    return {
      result: true,
      msg: '',
      members: [
        { leader: { msg: '', ...(c?.leader() ?? self) } },
        { master: { msg: '', masters } },
        { worker: { msg: '', workers } },
      ],
    };
  }

  /** DM's dm_master_* metrics as this leader sees the cluster. */
  metricSamples(): Sample[] {
    const workers = Object.keys(this.s.workers).map((name) => ({
      name,
      stage: !this.online(name)
        ? ('offline' as const)
        : this.sourceOf(name)
          ? ('bound' as const)
          : ('free' as const),
    }));
    const locks = this.locks
      .list()
      .map((l) => ({ task: l.task, unsynced: Object.keys(this.locks.unsynced(l)).length }));
    return masterSamples(workers, locks);
  }

  /** A master joining the cluster (dm-master --join): added to etcd's members. */
  async addMaster(
    name: string,
    peerUrls: string,
  ): Promise<{ result: boolean; msg: string; initialCluster: string }> {
    if (!this.opts.cluster)
      throw new DMError(ERR.masterJoin, 'this dm-master runs on no etcd cluster to join');
    const initialCluster = await this.opts.cluster.addMaster(name, peerUrls);
    this.opts.log.info({ master: name, peerUrls }, 'a dm-master joins the cluster');
    return { result: true, msg: '', initialCluster };
  }

  /** offline-member --master -n name. */
  async offlineMaster(name: string): Promise<{ result: boolean; msg: string }> {
    if (!this.opts.cluster) throw new DMError(ERR.masterNameNotExist, `dm-master ${name} does not exist`);
    await this.opts.cluster.removeMaster(name);
    this.opts.log.info({ master: name }, 'dm-master removed by the operator');
    return { result: true, msg: `dm-master ${name} removed from the cluster` };
  }

  /** operate-leader evict | cancel-evict: the named master (default: this leader) stops leading
   * and does not campaign while evicted; cancel-evict without a name lets every evicted master
   * lead again (DM's form is sent to one master, which here is the leader). */
  async operateLeader(
    op: 'evict' | 'cancel-evict',
    name?: string,
  ): Promise<{ result: boolean; msg: string }> {
    const c = this.opts.cluster;
    if (!c) throw new DMError(ERR.badRequest, 'operate-leader needs the cluster of masters on etcd');
    const all = await c.masters();
    if (op === 'cancel-evict' && name === undefined) {
      const evicted = all.filter((m) => m.evicted).map((m) => m.name);
      for (const n of evicted) await c.evict(n, false);
      return {
        result: true,
        msg: evicted.length ? `${evicted.join(', ')} may lead again` : 'no dm-master is evicted',
      };
    }
    name ??= this.opts.name;
    const known = all.map((m) => m.name);
    if (!known.includes(name))
      throw new DMError(
        ERR.masterNameNotExist,
        `dm-master ${name} does not exist; list-member shows the masters (${known.join(', ')})`,
      );
    await c.evict(name, op === 'evict');
    return {
      result: true,
      msg:
        op === 'evict'
          ? `dm-master ${name} is evicted: it does not lead until cancel-evict${name === this.opts.name ? '; another master takes over within seconds' : ''}`
          : `dm-master ${name} may lead again`,
    };
  }

  /** Every source's and task's file as stored (config export). */
  listConfigs(): {
    result: boolean;
    msg: string;
    sources: Record<string, string>;
    tasks: Record<string, string>;
  } {
    const yamls = (r: Record<string, { yaml: string }>) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.yaml]));
    return { result: true, msg: '', sources: yamls(this.s.sources), tasks: yamls(this.s.tasks) };
  }

  getConfig(type: string, name: string): { result: boolean; msg: string; cfg: string } {
    let cfg: string | undefined;
    if (type === 'task') cfg = this.s.tasks[name]?.yaml;
    else if (type === 'source') cfg = this.s.sources[name]?.yaml;
    else if (type === 'master') cfg = name === this.opts.name ? (this.opts.configText ?? '') : undefined;
    else if (type === 'worker') {
      const w = this.s.workers[name];
      cfg = w
        ? `name = ${JSON.stringify(name)}\nworker-addr = ${JSON.stringify(w.addr)}\njoin = ${JSON.stringify(this.opts.addr)}\n`
        : undefined;
    } else
      throw new DMError(
        ERR.badRequest,
        `get-config: unknown config type '${type}'; use task, source, master or worker`,
      );
    if (cfg === undefined) throw new DMError(ERR.badRequest, `get-config: ${type} '${name}' does not exist`);
    return { result: true, msg: '', cfg };
  }
}

/** A lock's verdict; a conflict is counted in dm_master_shard_ddl_error, then thrown. */
function counted<T>(task: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (isError(e, ERR.shardDDLConflict)) shardDDLFailed(task, 'conflict');
    throw e;
  }
}

function refusal(op: 'pause' | 'resume' | 'stop', stage: string, task: string): string {
  const why = {
    pause: 'only a Running subtask can be paused',
    resume:
      stage === 'Stopped'
        ? `a Stopped task starts again with start-task (it continues from its checkpoint)`
        : 'only a Paused subtask can be resumed',
    stop: 'only a Running or Paused subtask can be stopped',
  }[op];
  return `cannot ${op} task '${task}': its subtask is ${stage}; ${why}`;
}

/** operate-source create: the upstream must answer with the given user and password. */
async function checkReachable(cfg: SourceConfig): Promise<void> {
  const c = await openConnection(cfg.from, upstreamRole());
  c.close();
}

/** An answer that also says which of the file's keys change nothing here (and logs them). */
function withWarnings<T extends { msg: string }>(r: T, warnings: string[], log: Logger): T {
  if (!warnings.length) return r;
  for (const w of warnings) log.warn(`config: ${w}`);
  return { ...r, msg: [r.msg, ...warnings.map((w) => `warning: ${w}`)].filter(Boolean).join('\n') };
}

// The cluster state in etcd, under DM's key layout where it maps (dm/common/common.go): every
// source, task, stage, worker, binding and the sharding DDL state is one key holding JSON. The
// leader keeps the state in memory and `save()` writes what changed since the last save in
// transactions that hold only while this master is still the leader (its election key still has
// its value), so a deposed leader can never overwrite the new one's writes.
import type { Etcd3 } from 'etcd3';
import { DMError, ERR } from '../errors.js';
import type { ShardState } from '../shard/locks.js';
import type { DesiredStage } from '../worker/assignment.js';
import type { ClusterState } from './store.js';
import { serialize } from '../async.js';

/** What the master keeps its state in. */
export interface StateStore {
  state: ClusterState;
  open(): Promise<void>;
  save(): Promise<void>;
  close(): Promise<void>;
}

const K = {
  source: '/dm-master/v2/upstream/config/',
  task: '/dm-master/task/',
  stage: '/dm-master/stage/subtask/',
  worker: '/dm-worker/r/',
  bound: '/dm-master/bound-worker/',
  relay: '/dm-master/v2/stage/relay/',
  shard: '/dm-master/shardddl/state',
  template: '/dm-master/openapi-task-template/',
};
/** Every key of the state starts with one of these. */
export const STATE_PREFIXES = [
  '/dm-master/v2/',
  '/dm-master/task/',
  '/dm-master/stage/',
  '/dm-worker/r/',
  '/dm-master/bound-worker/',
  K.shard,
  K.template,
];

const enc = encodeURIComponent;
const dec = decodeURIComponent;

/** The state as etcd keys and JSON values (pure). */
export function toKeys(s: ClusterState): Map<string, string> {
  const out = new Map<string, string>();
  const put = (k: string, v: unknown) => out.set(k, JSON.stringify(v));
  for (const [id, src] of Object.entries(s.sources)) put(K.source + enc(id), src);
  for (const [name, t] of Object.entries(s.tasks)) {
    put(K.task + enc(name), { yaml: t.yaml, file: t.file });
    for (const [src, stage] of Object.entries(t.stages)) put(`${K.stage}${enc(src)}/${enc(name)}`, stage);
  }
  for (const [name, w] of Object.entries(s.workers)) put(K.worker + enc(name), w);
  for (const [src, worker] of Object.entries(s.bounds)) put(K.bound + enc(worker), { source: src });
  for (const [src, stage] of Object.entries(s.relays ?? {})) put(K.relay + enc(src), stage);
  if (s.shard) put(K.shard, s.shard);
  for (const [name, t] of Object.entries(s.templates ?? {})) put(K.template + enc(name), t);
  return out;
}

/** The state from etcd keys (pure); keys of other kinds are left alone. */
export function fromKeys(kv: Record<string, string>): ClusterState {
  const s: ClusterState = { sources: {}, tasks: {}, workers: {}, bounds: {}, relays: {}, templates: {} };
  const stages: Array<[string, string, DesiredStage]> = [];
  for (const [k, v] of Object.entries(kv)) {
    const j = JSON.parse(v) as unknown;
    if (k.startsWith(K.source))
      s.sources[dec(k.slice(K.source.length))] = j as ClusterState['sources'][string];
    else if (k.startsWith(K.task)) {
      const t = j as { yaml: string; file: string };
      s.tasks[dec(k.slice(K.task.length))] = { ...t, stages: {} };
    } else if (k.startsWith(K.stage)) {
      const [src, task] = k.slice(K.stage.length).split('/').map(dec);
      stages.push([src, task, j as DesiredStage]);
    } else if (k.startsWith(K.worker)) s.workers[dec(k.slice(K.worker.length))] = j as { addr: string };
    else if (k.startsWith(K.bound)) s.bounds[(j as { source: string }).source] = dec(k.slice(K.bound.length));
    else if (k.startsWith(K.relay)) s.relays![dec(k.slice(K.relay.length))] = j as DesiredStage;
    else if (k === K.shard) s.shard = j as ShardState;
    else if (k.startsWith(K.template))
      s.templates![dec(k.slice(K.template.length))] = j as { yaml: string; file: string };
  }
  for (const [src, task, stage] of stages) if (s.tasks[task]) s.tasks[task].stages[src] = stage;
  return s;
}

/** etcd's default limit of operations in one transaction is 128. */
const TXN_OPS = 100;

export class EtcdStore implements StateStore {
  state: ClusterState = { sources: {}, tasks: {}, workers: {}, bounds: {} };
  private saved = new Map<string, string>();
  private readonly write = serialize();

  constructor(
    private readonly etcd: Etcd3,
    /** The election key and this leader's value in it: every write is conditional on it. */
    private readonly guard: { key: string; value: string },
  ) {}

  private opened = false;

  /** Reads the state (once: a second call keeps what is in memory). */
  async open(): Promise<void> {
    if (this.opened) return;
    this.opened = true;
    const kv: Record<string, string> = {};
    for (const p of STATE_PREFIXES) Object.assign(kv, await this.etcd.getAll().prefix(p).strings());
    this.state = fromKeys(kv);
    this.saved = toKeys(this.state);
  }

  /** Writes what changed since the last save; refused (ERR.notLeader) once this master no longer
   * leads. Saves are serialized and each sees the state as it is when it runs. */
  save(): Promise<void> {
    return this.write(async () => {
      const next = toKeys(this.state);
      const ops: Array<{ put: string; value: string } | { del: string }> = [];
      for (const [k, v] of next) if (this.saved.get(k) !== v) ops.push({ put: k, value: v });
      for (const k of this.saved.keys()) if (!next.has(k)) ops.push({ del: k });
      for (let i = 0; i < ops.length; i += TXN_OPS) {
        const batch = ops
          .slice(i, i + TXN_OPS)
          .map((o) => ('put' in o ? this.etcd.put(o.put).value(o.value) : this.etcd.delete().key(o.del)));
        const r = await this.etcd
          .if(this.guard.key, 'Value', '==', this.guard.value)
          .then(...batch)
          .commit();
        if (!r.succeeded) {
          throw new DMError(
            ERR.notLeader,
            'this dm-master is no longer the leader: its change was not written',
          );
        }
        for (const o of ops.slice(i, i + TXN_OPS)) {
          if ('put' in o) this.saved.set(o.put, o.value);
          else this.saved.delete(o.del);
        }
      }
    });
  }

  async close(): Promise<void> {
    await this.save().catch(() => undefined);
  }
}

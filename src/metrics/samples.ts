// What DM's Prometheus metrics say, computed from the status a worker or the master already keeps
// (pure): the names, types and labels are DM's (dm/worker, dm/syncer/metrics, dm/loader,
// dm/relay, dm/master/metrics in pingcap/tiflow), so DM's Grafana dashboards and alert rules
// read them unchanged. Event counters (exit_with_error_count) are kept where the event happens
// (metrics/registry.ts).
import type { SubTaskStatus, WorkerStatus } from '../task/status.js';
import type { LockState } from '../shard/locks.js';

export type MetricType = 'gauge' | 'counter';

export interface MetricSpec {
  name: string;
  type: MetricType;
  help: string;
  labels: readonly string[];
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The metrics computed from status, by name. */
export const STATUS_METRICS: readonly MetricSpec[] = [
  {
    name: 'dm_worker_task_state',
    type: 'gauge',
    help: 'state of task, 0 - invalidStage, 1 - New, 2 - Running, 3 - Paused, 4 - Stopped, 5 - Finished',
    labels: ['task', 'source_id', 'worker'],
  },
  {
    name: 'dm_syncer_replication_lag_gauge',
    type: 'gauge',
    help: 'replication lag gauge in second between mysql and syncer',
    labels: ['task', 'source_id', 'worker'],
  },
  {
    name: 'dm_syncer_binlog_file',
    type: 'gauge',
    help: 'current binlog file index',
    labels: ['node', 'task', 'source_id'],
  },
  {
    name: 'dm_syncer_binlog_pos',
    type: 'gauge',
    help: 'current binlog pos',
    labels: ['node', 'task', 'source_id'],
  },
  {
    name: 'dm_syncer_finished_transaction_total',
    type: 'counter',
    help: 'total number of finished transaction',
    labels: ['task', 'worker', 'source_id'],
  },
  {
    name: 'dm_syncer_shard_lock_resolving',
    type: 'gauge',
    help: 'waiting shard DDL lock to be resolved',
    labels: ['task', 'source_id'],
  },
  {
    name: 'dm_syncer_unsynced_table_number',
    type: 'gauge',
    help: 'number of unsynced tables in the subtask',
    labels: ['task', 'table', 'source_id'],
  },
  {
    name: 'dm_loader_progress',
    type: 'gauge',
    help: 'the processing progress of loader in percentage',
    labels: ['task', 'source_id'],
  },
  {
    name: 'dm_relay_binlog_file',
    type: 'gauge',
    help: 'current binlog file index',
    labels: ['node'],
  },
  {
    name: 'dm_relay_binlog_pos',
    type: 'gauge',
    help: 'current binlog pos in current file',
    labels: ['node'],
  },
  {
    name: 'dm_relay_space',
    type: 'gauge',
    help: 'the space of storage for relay component',
    labels: ['type'],
  },
  {
    name: 'dm_master_worker_state',
    type: 'gauge',
    help: 'state of worker, -1 - unrecognized, 0 - offline, 1 - free, 2 - bound',
    labels: ['worker'],
  },
  {
    name: 'dm_master_ddl_state_number',
    type: 'gauge',
    help: 'number of pending DDL in different states, Un-synced (waiting all upstream), Synced (all upstream finished, waiting all downstream)',
    labels: ['task', 'type'],
  },
];

const STAGE: Record<string, number> = { New: 1, Running: 2, Paused: 3, Stopped: 4, Finished: 5 };

/** `(mysql-bin.000003, 1234)` → DM's file index (the number after the last dot) and position. */
export function binlogNumbers(pos: string | undefined): { file: number; pos: number } | undefined {
  const m = /^\(?\s*(\S+?)\s*,\s*(\d+)\s*\)?$/.exec(pos ?? '');
  if (!m) return undefined;
  const file = Number(/\.(\d+)$/.exec(m[1])?.[1] ?? NaN);
  return Number.isFinite(file) ? { file, pos: Number(m[2]) } : undefined;
}

/** `45.10 %` (or a fraction) → 0.451. */
function fraction(v: unknown): number | undefined {
  if (typeof v === 'number') return v > 1 ? v / 100 : v;
  const m = /^\s*([\d.]+)\s*%\s*$/.exec(String(v ?? ''));
  return m ? Number(m[1]) / 100 : undefined;
}

function subtaskSamples(st: SubTaskStatus, source: string, worker: string): Sample[] {
  const out: Sample[] = [];
  const task = st.name;
  out.push({
    name: 'dm_worker_task_state',
    labels: { task, source_id: source, worker },
    value: STAGE[st.stage] ?? 0,
  });
  const sync = st.sync as Record<string, unknown> | undefined;
  if (sync) {
    out.push({
      name: 'dm_syncer_replication_lag_gauge',
      labels: { task, source_id: source, worker },
      value: Number(sync.secondsBehindMaster ?? 0),
    });
    for (const [node, key] of [
      ['master', 'masterBinlog'],
      ['syncer', 'syncerBinlog'],
    ] as const) {
      const b = binlogNumbers(sync[key] as string | undefined);
      if (!b) continue;
      out.push({ name: 'dm_syncer_binlog_file', labels: { node, task, source_id: source }, value: b.file });
      out.push({ name: 'dm_syncer_binlog_pos', labels: { node, task, source_id: source }, value: b.pos });
    }
    out.push({
      name: 'dm_syncer_finished_transaction_total',
      labels: { task, worker, source_id: source },
      value: Number(sync.totalEvents ?? 0),
    });
    out.push({
      name: 'dm_syncer_shard_lock_resolving',
      labels: { task, source_id: source },
      value: st.unresolvedDDLLockID ? 1 : 0,
    });
    for (const g of (sync.unresolvedGroups as Array<{ target: string; unsynced: string[] }> | undefined) ??
      []) {
      out.push({
        name: 'dm_syncer_unsynced_table_number',
        labels: { task, table: g.target, source_id: source },
        value: g.unsynced.length,
      });
    }
  }
  const load = st.load as Record<string, unknown> | undefined;
  const done = st.unit === 'Sync' || st.stage === 'Finished';
  const p = load ? fraction(load.progress) : undefined;
  if (p !== undefined || (done && (load || st.unit === 'Sync')))
    out.push({ name: 'dm_loader_progress', labels: { task, source_id: source }, value: done ? 1 : (p ?? 0) });
  return out;
}

/** A worker's metrics from its status (and its relay directory's space). */
export function workerSamples(
  st: WorkerStatus,
  worker: string,
  space?: { capacity: number; available: number },
): Sample[] {
  const source = st.source ?? '';
  const out = st.subTaskStatus.flatMap((s) => subtaskSamples(s, source, worker));
  const relay = st.relayStatus as Record<string, unknown> | null;
  if (relay) {
    for (const [node, key] of [
      ['master', 'masterBinlog'],
      ['relay', 'relayBinlog'],
    ] as const) {
      const b = binlogNumbers(relay[key] as string | undefined);
      if (!b) continue;
      out.push({ name: 'dm_relay_binlog_file', labels: { node }, value: b.file });
      out.push({ name: 'dm_relay_binlog_pos', labels: { node }, value: b.pos });
    }
  }
  if (space) {
    out.push({ name: 'dm_relay_space', labels: { type: 'capacity' }, value: space.capacity });
    out.push({ name: 'dm_relay_space', labels: { type: 'available' }, value: space.available });
  }
  return out;
}

/** The leader's metrics: each worker's state, and the sharding DDL locks by state. */
export function masterSamples(
  workers: Array<{ name: string; stage: 'offline' | 'free' | 'bound' }>,
  locks: Array<Pick<LockState, 'task'> & { unsynced: number }>,
): Sample[] {
  const state = { offline: 0, free: 1, bound: 2 };
  const out: Sample[] = workers.map((w) => ({
    name: 'dm_master_worker_state',
    labels: { worker: w.name },
    value: state[w.stage] ?? -1,
  }));
  const count = new Map<string, number>();
  for (const l of locks) {
    const k = `${l.task}\0${l.unsynced ? 'Un-synced' : 'Synced'}`;
    count.set(k, (count.get(k) ?? 0) + 1);
  }
  for (const [k, n] of count) {
    const [task, type] = k.split('\0');
    out.push({ name: 'dm_master_ddl_state_number', labels: { task, type }, value: n });
  }
  return out;
}

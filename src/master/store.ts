// The master's cluster state, as the leader holds it in memory (EtcdStore keeps it in etcd):
// sources, tasks, the stages operators asked for, workers and bindings, shard DDL state.
import type { ShardState } from '../shard/locks.js';
import type { DesiredStage } from '../worker/assignment.js';

export interface TaskRecord {
  /** The task file as given (passwords as written: plain or encrypted). */
  yaml: string;
  file: string;
  /** Per source id. */
  stages: Record<string, DesiredStage>;
}

export interface ClusterState {
  sources: Record<string, { yaml: string; file: string }>;
  tasks: Record<string, TaskRecord>;
  workers: Record<string, { addr: string }>;
  /** Source id → worker name. */
  bounds: Record<string, string>;
  /** Source id → the stage an operator asked its relay to be in (pause-relay/resume-relay). */
  relays?: Record<string, DesiredStage>;
  /** Sharding groups and DDL locks (they survive a master restart). */
  shard?: ShardState;
  /** DM's OpenAPI task templates: task files kept for later, by task name. */
  templates?: Record<string, { yaml: string; file: string }>;
}

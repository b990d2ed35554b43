// What runs for one source: its relay (enable-relay) and its subtasks, wired together (the relay
// starts where the subtasks need it and keeps what they still read; Sync reads the relay). The
// one runtime of a dm-worker's bound source and of each source of run-task.
import { comparePosition, type BinlogPosition } from '../binlog/position.js';
import type { Logger } from '../log.js';
import type { SourceConfig, SubTaskConfig } from '../task/config.js';
import type { RelayStatus } from '../task/status.js';
import { relayDirOf, RelayUnit } from '../units/relay/relay.js';
import type { ShardCoordinator } from '../units/sync/shard.js';
import { SubTask } from './subtask.js';

export interface RuntimeOptions {
  log: Logger;
  /** The worker's name (the metrics' `worker` label). */
  worker?: string;
  /** The worker's relay-dir, over the source's. */
  relayDir?: string;
  /** First auto-resume delay of the subtasks and the relay. */
  autoResumeMs?: number;
  /** The sharding DDL locks a subtask reports to. */
  coordinator: (task: string, sourceId: string) => ShardCoordinator | undefined;
}

export class SourceRuntime {
  readonly relay?: RelayUnit;
  private readonly subtasks = new Map<string, SubTask>();

  constructor(
    readonly source: SourceConfig,
    private readonly o: RuntimeOptions,
  ) {
    if (source.enableRelay) {
      this.relay = new RelayUnit(source, {
        dir: relayDirOf(source, o.relayDir),
        log: o.log,
        autoResumeMs: o.autoResumeMs,
        neededStart: () => this.neededStart(),
      });
    }
  }

  /** A subtask of this source (not started). */
  add(cfg: SubTaskConfig): SubTask {
    const st = new SubTask(cfg, {
      log: this.o.log,
      autoResumeMs: this.o.autoResumeMs,
      shard: this.o.coordinator(cfg.name, cfg.instance.sourceId),
      relay: this.relay,
      worker: this.o.worker,
    });
    this.subtasks.set(cfg.name, st);
    return st;
  }

  /** Stops a subtask's work and forgets it (its checkpoints stay). */
  async remove(task: string): Promise<void> {
    await this.subtasks.get(task)?.close();
    this.subtasks.delete(task);
    this.relay?.release(task);
  }

  /** The earliest binlog position a subtask reads from next (the relay starts there). */
  async neededStart(): Promise<BinlogPosition | undefined> {
    let min: BinlogPosition | undefined;
    for (const st of this.subtasks.values()) {
      const p = await st.plannedSyncStart();
      if (p && (!min || comparePosition(p, min) < 0)) min = p;
    }
    return min;
  }

  relayStatus(): RelayStatus | null {
    return this.relay?.status() ?? null;
  }

  /** Stops everything (stages unchanged: whoever runs the source next continues). */
  async close(): Promise<void> {
    await Promise.all([...this.subtasks.values()].map((st) => st.close()));
    this.subtasks.clear();
    await this.relay?.close();
  }
}

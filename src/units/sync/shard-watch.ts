// While a shard table's DDL waits on the master's lock, the coordinator is asked again every
// 300 ms; once a lock is resolved, the owner executes its DDLs and the run ends for a re-sync.
import type { Logger } from '../../log.js';
import type { ShardSync } from './shard.js';

export interface ShardWatchHooks {
  /** Runs a DDL on the target (in order with the run's other statements). */
  exec(sql: string): Promise<void>;
  /** A target table changed: its cached schema is gone. */
  forget(db: string, table: string): void;
  log: Logger;
  /** A lock was resolved: the run ends (stop reading) and re-syncs. */
  onResolved(): void;
  onError(e: unknown): void;
}

export class ShardWatch {
  resolved = false;
  private polling = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly shard: ShardSync,
    private readonly hooks: ShardWatchHooks,
  ) {
    this.timer = setInterval(() => this.poll(), 300);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private poll(): void {
    if (this.polling || !this.shard.waitingCount || this.resolved) return;
    this.polling = true;
    this.once()
      .catch((e) => this.hooks.onError(e))
      .finally(() => (this.polling = false));
  }

  private async once(): Promise<void> {
    const [g] = await this.shard.poll();
    if (!g) return;
    if (g.verdict === 'exec') {
      for (const sql of g.ddls) {
        await this.hooks.exec(sql);
        this.hooks.log.info({ ddl: sql, target: g.target }, 'sync: sharding DDL executed (lock owner)');
      }
      this.hooks.forget(g.name.db, g.name.table);
    }
    await this.shard.resolved(g.target, g.verdict);
    this.resolved = true;
    this.hooks.onResolved();
  }
}

// Sync's side of sharding DDL coordination (shard-mode: pessimistic). Upstream tables whose
// route target is another table form groups by target. When a shard table reaches an ALTER, its
// later transactions are held back (left unapplied, so the checkpoint stays before them) while
// other tables keep flowing; the DDL is reported to the coordinator (the master's lock). When the
// lock is resolved, the owner executes the DDL once on the target, the others skip it, and each
// re-syncs: Sync restarts from its checkpoint and applies exactly the held-back transactions (the
// ones applied meanwhile are in the checkpoint's applied lists), meeting the DDLs again, which
// the coordinator now answers `done`.
import { DMError, ERR, isError } from '../../errors.js';
import { quoteTable } from '../../mysql/connect.js';
import { ER } from '../../mysql/errno.js';
import type { TableName } from '../../schema/ddl.js';
import type { Router } from '../../rules/route.js';
import { routeStatement } from '../../rules/route.js';
import { sameDDLs, type ShardReport, type Verdict } from '../../shard/locks.js';
import type { Txn } from './txn.js';

/** The master's sharding DDL locks, as a subtask sees them (task and source are bound). */
export interface ShardCoordinator {
  register(groups: Record<string, string[]>): Promise<void>;
  report(r: Omit<ShardReport, 'task' | 'source'>): Promise<Verdict>;
  /** shard-mode optimistic: execute now (idempotently) or skip. */
  optimistic(r: Omit<ShardReport, 'task' | 'source'>): Promise<'exec' | 'skip'>;
  executed(target: string): Promise<void>;
  skipped(target: string): Promise<void>;
}

interface Waiting {
  /** The target table (unquoted). */
  name: TableName;
  ddls: string[];
  firstPos: string;
  /** upstream table → end position of its DDL */
  synced: Map<string, string>;
  verdict: Verdict;
}

type DDLAction = { action: 'apply'; sql: string; tolerate: number[] } | { action: 'done' | 'held' };

const COORDINATED = new Set(['alter table', 'create index', 'drop index']);

export class ShardSync {
  /** target → its upstream tables (quoted), for the tables whose route target is another table. */
  private groups = new Map<string, string[]>();
  private readonly groupOf = new Map<string, string>();
  private readonly waiting = new Map<string, Waiting>();
  /** The conflict this subtask stopped on (DM's `blockDDLOwner`, `conflictMsg`), until it starts
   * again. */
  private conflict?: { owner: string; msg: string };

  constructor(
    private readonly task: string,
    private readonly source: string,
    private readonly mode: 'pessimistic' | 'optimistic',
    private readonly coordinator: ShardCoordinator,
    private readonly router: Router,
  ) {}

  /** Registers the groups from the upstream's tables (those the block-allow list admits). */
  async start(tables: Array<{ db: string; table: string }>): Promise<void> {
    this.groups.clear();
    this.groupOf.clear();
    this.waiting.clear();
    this.conflict = undefined;
    for (const t of tables) {
      const r = this.router.route(t.db, t.table);
      if (r.db === t.db && r.table === t.table) continue;
      const target = quoteTable(r.db, r.table);
      const up = quoteTable(t.db, t.table);
      this.groups.set(target, [...(this.groups.get(target) ?? []), up]);
      this.groupOf.set(up, target);
    }
    await this.coordinator.register(Object.fromEntries(this.groups));
  }

  /** Some table's DDL waits on a lock (transactions may be held back). */
  get holding(): boolean {
    return this.waiting.size > 0;
  }

  /** Whether the transaction touches a table whose DDL is waiting (it is held back). */
  holds(txn: Txn): boolean {
    if (!this.waiting.size) return false;
    const blocked = (db: string, table: string) => {
      const up = quoteTable(db, table);
      return this.waiting.get(this.groupOf.get(up) ?? '')?.synced.has(up) ?? false;
    };
    if (txn.ddl) return txn.ddl.info.tables.some((t) => blocked(t.db, t.table));
    return txn.rows.some((r) => blocked(r.table.schema, r.table.table));
  }

  /** The group a DDL belongs to, if it is a shard table's DDL. */
  groupOfDDL(txn: Txn): string | undefined {
    const t = txn.ddl?.info.tables[0];
    return t && this.groupOf.get(quoteTable(t.db, t.table));
  }

  /** A shard table's DDL: `apply` it now (`tolerate`: the target errors that mean it is already
   * there), `done` when it needs nothing more, `held` when it now waits on the lock. */
  async onDDL(txn: Txn): Promise<DDLAction> {
    try {
      return await this.decide(txn);
    } catch (e) {
      if (isError(e, ERR.shardDDLConflict)) {
        const t = txn.ddl!.info.tables[0];
        // DM's lock-ID form for the shard table whose DDL conflicts: source-`db`.`table`
        this.conflict = { owner: `${this.source}-${quoteTable(t.db, t.table)}`, msg: e.message };
      }
      throw e;
    }
  }

  private async decide(txn: Txn): Promise<DDLAction> {
    const { schema, query, info } = txn.ddl!;
    const t = info.tables[0];
    const up = quoteTable(t.db, t.table);
    const target = this.groupOf.get(up)!;
    const routed = routeStatement(query, schema, this.router);
    if (info.op === 'create table') {
      return {
        action: 'apply',
        sql: routed.replace(/^CREATE\s+TABLE\s+(?!IF\s+NOT\s+EXISTS)/i, 'CREATE TABLE IF NOT EXISTS '),
        tolerate: [ER.TABLE_EXISTS],
      };
    }
    if (!COORDINATED.has(info.op)) {
      throw new DMError(ERR.shardDDLUnsupported, {
        message: `${info.op.toUpperCase()} on shard table ${up} (binlog ${txn.endText}) is not supported with shard-mode pessimistic: on the merged target ${target} it would affect every shard's rows`,
        workaround:
          "Skip it with 'binlog skip' (or run what fits the merged table with 'binlog replace'), then the task continues.",
      });
    }
    if (this.mode === 'optimistic') {
      const v = await this.call(() =>
        this.coordinator.optimistic({ target, table: up, ddls: [routed], pos: txn.endText }),
      );
      // duplicate column / key, can't drop: an earlier shard (or run) already did it
      return v === 'exec'
        ? {
            action: 'apply',
            sql: routed,
            tolerate: [ER.DUP_FIELDNAME, ER.DUP_KEYNAME, ER.CANT_DROP_FIELD_OR_KEY],
          }
        : { action: 'done' };
    }
    const w = this.waiting.get(target);
    if (w && !sameDDLs(w.ddls, [routed])) {
      throw conflict(
        `${up} has ${JSON.stringify([routed])} but the group ${target} waits on ${JSON.stringify(w.ddls)}`,
      );
    }
    const verdict = await this.report(target, up, [routed], txn.endText);
    if (verdict === 'done') return { action: 'done' };
    const g = w ?? {
      name: this.router.route(t.db, t.table),
      ddls: [routed],
      firstPos: txn.endText,
      synced: new Map<string, string>(),
      verdict,
    };
    g.synced.set(up, txn.endText);
    g.verdict = verdict;
    this.waiting.set(target, g);
    return { action: 'held' };
  }

  /** Asks the coordinator again for every waiting group; returns the groups now resolved, with
   * what to do (execute the DDLs, or skip them). */
  async poll(): Promise<
    Array<{ target: string; name: TableName; ddls: string[]; verdict: 'exec' | 'skip' }>
  > {
    const out: Array<{ target: string; name: TableName; ddls: string[]; verdict: 'exec' | 'skip' }> = [];
    for (const [target, w] of this.waiting) {
      const [table, pos] = [...w.synced][0];
      w.verdict = await this.report(target, table, w.ddls, pos);
      if (w.verdict === 'exec' || w.verdict === 'skip')
        out.push({ target, name: w.name, ddls: w.ddls, verdict: w.verdict });
    }
    return out;
  }

  async resolved(target: string, verdict: 'exec' | 'skip'): Promise<void> {
    if (verdict === 'exec') await this.coordinator.executed(target);
    else await this.coordinator.skipped(target);
  }

  get waitingCount(): number {
    return this.waiting.size;
  }

  /** query-status: the lock this subtask waits on. */
  lockId(): string {
    const [target] = [...this.waiting.keys()];
    return target ? `${this.task}-${target}` : '';
  }

  /** query-status `blockingDDLs`, `unresolvedGroups`, and DM v2's `blockDDLOwner`, `conflictMsg`. */
  status(): {
    blockingDDLs: string[];
    unresolvedGroups: unknown[];
    blockDDLOwner: string;
    conflictMsg: string;
  } {
    const blockingDDLs: string[] = [];
    const unresolvedGroups = [...this.waiting].map(([target, w]) => {
      const tables = this.groups.get(target) ?? [];
      const unsynced = tables.filter((t) => !w.synced.has(t));
      if (!unsynced.length) blockingDDLs.push(...w.ddls);
      return { target, DDLs: w.ddls, firstPos: w.firstPos, synced: [...w.synced.keys()], unsynced };
    });
    return {
      blockingDDLs,
      unresolvedGroups,
      blockDDLOwner: this.conflict?.owner ?? '',
      conflictMsg: this.conflict?.msg ?? '',
    };
  }

  private report(target: string, table: string, ddls: string[], pos: string): Promise<Verdict> {
    return this.call(() => this.coordinator.report({ target, table, ddls, pos }));
  }

  /** A coordinator call; its conflict answer (by code) becomes this subtask's conflict error. */
  private async call<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      if (isError(e, ERR.shardDDLConflict)) throw conflict(e.message);
      throw e;
    }
  }
}

function conflict(detail: string): DMError {
  return new DMError(ERR.shardDDLConflict, {
    message: `sharding DDL conflict: ${detail}`,
    workaround:
      "Make the shards' DDLs the same (binlog replace on the odd shard), or resolve the lock by hand with shard-ddl-lock unlock; then resume-task.",
  });
}

// Sharding DDL locks, pessimistic mode (pure; the master keeps the state in its store, run-task
// in memory). Upstream tables that route to one target table form a sharding group across the
// task's sources. When a shard table reaches a DDL, its worker reports it; the lock
// (`<task>-`db`.`table``) is resolved once every table of every source in the group has reached
// the same DDLs. The first source to report is the owner: it executes the DDL on the target once
// and says so; every other source is then told to skip it. A DDL reported again after the lock
// is done (a worker replaying its binlog) is answered `done`. Different DDLs in one group are a
// conflict the operator must settle.

import { DMError, ERR } from '../errors.js';
import { optimisticVerdict, type OptimisticState } from './optimistic.js';

export type Verdict = 'wait' | 'exec' | 'skip' | 'done';

export interface ShardReport {
  task: string;
  source: string;
  /** Quoted target, e.g. `db`.`t`. */
  target: string;
  /** Quoted upstream table that reached the DDL. */
  table: string;
  /** The DDL routed to the target, one statement per entry. */
  ddls: string[];
  /** Where the DDL ends in the source's binlog, "(file, pos)". */
  pos: string;
}

export interface LockState {
  id: string;
  task: string;
  target: string;
  ddls: string[];
  owner: string;
  /** source → upstream table → position of its DDL. */
  synced: Record<string, Record<string, string>>;
  /** Set by the operator's unlock: resolve with the sources that reported. */
  forced?: boolean;
  /** The owner executed the DDL. */
  executed?: boolean;
  /** The operator's `unlock -a skip`: no source executes the DDLs, every one skips them. */
  skipAll?: boolean;
  /** Sources done with the lock (the owner after executing, the others after skipping). */
  finished: string[];
}

export interface ShardState {
  /** task → source → target → its upstream tables. */
  groups: Record<string, Record<string, Record<string, string[]>>>;
  locks: Record<string, LockState>;
  /** task → source → DDL positions already resolved (answered `done` when reported again). */
  done: Record<string, Record<string, string[]>>;
  /** task → optimistic mode's additions and removals per target. */
  optimistic: Record<string, OptimisticState>;
  /** task → source → target → DDLs an operator's unlock resolved before these tables reached them. */
  owed: Record<string, Record<string, Record<string, { ddls: string[]; tables: string[] }>>>;
}

/** Shards whose DDLs differ (or that shard-mode optimistic cannot merge). */
export class ShardConflictError extends DMError {
  constructor(message: string) {
    super(ERR.shardDDLConflict, message);
  }
}

export function lockId(task: string, target: string): string {
  return `${task}-${target}`;
}

export class ShardLocks {
  readonly state: ShardState;

  constructor(state?: Partial<ShardState>) {
    this.state = { groups: {}, locks: {}, done: {}, owed: {}, optimistic: {}, ...state };
  }

  /** A source's groups at the start of its Sync (replaces what it registered before). */
  register(task: string, source: string, groups: Record<string, string[]>): void {
    (this.state.groups[task] ??= {})[source] = groups;
  }

  /** Forgets a task (stop-task removed it). */
  drop(task: string): void {
    delete this.state.groups[task];
    delete this.state.done[task];
    delete this.state.owed[task];
    delete this.state.optimistic[task];
    for (const [id, l] of Object.entries(this.state.locks)) if (l.task === task) delete this.state.locks[id];
  }

  report(r: ShardReport): Verdict {
    if (this.state.done[r.task]?.[r.source]?.includes(r.pos)) return 'done';
    const owed = this.state.owed[r.task]?.[r.source]?.[r.target];
    if (owed && owed.tables.includes(r.table) && sameDDLs(owed.ddls, r.ddls)) {
      owed.tables = owed.tables.filter((t) => t !== r.table);
      if (!owed.tables.length) delete this.state.owed[r.task][r.source][r.target];
      this.remember(r.task, r.source, [r.pos]);
      return 'done';
    }
    const id = lockId(r.task, r.target);
    let l = this.state.locks[id];
    if (!l) {
      l = this.state.locks[id] = {
        id,
        task: r.task,
        target: r.target,
        ddls: r.ddls,
        owner: r.source,
        synced: {},
        finished: [],
      };
    } else if (!sameDDLs(l.ddls, r.ddls)) {
      throw new ShardConflictError(
        `sharding DDL conflict in lock ${id}: ${r.source} ${r.table} has ${JSON.stringify(r.ddls)} but the group waits on ${JSON.stringify(l.ddls)}`,
      );
    }
    (l.synced[r.source] ??= {})[r.table] = r.pos;
    return this.verdict(l, r.source);
  }

  /** shard-mode optimistic: `exec` the DDL on the target now (idempotently) or `skip` it. */
  optimistic(r: ShardReport): 'exec' | 'skip' {
    const group = Object.entries(this.state.groups[r.task] ?? {}).flatMap(([source, groups]) =>
      (groups[r.target] ?? []).map((t) => `${source}:${t}`),
    );
    const state = (this.state.optimistic[r.task] ??= { added: {}, dropped: {} });
    try {
      return optimisticVerdict(state, r.target, `${r.source}:${r.table}`, group, r.ddls.join('; '));
    } catch (e) {
      if (e instanceof DMError) throw e;
      throw new ShardConflictError((e as Error).message);
    }
  }

  /** The owner executed the lock's DDL: everyone else may skip it. */
  executed(task: string, target: string, source: string): void {
    const l = this.state.locks[lockId(task, target)];
    if (l && l.owner === source) {
      l.executed = true;
      this.finish(l, source);
    }
  }

  /** A non-owner source has skipped the DDL; the lock ends when every source is through. */
  skipped(task: string, target: string, source: string): void {
    const l = this.state.locks[lockId(task, target)];
    if (l?.executed) this.finish(l, source);
  }

  /** The operator's unlock: resolve with the sources that have reported; the others skip the
   * same DDLs when they reach them. `owner` (unlock-ddl-lock -o) executes the DDLs instead of
   * the first source that reported; it must have reached them. `skip` (DM's `-a skip`): none
   * executes them (the operator has, or they must not run), every source skips them. */
  unlock(id: string, owner?: string, action: 'exec' | 'skip' = 'exec'): LockState {
    const l = this.state.locks[id];
    if (!l) throw new DMError(ERR.lockNotFound, `no sharding DDL lock '${id}'; shard-ddl-lock lists them`);
    if (owner !== undefined && owner !== l.owner) {
      if (l.executed)
        throw new DMError(
          ERR.lockNotFound,
          `lock '${id}': its owner ${l.owner} has already executed the DDLs`,
        );
      if (!l.synced[owner])
        throw new DMError(
          ERR.lockNotFound,
          `lock '${id}': source '${owner}' has not reached the DDLs, so it cannot execute them; pick one of ${Object.keys(l.synced).join(', ')}`,
        );
      l.owner = owner;
    }
    l.forced = true;
    if (action === 'skip' && !l.executed) l.executed = l.skipAll = true;
    for (const [source, tables] of Object.entries(this.unsynced(l))) {
      ((this.state.owed[l.task] ??= {})[source] ??= {})[l.target] = { ddls: l.ddls, tables };
    }
    return l;
  }

  /** The sources and tables a lock still waits for. */
  unsynced(l: LockState): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [source, groups] of Object.entries(this.state.groups[l.task] ?? {})) {
      const tables = groups[l.target];
      if (!tables) continue;
      const missing = tables.filter((t) => !l.synced[source]?.[t]);
      if (missing.length) out[source] = missing;
    }
    return out;
  }

  list(task?: string): LockState[] {
    return Object.values(this.state.locks).filter((l) => !task || l.task === task);
  }

  private verdict(l: LockState, source: string): Verdict {
    const resolved = l.forced || Object.keys(this.unsynced(l)).length === 0;
    if (!resolved) return 'wait';
    if (source === l.owner && !l.skipAll) return l.executed ? 'done' : 'exec';
    return l.executed ? 'skip' : 'wait';
  }

  private remember(task: string, source: string, positions: string[]): void {
    const list = ((this.state.done[task] ??= {})[source] ??= []);
    for (const pos of positions) if (!list.includes(pos)) list.push(pos);
    if (list.length > 1000) list.splice(0, list.length - 1000);
  }

  private finish(l: LockState, source: string): void {
    this.remember(l.task, source, Object.values(l.synced[source] ?? {}));
    if (!l.finished.includes(source)) l.finished.push(source);
    if (Object.keys(l.synced).every((s) => l.finished.includes(s))) delete this.state.locks[l.id];
  }
}

export function sameDDLs(a: string[], b: string[]): boolean {
  const norm = (s: string) => s.replace(/\s+/g, ' ').trim().toLowerCase();
  return a.length === b.length && a.every((x, i) => norm(x) === norm(b[i]));
}

/** A subtask's view of a ShardLocks (task and source bound), for one process (run-task). */
export function localCoordinator(locks: ShardLocks, task: string, source: string) {
  return {
    register: async (groups: Record<string, string[]>) => locks.register(task, source, groups),
    report: async (r: Omit<ShardReport, 'task' | 'source'>) => locks.report({ ...r, task, source }),
    optimistic: async (r: Omit<ShardReport, 'task' | 'source'>) => locks.optimistic({ ...r, task, source }),
    executed: async (target: string) => locks.executed(task, target, source),
    skipped: async (target: string) => locks.skipped(task, target, source),
  };
}

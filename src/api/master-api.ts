// The master's HTTP API (what dmctl and workers call) and the workers' HTTP client for it.
import type { ConfigFile, Master } from '../master/master.js';
import type { Assignment } from '../worker/assignment.js';
import type { Heartbeat, MasterLink } from '../worker/worker.js';
import type { ShardReport } from '../shard/locks.js';
import { call, type Route } from './http.js';

interface Body {
  files?: ConfigFile[];
  ids?: string[];
  sources?: string[];
  removeMeta?: boolean;
  op?: 'skip' | 'replace';
  sqls?: string[];
  binlogPos?: string;
  filename?: string;
  subDir?: string;
}

const body = (b: unknown): Body => (b ?? {}) as Body;
const file = (b: unknown): ConfigFile => body(b).files?.[0] ?? { file: 'task.yaml', yaml: '' };
const list = (s: string | null): string[] => (s ? s.split(',').filter(Boolean) : []);

/** `m` gives the master (it is made once the server knows its port). */
export function masterRoutes(m: () => Master): Route[] {
  return [
    { method: 'POST', path: '/api/v1/workers/heartbeat', handler: (r) => m().heartbeat(r.body as Heartbeat) },
    { method: 'POST', path: '/api/v1/sources', handler: (r) => m().createSource(body(r.body).files ?? []) },
    { method: 'POST', path: '/api/v1/sources/stop', handler: (r) => m().stopSource(body(r.body).ids ?? []) },
    {
      method: 'GET',
      path: '/api/v1/sources',
      handler: async (r) => m().showSources(list(r.query.get('ids'))),
    },
    {
      method: 'POST',
      path: '/api/v1/tasks',
      handler: (r) => m().startTask(file(r.body), body(r.body).removeMeta ?? false),
    },
    { method: 'POST', path: '/api/v1/tasks/check', handler: (r) => m().checkTask(file(r.body)) },
    {
      method: 'POST',
      path: '/api/v1/tasks/:name/binlog',
      handler: (r) => {
        const b = body(r.body);
        return m().handleError({
          task: r.params.name,
          op: b.op ?? 'skip',
          sqls: b.sqls ?? [],
          binlogPos: b.binlogPos,
          sources: b.sources,
        });
      },
    },
    {
      method: 'POST',
      path: '/api/v1/tasks/:name/:op',
      handler: async (r) => {
        const op = r.params.op;
        if (op !== 'pause' && op !== 'resume' && op !== 'stop')
          throw new Error(`unknown task operation '${op}'`);
        return m().operateTask(op, r.params.name, body(r.body).sources);
      },
    },
    {
      method: 'POST',
      path: '/api/v1/relay/:op',
      handler: async (r) => {
        const b = body(r.body);
        const op = r.params.op;
        if (op === 'purge') return m().purgeRelay(b.sources ?? [], b.filename ?? '', b.subDir);
        if (op !== 'pause' && op !== 'resume') throw new Error(`unknown relay operation '${op}'`);
        return m().operateRelay(op, b.sources ?? []);
      },
    },
    { method: 'GET', path: '/api/v1/status', handler: () => m().listTasks() },
    { method: 'GET', path: '/api/v1/status/:name', handler: (r) => m().queryStatus(r.params.name) },
    { method: 'GET', path: '/api/v1/members', handler: async () => m().listMember() },
    {
      method: 'POST',
      path: '/api/v1/shard/:op',
      handler: async (r) => {
        const b = r.body as ShardReport & { groups: Record<string, string[]> };
        switch (r.params.op) {
          case 'register':
            await m().shardRegister(b.task, b.source, b.groups);
            return { result: true, msg: '' };
          case 'report':
            return { result: true, msg: '', verdict: await m().shardReport(b) };
          case 'optimistic':
            return { result: true, msg: '', verdict: await m().shardOptimistic(b) };
          case 'executed':
          case 'skipped':
            await m().shardDone(r.params.op, b.task, b.target, b.source);
            return { result: true, msg: '' };
          default:
            throw new Error(`unknown sharding operation '${r.params.op}'`);
        }
      },
    },
    {
      method: 'GET',
      path: '/api/v1/shard-ddl-locks',
      handler: async (r) => m().showLocks(r.query.get('task') ?? undefined),
    },
    {
      method: 'POST',
      path: '/api/v1/shard-ddl-locks/unlock',
      handler: async (r) => m().unlock((r.body as { id: string }).id),
    },
    {
      method: 'GET',
      path: '/api/v1/config/:type/:name',
      handler: async (r) => m().getConfig(r.params.type, r.params.name),
    },
  ];
}

/** How a worker reaches its master. */
export function httpMasterLink(masterAddr: string, ttlMs: number): MasterLink {
  return {
    async heartbeat(hb: Heartbeat): Promise<Assignment> {
      const a = await call<Assignment & { result?: boolean; msg?: string }>(
        masterAddr,
        'POST',
        '/api/v1/workers/heartbeat',
        { ...hb, ttlMs },
        10_000,
      );
      if (a.result === false) throw new Error(a.msg);
      return a;
    },
    async shard(op: string, body: unknown): Promise<unknown> {
      const a = await call<{ result: boolean; msg: string; verdict?: string }>(
        masterAddr,
        'POST',
        `/api/v1/shard/${op}`,
        body,
        10_000,
      );
      if (!a.result) throw new Error(a.msg);
      return a.verdict;
    },
  };
}

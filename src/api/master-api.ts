// The master's HTTP API (what dmctl and workers call) and the workers' HTTP client for it.
import { encryptPassword } from '../task/encrypt.js';
import { DMError, ERR } from '../errors.js';
import type { ConfigFile, Master, StartOptions } from '../master/master.js';
import type { Assignment } from '../worker/assignment.js';
import type { Heartbeat, MasterLink } from '../worker/worker.js';
import type { ShardReport } from '../shard/locks.js';
import { answerError, callAny, RawAnswer, type Route } from './http.js';
import { Metrics, METRICS_CONTENT_TYPE } from '../metrics/registry.js';
import { BINLOG_OPS, type BinlogOp } from '../units/sync/operators.js';
import { SCHEMA_OPS, type SchemaRequest } from '../units/sync/schema-op.js';
import { VALIDATION_BODY, validationRequest } from './validation-body.js';
import type { CheckDataRequest } from '../master/check-data.js';
import type { CutoverRequest } from '../master/cutover.js';
import { SCHEMA_BODY } from './worker-api.js';
import { BadRequest, checkBody, type BodySpec } from './body.js';

const list = (s: string | null): string[] => (s ? s.split(',').filter(Boolean) : []);

/** The fields of each body, by route (see body.ts). */
const FILES: BodySpec = { files: 'files' };
const SOURCES: BodySpec = { sources: 'string[]?' };
const SHARD: Record<string, BodySpec> = {
  register: { task: 'string', source: 'string', groups: 'record<string[]>' },
  report: {
    task: 'string',
    source: 'string',
    target: 'string',
    table: 'string',
    ddls: 'string[]',
    pos: 'string',
  },
  executed: { task: 'string', source: 'string', target: 'string' },
};
SHARD.optimistic = SHARD.report;
SHARD.skipped = SHARD.executed;

/** The one file a task route takes. */
function one(files: ConfigFile[], route: string): ConfigFile {
  if (files.length !== 1)
    throw new BadRequest(`${route}: body field 'files' must hold one task file, not ${files.length}`);
  return files[0];
}

/** `m` gives the master (it is made once the server knows its port). */
export function masterRoutes(m: () => Master): Route[] {
  // a follower's own: its counters (the leader's view of workers and locks is on the leader)
  const metrics = new Metrics(async () => {
    try {
      return m().metricSamples();
    } catch {
      return [];
    }
  });
  return [
    {
      method: 'GET',
      path: '/metrics',
      local: true,
      handler: async () => new RawAnswer(METRICS_CONTENT_TYPE, await metrics.render()),
    },
    {
      method: 'POST',
      path: '/apis/v1alpha1/workers/heartbeat',
      handler: (r) => {
        const hb = checkBody<Heartbeat & { ttlMs?: number }>(
          r.body,
          {
            name: 'string',
            addr: 'string',
            applied: 'record<number>',
            seeked: 'record<number>?',
            ttlMs: 'number?',
          },
          'heartbeat',
        );
        if (!/^[\w.-]+$/.test(hb.name)) throw new BadRequest(`heartbeat: '${hb.name}' is not a worker name`);
        if (!/^[^\s:]*:\d{1,5}$/.test(hb.addr))
          throw new BadRequest(`heartbeat: addr '${hb.addr}' is not host:port`);
        return m().heartbeat(hb);
      },
    },
    {
      method: 'POST',
      path: '/apis/v1alpha1/sources',
      handler: (r) => {
        const b = checkBody<{ files: ConfigFile[]; worker?: string }>(
          r.body,
          { ...FILES, worker: 'string?' },
          'sources',
        );
        return m().createSource(b.files, b.worker);
      },
    },
    {
      method: 'POST',
      path: '/apis/v1alpha1/sources/update',
      handler: (r) =>
        m().updateSource(checkBody<{ files: ConfigFile[] }>(r.body, FILES, 'sources/update').files),
    },
    {
      method: 'POST',
      path: '/apis/v1alpha1/members/masters',
      handler: (r) => {
        const b = checkBody<{ name: string; peerURLs: string }>(
          r.body,
          { name: 'string', peerURLs: 'string' },
          'members/masters',
        );
        if (!/^[\w.-]+$/.test(b.name))
          throw new BadRequest(`members/masters: '${b.name}' is not a master name`);
        return m().addMaster(b.name, b.peerURLs);
      },
    },
    {
      method: 'POST',
      path: '/apis/v1alpha1/leader',
      handler: (r) => {
        const b = checkBody<{ op: string; name?: string }>(
          r.body,
          { op: 'string', name: 'string?' },
          'leader',
        );
        if (b.op !== 'evict' && b.op !== 'cancel-evict')
          throw new BadRequest(`leader: body field 'op' is '${b.op}'; use evict or cancel-evict`);
        return m().operateLeader(b.op, b.name);
      },
    },
    {
      method: 'POST',
      path: '/apis/v1alpha1/members/offline',
      handler: (r) => {
        const b = checkBody<{ kind: string; name: string }>(
          r.body,
          { kind: 'string', name: 'string' },
          'members/offline',
        );
        if (b.kind === 'worker') return m().offlineWorker(b.name);
        if (b.kind === 'master') return m().offlineMaster(b.name);
        throw new BadRequest(
          `members/offline: body field 'kind' must be 'master' or 'worker', not '${b.kind}'`,
        );
      },
    },
    {
      method: 'POST',
      path: '/apis/v1alpha1/sources/stop',
      handler: (r) =>
        m().stopSource(checkBody<{ ids: string[] }>(r.body, { ids: 'string[]' }, 'sources/stop').ids),
    },
    {
      method: 'POST',
      path: '/apis/v1alpha1/sources/:id/transfer',
      handler: (r) =>
        m().transferSource(
          r.params.id,
          checkBody<{ worker: string }>(r.body, { worker: 'string' }, 'sources/transfer').worker,
        ),
    },
    {
      method: 'GET',
      path: '/apis/v1alpha1/sources',
      handler: async (r) => m().showSources(list(r.query.get('ids'))),
    },
    {
      method: 'POST',
      path: '/apis/v1alpha1/tasks',
      handler: (r) => {
        const b = checkBody<{ files: ConfigFile[] } & StartOptions>(
          r.body,
          { ...FILES, removeMeta: 'boolean?', startTime: 'string?', ...SOURCES },
          'tasks',
        );
        const { files, ...o } = b;
        return m().startTask(one(files, 'tasks'), o);
      },
    },
    {
      method: 'POST',
      path: '/apis/v1alpha1/tasks/check',
      handler: (r) =>
        m().checkTask(
          one(checkBody<{ files: ConfigFile[] }>(r.body, FILES, 'tasks/check').files, 'tasks/check'),
        ),
    },
    {
      method: 'POST',
      path: '/apis/v1alpha1/tasks/:name/binlog',
      handler: (r) => {
        const b = checkBody<{ op?: string; sqls?: string[]; binlogPos?: string; sources?: string[] }>(
          r.body,
          { op: 'string?', sqls: 'string[]?', binlogPos: 'string?', ...SOURCES },
          'binlog',
        );
        if (b.op !== undefined && !BINLOG_OPS.includes(b.op as BinlogOp))
          throw new BadRequest(
            `binlog: body field 'op' must be one of ${BINLOG_OPS.join(', ')}, not '${b.op}'`,
          );
        return m().handleError({
          task: r.params.name,
          op: (b.op ?? 'skip') as BinlogOp,
          sqls: b.sqls ?? [],
          binlogPos: b.binlogPos,
          sources: b.sources,
        });
      },
    },
    {
      method: 'POST',
      path: '/apis/v1alpha1/tasks/:name/check-data',
      handler: async (r) => {
        const b = checkBody<CheckDataRequest>(
          r.body,
          { ...SOURCES, tables: 'string[]?', fix: 'boolean?', chunkRows: 'number?', threads: 'number?' },
          'check-data',
        );
        for (const k of ['chunkRows', 'threads'] as const) {
          const v = b[k];
          if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > (k === 'threads' ? 64 : 10_000_000)))
            throw new BadRequest(
              `check-data: body field '${k}' must be a positive integer${k === 'threads' ? ' up to 64' : ''}, not ${v}`,
            );
        }
        const job = await m().checkData.start(r.params.name, b);
        return { result: true, msg: '', ...job };
      },
    },
    {
      method: 'GET',
      path: '/apis/v1alpha1/check-data/:id',
      handler: async (r) => ({ result: true, msg: '', ...m().checkData.get(r.params.id) }),
    },
    {
      method: 'POST',
      path: '/apis/v1alpha1/tasks/:name/cutover',
      handler: async (r) => {
        const b = checkBody<CutoverRequest>(
          r.body,
          { lockUpstream: 'boolean?', waitSeconds: 'number?' },
          'cutover',
        );
        if (b.waitSeconds !== undefined && !(b.waitSeconds > 0))
          throw new BadRequest(`cutover: body field 'waitSeconds' must be above 0, not ${b.waitSeconds}`);
        return { result: true, msg: '', ...(await m().cutover.start(r.params.name, b)) };
      },
    },
    {
      method: 'GET',
      path: '/apis/v1alpha1/cutover/:id',
      handler: async (r) => ({ result: true, msg: '', ...m().cutover.get(r.params.id) }),
    },
    {
      method: 'POST',
      path: '/apis/v1alpha1/validation',
      handler: (r) => {
        const b = checkBody<Record<string, unknown> & { task?: string; sources?: string[] }>(
          r.body,
          { task: 'string?', ...SOURCES, ...VALIDATION_BODY },
          'validation',
        );
        const { task, sources, ...req } = b;
        return m().validation(task ?? '', sources ?? [], validationRequest(req));
      },
    },
    {
      method: 'POST',
      path: '/apis/v1alpha1/tasks/:name/schema',
      handler: (r) => {
        const { task: _, ...spec } = SCHEMA_BODY;
        const b = checkBody<SchemaRequest & { sources?: string[] }>(
          r.body,
          { ...spec, ...SOURCES },
          'schema',
        );
        if (!SCHEMA_OPS.includes(b.op))
          throw new BadRequest(
            `schema: body field 'op' must be one of ${SCHEMA_OPS.join(', ')}, not '${String(b.op)}'`,
          );
        const { sources, ...req } = b;
        return m().operateSchema(r.params.name, sources ?? [], req);
      },
    },
    {
      method: 'POST',
      path: '/apis/v1alpha1/tasks/:name/:op',
      handler: async (r) => {
        const op = r.params.op;
        if (op !== 'pause' && op !== 'resume' && op !== 'stop')
          throw new DMError(ERR.badRequest, `unknown task operation '${op}'`);
        return m().operateTask(
          op,
          r.params.name,
          checkBody<{ sources?: string[] }>(r.body, SOURCES, op).sources,
        );
      },
    },
    {
      method: 'POST',
      path: '/apis/v1alpha1/relay/:op',
      handler: async (r) => {
        const op = r.params.op;
        const b = checkBody<{ sources?: string[]; filename?: string; subDir?: string; workers?: string[] }>(
          r.body,
          op === 'purge'
            ? { ...SOURCES, filename: 'string', subDir: 'string?' }
            : op === 'start' || op === 'stop'
              ? { ...SOURCES, workers: 'string[]?' }
              : SOURCES,
          `relay/${op}`,
        );
        if (op === 'purge') return m().purgeRelay(b.sources ?? [], b.filename ?? '', b.subDir);
        if (op === 'start' || op === 'stop') {
          if (b.sources?.length !== 1)
            throw new BadRequest(`relay/${op}: body field 'sources' must name one source`);
          return m().switchRelay(op, b.sources[0], b.workers ?? []);
        }
        if (op !== 'pause' && op !== 'resume')
          throw new DMError(ERR.badRequest, `unknown relay operation '${op}'`);
        return m().operateRelay(op, b.sources ?? []);
      },
    },
    {
      method: 'GET',
      path: '/apis/v1alpha1/status',
      handler: (r) => (r.query.get('more') === 'true' ? m().allStatus() : m().listTasks()),
    },
    { method: 'GET', path: '/apis/v1alpha1/status/:name', handler: (r) => m().queryStatus(r.params.name) },
    { method: 'GET', path: '/apis/v1alpha1/members', handler: async () => m().listMember() },
    {
      method: 'POST',
      path: '/apis/v1alpha1/shard/:op',
      handler: async (r) => {
        const spec = SHARD[r.params.op];
        if (!spec) throw new BadRequest(`unknown sharding operation '${r.params.op}'`);
        const b = checkBody<ShardReport & { groups: Record<string, string[]> }>(
          r.body,
          spec,
          `shard/${r.params.op}`,
        );
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
            throw new DMError(ERR.badRequest, `unknown sharding operation '${r.params.op}'`);
        }
      },
    },
    {
      method: 'GET',
      path: '/apis/v1alpha1/shard-ddl-locks',
      handler: async (r) => m().showLocks(r.query.get('task') ?? undefined),
    },
    {
      method: 'POST',
      path: '/apis/v1alpha1/shard-ddl-locks/unlock',
      handler: async (r) => {
        const b = checkBody<{ id: string; owner?: string; action?: string }>(
          r.body,
          { id: 'string', owner: 'string?', action: 'string?' },
          'unlock',
        );
        if (b.action !== undefined && b.action !== 'exec' && b.action !== 'skip')
          throw new BadRequest(`unlock: body field 'action' is '${b.action}'; use exec or skip`);
        return m().unlock(b.id, b.owner, b.action);
      },
    },
    { method: 'GET', path: '/apis/v1alpha1/configs', handler: async () => m().listConfigs() },
    {
      method: 'POST',
      path: '/apis/v1alpha1/encrypt',
      handler: async (r) => {
        const b = checkBody<{ plaintext: string }>(r.body, { plaintext: 'string' }, 'encrypt');
        return { result: true, ciphertext: encryptPassword(b.plaintext) };
      },
    },
    {
      method: 'GET',
      path: '/apis/v1alpha1/config/:type/:name',
      handler: async (r) => m().getConfig(r.params.type, r.params.name),
    },
  ];
}

/** How a worker reaches its masters (DM's --join a,b,c: the first that answers; a follower
 * forwards to the leader). */
export function httpMasterLink(masterAddrs: string[]): MasterLink {
  const call = <T>(
    addr: string[],
    method: 'POST',
    path: string,
    body: unknown,
    timeoutMs: number,
    role: 'dm-master',
  ) => callAny<T>(addr, method, path, body, timeoutMs, role, 0);
  return {
    async heartbeat(hb: Heartbeat): Promise<Assignment> {
      const a = await call<Assignment & { result?: boolean; msg?: string; error?: { code?: number } }>(
        masterAddrs,
        'POST',
        '/apis/v1alpha1/workers/heartbeat',
        hb,
        10_000,
        'dm-master',
      );
      if (a.result === false) throw answerError(a);
      return a;
    },
    async shard(op: string, body: unknown): Promise<unknown> {
      const a = await call<{ result: boolean; msg: string; verdict?: string; error?: { code?: number } }>(
        masterAddrs,
        'POST',
        `/apis/v1alpha1/shard/${op}`,
        body,
        10_000,
        'dm-master',
      );
      if (!a.result) throw answerError(a);
      return a.verdict;
    },
  };
}

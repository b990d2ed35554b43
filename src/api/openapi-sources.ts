// DM's OpenAPI: sources (create, list, get, update, delete, status, enable, transfer, relay,
// the upstream's schemas and tables).
import { DMError, ERR } from '../errors.js';
import type { Master } from '../master/master.js';
import { quoteId } from '../mysql/connect.js';
import { SYSTEM_SCHEMAS } from '../rules/balist.js';
import { BadRequest } from './body.js';
import { StatusAnswer, type Route } from './http.js';
import { apiSource, sourceFile } from './openapi-convert.js';
import {
  body,
  converted,
  flag,
  list,
  ok,
  onlyQuery,
  sourceOf,
  upstreamRows,
  type Json,
} from './openapi-common.js';

export function sourceRoutes(m: () => Master): Route[] {
  const source = (name: string) => sourceOf(m, name);
  const sourceStatus = async (name: string): Promise<Json> => {
    const ws = await m().sourceStatusOf(name);
    const relay = ws.relayStatus;
    return {
      source_name: name,
      worker_name: m().boundWorker(name),
      ...(relay
        ? {
            relay_status: {
              master_binlog: relay.masterBinlog,
              master_binlog_gtid: relay.masterBinlogGtid,
              relay_dir: relay.relaySubDir,
              relay_binlog_gtid: relay.relayBinlogGtid,
              relay_catch_up_master: relay.relayCatchUpMaster,
              stage: relay.stage,
            },
          }
        : {}),
      ...(ws.result ? {} : { error_msg: ws.msg }),
    };
  };
  const sourceJson = async (name: string, withStatus: boolean): Promise<Json> => ({
    ...apiSource(source(name), m().tasksOfSource(name)),
    ...(withStatus ? { status_list: [await sourceStatus(name)] } : {}),
  });
  const upstreamQuery = async (name: string, sql: string): Promise<string[]> =>
    (await upstreamRows(source(name).from, sql)).map((r) => String(Object.values(r)[0]));
  return [
    {
      method: 'POST',
      path: '/api/v1/sources',
      handler: async (r) => {
        const b = body(r, 'CreateSourceRequest');
        const yaml = converted(() => sourceFile(b.source));
        ok(await m().createSource([{ file: 'openapi source', yaml }], b.worker_name));
        return new StatusAnswer(201, await sourceJson(b.source.source_name, false));
      },
    },
    {
      method: 'GET',
      path: '/api/v1/sources',
      handler: async (r) => {
        onlyQuery(r, ['with_status', 'enable_relay']);
        const withStatus = flag(r, 'with_status');
        const relay = r.query.get('enable_relay');
        let names = m().sourceNames();
        if (relay !== null) names = names.filter((n) => source(n).enableRelay === flag(r, 'enable_relay'));
        return list(await Promise.all(names.map((n) => sourceJson(n, withStatus))));
      },
    },
    {
      method: 'GET',
      path: '/api/v1/sources/:name',
      handler: async (r) => {
        onlyQuery(r, ['with_status']);
        return sourceJson(r.params.name, flag(r, 'with_status'));
      },
    },
    {
      method: 'DELETE',
      path: '/api/v1/sources/:name',
      handler: async (r) => {
        onlyQuery(r, ['force']);
        const name = r.params.name;
        source(name);
        const tasks = m().tasksOfSource(name);
        if (tasks.length) {
          if (!flag(r, 'force'))
            throw new DMError(
              ERR.badRequest,
              `source '${name}' has tasks (${tasks.join(', ')}); delete them first, or use force=true`,
            );
          // stop-task twice: the first stops the source's subtasks, the second removes them
          for (const t of tasks) await m().operateTask('stop', t, [name]).then(ok);
          for (const t of tasks) await m().operateTask('stop', t, [name]).then(ok);
        }
        ok(await m().stopSource([name]));
        return new StatusAnswer(204);
      },
    },
    {
      method: 'PUT',
      path: '/api/v1/sources/:name',
      handler: async (r) => {
        const b = body(r, 'UpdateSourceRequest');
        if (b.source.source_name !== r.params.name)
          throw new BadRequest(
            `body field 'source.source_name' is '${b.source.source_name}', not '${r.params.name}' of the path`,
          );
        source(r.params.name);
        ok(await m().updateSource([{ file: 'openapi source', yaml: converted(() => sourceFile(b.source)) }]));
        return sourceJson(r.params.name, false);
      },
    },
    {
      method: 'GET',
      path: '/api/v1/sources/:name/status',
      handler: async (r) => {
        source(r.params.name);
        return list([await sourceStatus(r.params.name)]);
      },
    },
    {
      method: 'POST',
      path: '/api/v1/sources/:name/enable',
      handler: async (r) => {
        source(r.params.name);
        return new StatusAnswer(200); // a source is enabled while it exists
      },
    },
    {
      method: 'POST',
      path: '/api/v1/sources/:name/disable',
      handler: async () => {
        throw new DMError(
          ERR.badRequest,
          'disabling a source is not supported: pause its tasks (POST /api/v1/tasks/{task-name}/stop) or delete the source',
        );
      },
    },
    {
      method: 'POST',
      path: '/api/v1/sources/:name/transfer',
      handler: async (r) => {
        const b = body(r, 'WorkerNameRequest');
        ok(await m().transferSource(r.params.name, b.worker_name));
        return new StatusAnswer(200);
      },
    },
    {
      method: 'POST',
      path: '/api/v1/sources/:name/relay/enable',
      handler: async (r) => {
        const b = body(r, 'EnableRelayRequest');
        const given = ['relay_binlog_name', 'relay_binlog_gtid', 'relay_dir'].filter(
          (k) => b[k] !== undefined,
        );
        if (given.length)
          throw new BadRequest(
            `body field '${given[0]}' is not taken here: set relay_config in the source (PUT /api/v1/sources/${r.params.name}), then enable the relay`,
          );
        ok(await m().switchRelay('start', r.params.name, b.worker_name_list ?? []));
        return new StatusAnswer(200);
      },
    },
    {
      method: 'POST',
      path: '/api/v1/sources/:name/relay/disable',
      handler: async (r) => {
        const b = body(r, 'DisableRelayRequest');
        ok(await m().switchRelay('stop', r.params.name, b.worker_name_list ?? []));
        return new StatusAnswer(200);
      },
    },
    {
      method: 'POST',
      path: '/api/v1/sources/:name/relay/purge',
      handler: async (r) => {
        const b = body(r, 'PurgeRelayRequest');
        ok(await m().purgeRelay([r.params.name], b.relay_binlog_name, b.relay_dir));
        return new StatusAnswer(200);
      },
    },
    {
      method: 'GET',
      path: '/api/v1/sources/:name/schemas',
      handler: async (r) =>
        (await upstreamQuery(r.params.name, 'SHOW DATABASES')).filter(
          (d) => !SYSTEM_SCHEMAS.includes(d.toLowerCase()),
        ),
    },
    {
      method: 'GET',
      path: '/api/v1/sources/:name/schemas/:schema',
      handler: async (r) =>
        upstreamQuery(
          r.params.name,
          `SHOW FULL TABLES FROM ${quoteId(r.params.schema)} WHERE Table_type = 'BASE TABLE'`,
        ),
    },
  ];
}

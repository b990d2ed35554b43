// DM's OpenAPI v1 on dm-master (docs/dm-openapi.yaml): DM's paths, snake_case bodies checked
// against DM's schemas (a field DM's schema does not name is refused), 201 on create, 204 on
// delete, errors as {error_msg, error_code}. Each operation is the dmctl operation of the same
// meaning on the master; sources, tasks and task templates are kept as DM files
// (openapi-convert.ts). What DM has and this project does not (source disable, the cluster
// topology) is refused naming what to do instead.
import { crc32 } from 'node:zlib';
import { DMError, ERR } from '../errors.js';
import type { Master } from '../master/master.js';
import { openConnection, quoteId, upstreamRole } from '../mysql/connect.js';
import { namePattern, SYSTEM_SCHEMAS } from '../rules/balist.js';
import { routerOf } from '../rules/route.js';
import { parseTaskConfig, subTaskConfig, type TaskConfig } from '../task/config.js';
import { blockAllowOf } from '../units/tables.js';
import { BadRequest } from './body.js';
import { dmSpec, requestProblem } from './dm-spec.js';
import { NotFound, RawAnswer, StatusAnswer, type Request, type Route } from './http.js';
import {
  apiSource,
  apiSubTaskStatus,
  apiTask,
  ConvertError,
  sourceFile,
  taskFile,
} from './openapi-convert.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- bodies are checked against DM's schema */
type Json = Record<string, any>;

/** The body, checked against DM's schema `schema`. */
function body(r: Request, schema: string): Json {
  const problem = requestProblem(r.body, schema);
  if (problem) throw new BadRequest(problem);
  return (r.body ?? {}) as Json;
}

/** DM's boolean query parameters ('true' / 'false'). */
function flag(r: Request, name: string): boolean {
  const v = r.query.get(name);
  if (v === null || v === 'false') return false;
  if (v === 'true') return true;
  throw new BadRequest(`query parameter '${name}' must be true or false, not '${v}'`);
}

/** A query parameter DM's spec has, or one it names that this route does not take: refused. */
function onlyQuery(r: Request, names: string[]): void {
  for (const k of r.query.keys())
    if (!names.includes(k))
      throw new BadRequest(
        `unknown query parameter '${k}'${names.length ? ` (this route takes ${names.join(', ')})` : ''}`,
      );
}

const converted = <T>(f: () => T): T => {
  try {
    return f();
  } catch (e) {
    if (e instanceof ConvertError) throw new BadRequest(e.message);
    throw e;
  }
};

const list = <T>(data: T[]) => ({ total: data.length, data });

/** An operation's answer: a failed OperateResult is the request's error. */
function ok(r: {
  result: boolean;
  msg: string;
  sources?: { result: boolean; msg: string; source: string }[];
}): void {
  if (!r.result) throw new DMError(ERR.badRequest, r.msg || 'the operation failed');
  const failed = (r.sources ?? []).filter((s) => !s.result);
  if (failed.length) throw new DMError(ERR.badRequest, failed.map((s) => `${s.source}: ${s.msg}`).join('; '));
}

export function openapiRoutes(m: () => Master, enabled: boolean): Route[] {
  const source = (name: string) => {
    const cfg = m().sourceConfig(name);
    if (!cfg) throw new NotFound(`source '${name}' does not exist`);
    return cfg;
  };
  const taskOf = (name: string): TaskConfig => {
    const f = m().taskFile(name);
    if (!f) throw new NotFound(`task '${name}' does not exist`);
    return parseTaskConfig(f.yaml, f.file);
  };
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
  const taskJson = async (name: string, withStatus: boolean, sources: string[] = []): Promise<Json> => {
    const t = apiTask(taskOf(name));
    if (!withStatus) return t;
    const st = apiSubTaskStatus(await m().queryStatus(name));
    return { ...t, status_list: st.filter((s) => !sources.length || sources.includes(s.source_name)) };
  };
  const upstreamQuery = async (name: string, sql: string): Promise<string[]> => {
    const c = await openConnection(source(name).from, upstreamRole());
    try {
      return (await c.query(sql)).map((r) => String(Object.values(r)[0]));
    } finally {
      c.close();
    }
  };
  /** The upstream tables a task's subtask on a source migrates, with their targets. */
  const targets = async (
    task: string,
    src: string,
  ): Promise<{ db: string; table: string; to: { db: string; table: string } }[]> => {
    const t = taskOf(task);
    if (!t.mysqlInstances.some((i) => i.sourceId === src))
      throw new NotFound(`task '${task}' has no source '${src}'`);
    const cfg = subTaskConfig(t, source(src));
    const bal = blockAllowOf(cfg);
    const router = routerOf(cfg.instance.routeRules, cfg.routes, cfg.caseSensitive, src);
    const c = await openConnection(cfg.source.from, upstreamRole());
    try {
      const rows = await c.query(
        "SELECT TABLE_SCHEMA s, TABLE_NAME t FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' ORDER BY 1, 2",
      );
      return rows
        .filter((r) => bal.table(r.s!, r.t!))
        .map((r) => ({ db: r.s!, table: r.t!, to: router.route(r.s!, r.t!) }));
    } finally {
      c.close();
    }
  };
  const tableStructure = async (r: Request, op: 'list' | 'update' | 'delete') => {
    const { task, source: src, schema, table } = r.params;
    taskOf(task);
    const res = (await m().operateSchema(task, [src], {
      op,
      db: schema,
      table,
      fromTarget: op === 'update',
    } as never)) as Json;
    ok(res as never);
    return res;
  };

  const routes: Route[] = [
    // ---- docs ----
    {
      method: 'GET',
      path: '/api/v1/docs',
      handler: async () => new RawAnswer('text/html; charset=utf-8', docsPage()),
    },
    { method: 'GET', path: '/api/v1/dm.json', handler: async () => dmSpec() },
    // ---- sources ----
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
    // ---- tasks ----
    {
      method: 'POST',
      path: '/api/v1/tasks/converters',
      handler: async (r) => {
        const b = body(r, 'ConverterTaskRequest');
        if ((b.task === undefined) === (b.task_config_file === undefined))
          throw new BadRequest("give one of body fields 'task' and 'task_config_file'");
        const yaml = b.task ? converted(() => taskFile(b.task)) : (b.task_config_file as string);
        const t = parseTaskConfig(yaml, 'task_config_file');
        return new StatusAnswer(201, { task: apiTask(t), task_config_file: yaml });
      },
    },
    {
      method: 'POST',
      path: '/api/v1/tasks/templates',
      handler: async (r) => {
        const t = await m().putTemplate(
          { file: 'openapi template', yaml: converted(() => taskFile(body(r, 'Task'))) },
          true,
        );
        return new StatusAnswer(201, apiTask(t));
      },
    },
    {
      method: 'GET',
      path: '/api/v1/tasks/templates',
      handler: async () =>
        list(Object.values(m().templates()).map((f) => apiTask(parseTaskConfig(f.yaml, f.file)))),
    },
    {
      method: 'POST',
      path: '/api/v1/tasks/templates/import',
      handler: async (r) => {
        const b = body(r, 'TaskTemplateRequest');
        const { done, failed } = await m().importTemplates(b.overwrite);
        return new StatusAnswer(202, { success_task_list: done, failed_task_list: failed });
      },
    },
    {
      method: 'GET',
      path: '/api/v1/tasks/templates/:task',
      handler: async (r) => {
        const f = m().templates()[r.params.task];
        if (!f) throw new NotFound(`task template '${r.params.task}' does not exist`);
        return apiTask(parseTaskConfig(f.yaml, f.file));
      },
    },
    {
      method: 'PUT',
      path: '/api/v1/tasks/templates/:task',
      handler: async (r) => {
        const b = body(r, 'Task');
        if (b.name !== r.params.task)
          throw new BadRequest(`body field 'name' is '${b.name}', not '${r.params.task}' of the path`);
        return apiTask(
          await m().putTemplate({ file: 'openapi template', yaml: converted(() => taskFile(b)) }, false),
        );
      },
    },
    {
      method: 'DELETE',
      path: '/api/v1/tasks/templates/:task',
      handler: async (r) => {
        await m().deleteTemplate(r.params.task);
        return new StatusAnswer(204);
      },
    },
    {
      method: 'POST',
      path: '/api/v1/tasks',
      handler: async (r) => {
        const b = body(r, 'CreateTaskRequest');
        const yaml = converted(() => taskFile(b.task));
        const res = await m().createTask({ file: 'openapi task', yaml });
        ok(res);
        return new StatusAnswer(201, {
          task: apiTask(res.task!),
          check_result: res.checkResult ?? res.msg ?? '',
        });
      },
    },
    {
      method: 'GET',
      path: '/api/v1/tasks',
      handler: async (r) => {
        onlyQuery(r, ['with_status', 'stage', 'source_name_list']);
        const stage = r.query.get('stage');
        const sources = r.query.getAll('source_name_list').flatMap((s) => s.split(','));
        const withStatus = flag(r, 'with_status') || stage !== null;
        let tasks = await Promise.all(
          m()
            .taskNames()
            .map((n) => taskJson(n, withStatus)),
        );
        if (sources.length)
          tasks = tasks.filter((t) =>
            t.source_config.source_conf.some((s: Json) => sources.includes(s.source_name)),
          );
        if (stage !== null) tasks = tasks.filter((t) => t.status_list.some((s: Json) => s.stage === stage));
        return list(tasks);
      },
    },
    {
      method: 'GET',
      path: '/api/v1/tasks/:task',
      handler: async (r) => {
        onlyQuery(r, ['with_status']);
        return taskJson(r.params.task, flag(r, 'with_status'));
      },
    },
    {
      method: 'DELETE',
      path: '/api/v1/tasks/:task',
      handler: async (r) => {
        onlyQuery(r, ['force', 'keep_meta']);
        taskOf(r.params.task);
        await m().deleteTask(r.params.task, flag(r, 'force'), flag(r, 'keep_meta'));
        return new StatusAnswer(204);
      },
    },
    {
      method: 'PUT',
      path: '/api/v1/tasks/:task',
      handler: async (r) => {
        const b = body(r, 'UpdateTaskRequest');
        if (b.task.name !== r.params.task)
          throw new BadRequest(
            `body field 'task.name' is '${b.task.name}', not '${r.params.task}' of the path`,
          );
        taskOf(r.params.task);
        const res = await m().updateTask({ file: 'openapi task', yaml: converted(() => taskFile(b.task)) });
        ok(res);
        return { task: apiTask(taskOf(r.params.task)), check_result: res.checkResult ?? '' };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/tasks/:task/status',
      handler: async (r) => {
        onlyQuery(r, ['source_name_list']);
        taskOf(r.params.task);
        const sources = r.query.getAll('source_name_list').flatMap((s) => s.split(','));
        const st = apiSubTaskStatus(await m().queryStatus(r.params.task));
        return list(st.filter((s) => !sources.length || sources.includes(s.source_name)));
      },
    },
    {
      method: 'POST',
      path: '/api/v1/tasks/:task/start',
      handler: async (r) => {
        const b = body(r, 'StartTaskRequest');
        if (b.safe_mode_time_duration !== undefined)
          throw new BadRequest(
            "body field 'safe_mode_time_duration' is not taken here: set syncers' safe-mode-duration in the task (PUT /api/v1/tasks/{task-name})",
          );
        const name = r.params.task;
        taskOf(name);
        const sources: string[] = b.source_name_list ?? [];
        ok(await m().startOrResume(name, { removeMeta: b.remove_meta, startTime: b.start_time, sources }));
        return new StatusAnswer(200);
      },
    },
    {
      method: 'POST',
      path: '/api/v1/tasks/:task/stop',
      handler: async (r) => {
        const b = body(r, 'StopTaskRequest');
        if (b.timeout_duration !== undefined)
          throw new BadRequest(
            "body field 'timeout_duration' is not taken here: a subtask stops at its next checkpoint",
          );
        const name = r.params.task;
        taskOf(name);
        await m().stopKeeping(name, b.source_name_list ?? []);
        return new StatusAnswer(200);
      },
    },
    {
      method: 'GET',
      path: '/api/v1/tasks/:task/sources/:source/migrate_targets',
      handler: async (r) => {
        onlyQuery(r, ['schema_pattern', 'table_pattern']);
        const sp = r.query.get('schema_pattern');
        const tp = r.query.get('table_pattern');
        const [sm, tm] = [sp && namePattern(sp, false), tp && namePattern(tp, false)];
        const all = await targets(r.params.task, r.params.source);
        return list(
          all
            .filter((t) => (!sm || sm(t.db)) && (!tm || tm(t.table)))
            .map((t) => ({
              source_schema: t.db,
              source_table: t.table,
              target_schema: t.to.db,
              target_table: t.to.table,
            })),
        );
      },
    },
    {
      method: 'GET',
      path: '/api/v1/tasks/:task/sources/:source/schemas',
      handler: async (r) => [...new Set((await targets(r.params.task, r.params.source)).map((t) => t.db))],
    },
    {
      method: 'GET',
      path: '/api/v1/tasks/:task/sources/:source/schemas/:schema',
      handler: async (r) =>
        (await targets(r.params.task, r.params.source))
          .filter((t) => t.db === r.params.schema)
          .map((t) => t.table),
    },
    {
      method: 'GET',
      path: '/api/v1/tasks/:task/sources/:source/schemas/:schema/:table',
      handler: async (r) => {
        const res = await tableStructure(r, 'list');
        const sql = (res.sources as Json[] | undefined)?.find((s) => s.result)?.msg ?? '';
        return { schema_name: r.params.schema, table_name: r.params.table, schema_create_sql: sql };
      },
    },
    {
      method: 'PUT',
      path: '/api/v1/tasks/:task/sources/:source/schemas/:schema/:table',
      handler: async (r) => {
        const b = body(r, 'OperateTaskTableStructureRequest');
        if (b.schema_source !== 'downstream')
          throw new BadRequest(
            "body field 'schema_source' must be 'downstream': Sync reads each table's structure from the target; change the target table, then PUT with schema_source downstream",
          );
        if (b.sql_content !== undefined)
          throw new BadRequest("body field 'sql_content' is not taken with schema_source downstream");
        await tableStructure(r, 'update');
        return new StatusAnswer(200);
      },
    },
    {
      method: 'DELETE',
      path: '/api/v1/tasks/:task/sources/:source/schemas/:schema/:table',
      handler: async (r) => {
        await tableStructure(r, 'delete');
        return new StatusAnswer(204);
      },
    },
    // ---- cluster ----
    {
      method: 'GET',
      path: '/api/v1/cluster/info',
      handler: async () => {
        const masters = (await m().masterList()).map((x) => x.name).sort();
        return { cluster_id: crc32(masters.join(',')) };
      },
    },
    {
      method: 'PUT',
      path: '/api/v1/cluster/info',
      handler: async () => {
        throw new DMError(
          ERR.badRequest,
          'the cluster topology (Grafana, Prometheus, Alertmanager addresses) is not kept here: point Prometheus at /metrics of each process',
        );
      },
    },
    {
      method: 'GET',
      path: '/api/v1/cluster/masters',
      handler: async () => list(await m().masterList()),
    },
    {
      method: 'DELETE',
      path: '/api/v1/cluster/masters/:name',
      handler: async (r) => {
        ok(await m().offlineMaster(r.params.name));
        return new StatusAnswer(204);
      },
    },
    {
      method: 'GET',
      path: '/api/v1/cluster/workers',
      handler: async () =>
        list(
          m()
            .workerList()
            .map((w) => ({ name: w.name, addr: w.addr, bound_stage: w.stage, bound_source_name: w.source })),
        ),
    },
    {
      method: 'DELETE',
      path: '/api/v1/cluster/workers/:name',
      handler: async (r) => {
        ok(await m().offlineWorker(r.params.name));
        return new StatusAnswer(204);
      },
    },
  ];
  return routes.map((r) =>
    enabled
      ? { ...r, dm: true }
      : {
          ...r,
          dm: true,
          handler: async () => {
            throw new NotFound("DM's OpenAPI is off on this master (openapi = false in its config)");
          },
        },
  );
}

/** GET /api/v1/docs: the operations of DM's spec, served without any script from elsewhere. */
function docsPage(): string {
  const spec = dmSpec();
  const esc = (s: string) =>
    s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  const rows: string[] = [];
  for (const [path, ops] of Object.entries<Json>(spec.paths))
    for (const [method, op] of Object.entries<Json>(ops))
      rows.push(
        `<tr><td>${method.toUpperCase()}</td><td><code>${esc(path)}</code></td><td>${esc(op.summary ?? '')}</td></tr>`,
      );
  return `<!doctype html><html><head><meta charset="utf-8"><title>dm-master OpenAPI</title>
<style>body{font:14px system-ui;margin:2em}td{padding:2px 10px;border-bottom:1px solid #ddd}</style></head>
<body><h1>DM OpenAPI v1</h1><p>The full specification: <a href="/api/v1/dm.json">/api/v1/dm.json</a>.</p>
<table>${rows.join('\n')}</table></body></html>`;
}

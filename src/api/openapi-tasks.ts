// DM's OpenAPI: tasks (create, list, get, update, delete, status, start, stop, migrate targets,
// schemas and table structure, converters) and task templates.
import type { Master } from '../master/master.js';
import { namePattern } from '../rules/balist.js';
import { routerOf } from '../rules/route.js';
import { parseTaskConfig, subTaskConfig } from '../task/config.js';
import { blockAllowOf } from '../units/tables.js';
import { BadRequest } from './body.js';
import { NotFound, StatusAnswer, type Request, type Route } from './http.js';
import { apiSubTaskStatus, apiTask, taskFile } from './openapi-convert.js';
import {
  body,
  converted,
  flag,
  list,
  ok,
  onlyQuery,
  sourceOf,
  taskOf as taskOfM,
  upstreamRows,
  type Json,
} from './openapi-common.js';

export function taskRoutes(m: () => Master): Route[] {
  const source = (name: string) => sourceOf(m, name);
  const taskOf = (name: string) => taskOfM(m, name);
  const taskJson = async (name: string, withStatus: boolean, sources: string[] = []): Promise<Json> => {
    const t = apiTask(taskOf(name));
    if (!withStatus) return t;
    const st = apiSubTaskStatus(await m().queryStatus(name));
    return { ...t, status_list: st.filter((s) => !sources.length || sources.includes(s.source_name)) };
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
    const rows = await upstreamRows(
      cfg.source.from,
      "SELECT TABLE_SCHEMA s, TABLE_NAME t FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' ORDER BY 1, 2",
    );
    return rows
      .filter((r) => bal.table(r.s!, r.t!))
      .map((r) => ({ db: r.s!, table: r.t!, to: router.route(r.s!, r.t!) }));
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

  return [
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
  ];
}

// DM's OpenAPI v1 against a real dm-master, dm-worker and MariaDB servers: requests built from the
// examples in DM's own spec (docs/dm-openapi.yaml; only the values that name things on this
// machine replaced), every answer checked against DM's response schema: create a source, create,
// start, watch, stop and delete a task, the cluster's members; bad bodies are 400s naming the
// field, in DM's error shape; dmctl keeps working beside it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { server } from '../harness/index.js';
import { daemon, dmctl, startMaster } from '../harness/cluster.js';
import { dmSpec, responseProblems } from '../../src/api/dm-spec.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers */
type Json = Record<string, any>;

/** A request body from DM's spec examples: the required fields (and `with`) of `schema`. */
function example(name: string, withFields: string[] = []): Json {
  const S = dmSpec().components.schemas;
  // `all`: every field (inside a field asked for by `withFields`)
  const ex = (s: Json, top: boolean, all = false): any => {
    if (s.$ref) return ex(S[s.$ref.split('/').pop()], false, all);
    if (s.example !== undefined) return s.example;
    if (s.type === 'array') return [ex(s.items, false, all)];
    if (s.properties) {
      const o: Json = {};
      for (const [k, v] of Object.entries<Json>(s.properties)) {
        const asked = top && withFields.includes(k);
        if (all || asked || (s.required ?? []).includes(k)) o[k] = ex(v, false, all || asked);
      }
      return o;
    }
    return s.type === 'boolean' ? false : s.type === 'integer' ? 0 : '';
  };
  return ex(S[name], true);
}

async function api(addr: string, method: string, path: string, body?: unknown) {
  const r = await fetch(`http://${addr}${path}`, {
    method,
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? (JSON.parse(text) as any) : undefined };
}

function fits(body: unknown, schema: string): void {
  assert.deepEqual(responseProblems(body, schema), [], `${schema}: ${JSON.stringify(body).slice(0, 500)}`);
}

test("DM's OpenAPI: sources, tasks and the cluster with DM's bodies, codes and answers", async () => {
  const [up, down] = await Promise.all([server(), server()]);
  // DM's examples select db-*.tb-* and route them to db1.tb1
  await up.exec(
    'CREATE DATABASE `db-1`; CREATE TABLE `db-1`.`tb-1` (id INT PRIMARY KEY, v INT); INSERT INTO `db-1`.`tb-1` SELECT seq, seq FROM mysql.seq_1_to_100',
  );
  const dir = await mkdtemp(join(tmpdir(), 'dm-ts-openapi-'));
  const master = await startMaster(dir);
  await daemon(
    'dm-worker',
    [
      '--name',
      'worker1',
      '--worker-addr',
      '127.0.0.1:0',
      '--join',
      master.addr,
      '--log-file',
      join(dir, 'w.log'),
    ],
    dir,
  );
  const call = (method: string, path: string, body?: unknown) => api(master.addr, method, path, body);
  const u = up.connectionOptions();
  const d = down.connectionOptions();

  // ---- a source ----
  const src = example('CreateSourceRequest');
  assert.equal(src.source.source_name, 'mysql-01');
  Object.assign(src.source, {
    host: u.host,
    port: u.port,
    user: u.user,
    password: u.password,
    enable: true,
    enable_gtid: true,
  });
  let r = await call('POST', '/api/v1/sources', src);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  fits(r.body, 'Source');
  assert.equal(r.body.password, '******', 'no password in answers');
  r = await call('GET', '/api/v1/sources?with_status=true');
  assert.equal(r.status, 200);
  fits(r.body, 'GetSourceListResponse');
  assert.equal(r.body.total, 1);
  // the worker is bound to the source shortly
  for (let i = 0; ; i++) {
    r = await call('GET', '/api/v1/sources/mysql-01/status');
    fits(r.body, 'GetSourceStatusResponse');
    if (r.body.data[0].worker_name === 'worker1') break;
    assert.ok(i < 100, JSON.stringify(r.body));
    await new Promise((res) => setTimeout(res, 100));
  }
  r = await call('GET', '/api/v1/sources/mysql-01/schemas');
  assert.deepEqual(r.body, ['db-1']);
  r = await call('GET', '/api/v1/sources/mysql-01/schemas/db-1');
  assert.deepEqual(r.body, ['tb-1']);

  // ---- bad bodies: 400 naming the field, DM's error shape ----
  for (const [body, want] of [
    [{ source: { ...src.source, bogus: 1 } }, /unknown field 'body.source.bogus'/],
    [{ source: { ...src.source, port: '3306' } }, /'body.source.port' must be integer/],
    [{}, /'body.source' is required/],
    [{ source: { ...src.source, source_name: 'x', enable: false } }, /enable false is not supported/],
  ] as const) {
    r = await call('POST', '/api/v1/sources', body);
    assert.equal(r.status, 400);
    fits(r.body, 'ErrorWithMessage');
    assert.match(r.body.error_msg, want);
  }
  r = await call('GET', '/api/v1/sources/nope');
  assert.equal(r.status, 404);
  assert.match(r.body.error_msg, /source 'nope' does not exist/);

  // ---- a task: create (stopped), start, watch, stop, delete ----
  const task = example('CreateTaskRequest').task;
  assert.equal(task.name, 'task-1');
  const rule = example('TaskTableMigrateRule', ['target']);
  Object.assign(rule.source, { source_name: 'mysql-01' });
  Object.assign(task, {
    on_duplicate: 'replace', // DM's example has '', which its own enum refuses
    target_config: { host: d.host, port: d.port, user: d.user, password: d.password },
    table_migrate_rule: [rule],
    source_config: {
      source_conf: [{ source_name: 'mysql-01' }],
      full_migrate_conf: { data_dir: join(dir, 'dump') },
    },
  });
  assert.deepEqual(rule, {
    source: { source_name: 'mysql-01', schema: 'db-*', table: 'tb-*' },
    target: { schema: 'db1', table: 'tb1' },
  });
  r = await call('POST', '/api/v1/tasks', { task });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  fits(r.body, 'OperateTaskResponse');
  r = await call('POST', '/api/v1/tasks', { task });
  assert.equal(r.status, 400, 'a task of that name exists');
  const status = async () => {
    const s = await call('GET', '/api/v1/tasks/task-1/status');
    assert.equal(s.status, 200, JSON.stringify(s.body));
    fits(s.body, 'GetTaskStatusResponse');
    return s.body.data as Json[];
  };
  for (let i = 0; (await status())[0]?.stage !== 'Stopped'; i++) {
    assert.ok(i < 100);
    await new Promise((res) => setTimeout(res, 100));
  }
  r = await call('POST', '/api/v1/tasks/task-1/start', example('StartTaskRequest'));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const synced = async () => {
    for (let i = 0; ; i++) {
      const st = (await status())[0];
      if (st?.unit === 'Sync' && st.sync_status?.synced) return st;
      assert.ok(i < 600, JSON.stringify(st));
      await new Promise((res) => setTimeout(res, 100));
    }
  };
  const st = await synced();
  assert.equal(st.stage, 'Running');
  assert.equal(st.worker_name, (await call('GET', '/api/v1/cluster/workers')).body.data[0].addr);
  await up.exec('INSERT INTO `db-1`.`tb-1` SELECT seq, seq FROM mysql.seq_101_to_150');
  for (let i = 0; ; i++) {
    const [{ n }] = (await down.exec('SELECT COUNT(*) n FROM db1.tb1')) as { n: string }[];
    if (n === '150') break;
    assert.ok(i < 300, `rows on the target: ${n}`);
    await new Promise((res) => setTimeout(res, 100));
  }
  r = await call('GET', '/api/v1/tasks?with_status=true');
  fits(r.body, 'GetTaskListResponse');
  assert.equal(r.body.data[0].name, 'task-1');
  r = await call('GET', '/api/v1/tasks/task-1');
  fits(r.body, 'Task');
  assert.deepEqual(r.body.table_migrate_rule, [rule]);
  r = await call('GET', '/api/v1/tasks/task-1/sources/mysql-01/migrate_targets');
  fits(r.body, 'GetTaskMigrateTargetsResponse');
  assert.deepEqual(r.body.data, [
    { source_schema: 'db-1', source_table: 'tb-1', target_schema: 'db1', target_table: 'tb1' },
  ]);
  r = await call('POST', '/api/v1/tasks/converters', {
    task_config_file: (await call('POST', '/api/v1/tasks/converters', { task })).body.task_config_file,
  });
  assert.equal(r.status, 201);
  fits(r.body, 'ConverterTaskResponse');
  r = await call('DELETE', '/api/v1/tasks/task-1');
  assert.equal(r.status, 400, 'a running task is not deleted without force');
  assert.match(r.body.error_msg, /is not stopped; stop it first, or delete it with force=true/);
  r = await call('POST', '/api/v1/tasks/task-1/stop', example('StopTaskRequest'));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  for (let i = 0; (await status())[0]?.stage !== 'Stopped'; i++) {
    assert.ok(i < 100);
    await new Promise((res) => setTimeout(res, 100));
  }
  r = await call('POST', '/api/v1/tasks/task-1/stop', {});
  assert.equal(r.status, 200, 'stopping a stopped task keeps it');
  assert.equal((await call('GET', '/api/v1/tasks/task-1')).status, 200);
  r = await call('POST', '/api/v1/tasks/templates/import', { overwrite: false });
  assert.equal(r.status, 202);
  fits(r.body, 'TaskTemplateResponse');
  assert.deepEqual(r.body, { success_task_list: ['task-1'], failed_task_list: [] });
  r = await call('DELETE', '/api/v1/tasks/task-1');
  assert.equal(r.status, 204);
  assert.equal(r.body, undefined);
  assert.equal((await call('GET', '/api/v1/tasks/task-1')).status, 404);
  assert.deepEqual(
    await down.exec(
      "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'dm-meta' AND TABLE_NAME LIKE 'task-1%'",
    ),
    [],
    'its meta tables are dropped (keep_meta false)',
  );

  // ---- the cluster, the spec, and dmctl beside it ----
  r = await call('GET', '/api/v1/cluster/masters');
  fits(r.body, 'GetClusterMasterListResponse');
  assert.equal(r.body.data[0].leader, true);
  r = await call('GET', '/api/v1/cluster/workers');
  fits(r.body, 'GetClusterWorkerListResponse');
  assert.deepEqual(
    [r.body.data[0].name, r.body.data[0].bound_stage, r.body.data[0].bound_source_name],
    ['worker1', 'bound', 'mysql-01'],
  );
  fits((await call('GET', '/api/v1/cluster/info')).body, 'GetClusterInfoResponse');
  assert.equal((await call('GET', '/api/v1/dm.json')).body.info.title, 'DM OpenAPI DOC');
  const docs = await fetch(`http://${master.addr}/api/v1/docs`);
  assert.match(await docs.text(), /\/api\/v1\/tasks\/\{task-name\}\/start/);
  // task templates: created, listed, read, updated, imported from the tasks, deleted
  r = await call('POST', '/api/v1/tasks/templates', { ...task, name: 'tmpl' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  fits(r.body, 'Task');
  assert.equal(
    (await call('POST', '/api/v1/tasks/templates', { ...task, name: 'tmpl' })).status,
    400,
    'exists',
  );
  r = await call('PUT', '/api/v1/tasks/templates/tmpl', { ...task, name: 'tmpl', task_mode: 'full' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.task_mode, 'full');
  r = await call('GET', '/api/v1/tasks/templates/tmpl');
  fits(r.body, 'Task');
  assert.equal(r.body.task_mode, 'full');
  r = await call('GET', '/api/v1/tasks/templates');
  fits(r.body, 'GetTaskListResponse');
  assert.deepEqual(r.body.data.map((t: Json) => t.name).sort(), ['task-1', 'tmpl']);
  assert.equal((await call('DELETE', '/api/v1/tasks/templates/task-1')).status, 204);
  assert.equal((await call('DELETE', '/api/v1/tasks/templates/tmpl')).status, 204);
  assert.equal((await call('GET', '/api/v1/tasks/templates/tmpl')).status, 404);
  const ctl = await dmctl(master.addr, 'operate-source', 'show');
  assert.equal(ctl.code, 0, ctl.stderr);
  r = await call('DELETE', '/api/v1/sources/mysql-01');
  assert.equal(r.status, 204, JSON.stringify(r.body));
  fits((await call('GET', '/api/v1/sources')).body, 'GetSourceListResponse');
  assert.equal((await call('GET', '/api/v1/sources')).body.total, 0);
});

// The precheck against real servers: run-task refuses to start a task whose upstream cannot be
// replicated, and `--check` prints every item with DM's shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { server } from '../harness/index.js';
import { sourceYaml, taskYaml, writeTemp } from '../harness/task.js';
import { runTaskToEnd } from '../harness/run.js';
import type { QueryStatus } from '../../src/task/status.js';
import { parseSourceConfig, parseTaskConfig, subTaskConfigs } from '../../src/task/config.js';
import { checkTask } from '../../src/units/check/check.js';

interface CheckOutput {
  result: boolean;
  msg: string;
  checkResult: {
    source: string;
    passed: boolean;
    results: { name: string; state: string; errors: { short_error: string }[] }[];
  }[];
}

async function check(args: { extraTask?: string; statement?: boolean }) {
  const up = await server(args.statement ? { extraArgs: ['--binlog-format=STATEMENT'] } : {});
  const down = await server();
  await up.exec(`CREATE DATABASE app; CREATE TABLE app.keyed (id INT PRIMARY KEY); CREATE TABLE app.nokey (a INT);
    CREATE USER 'dumper'@'127.0.0.1' IDENTIFIED BY 'pw'; GRANT SELECT, RELOAD, BINLOG MONITOR ON *.* TO 'dumper'@'127.0.0.1'`);
  const f = await writeTemp({ 'source.yaml': sourceYaml('src', up, 'dumper', 'pw'), 'task.yaml': '' });
  await writeFile(
    f['task.yaml'],
    taskYaml({
      name: 'chk',
      mode: 'all',
      target: down,
      sources: ['src'],
      dir: join(f.dir, 'dump'),
      extra: args.extraTask,
    }),
  );
  const r = await runTaskToEnd(f['task.yaml'], [f['source.yaml']], 120_000);
  return { code: r.code, out: r.status as unknown as CheckOutput, stderr: r.stderr };
}

test('a task whose upstream logs statements and whose user cannot replicate is refused, naming the items', async () => {
  const { code, out } = await check({ statement: true });
  assert.equal(code, 1);
  assert.equal(out.result, false);
  assert.match(
    out.msg,
    /^precheck failed: src: replication_privilege \(lacks REPLICATION SLAVE\), src: binlog_format \(binlog_format is STATEMENT\)$/,
  );
  const byName = new Map(out.checkResult[0].results.map((r) => [r.name, r]));
  assert.equal(byName.get('binlog_enable')!.state, 'success');
  assert.equal(byName.get('dump_privilege')!.state, 'success');
  assert.equal(byName.get('table_schema')!.state, 'warn');
  assert.match(
    byName.get('table_schema')!.errors[0].short_error,
    /`app`\.`nokey` has no primary or unique key/,
  );
});

test('ignore-checking-items skips items; then the task starts', async () => {
  const { code, out, stderr } = await check({
    statement: true,
    extraTask: 'ignore-checking-items: ["binlog_format", "replication_privilege"]\n',
  });
  // The precheck passes, so run-task starts the task: Sync then fails to read the binlog without
  // REPLICATION SLAVE and pauses with an error that needs the operator (exit 1), not a precheck failure.
  assert.equal(code, 1, stderr);
  const st = (out as unknown as QueryStatus).workers[0].subTaskStatus[0];
  assert.equal(st.stage, 'Paused');
  assert.equal(st.unit, 'Sync');
  assert.equal(st.result!.errors[0].ErrCode, 11203, JSON.stringify(st.result));
});

test('a task whose target is its own upstream is refused, also with ignore-checking-items: [all]; routed elsewhere it may run', async () => {
  const up = await server();
  await up.exec('CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY)');
  const f = await writeTemp({ 'source.yaml': sourceYaml('src', up) });
  const task = (extra: string) =>
    taskYaml({ name: 'self', mode: 'all', target: up, sources: ['src'], dir: join(f.dir, 'dump'), extra });
  await writeFile(join(f.dir, 'loop.yaml'), task('ignore-checking-items: ["all"]\n'));
  const r = await runTaskToEnd(join(f.dir, 'loop.yaml'), [f['source.yaml']], 120_000);
  const out = r.status as unknown as CheckOutput;
  assert.equal(r.code, 1);
  assert.match(
    out.msg,
    /^precheck failed: src: target_is_upstream \(the target is the upstream server of source src, and `app`\.`t` would be written onto itself\)$/,
  );
  // the same server, every selected table routed to a schema the task does not read: a warning
  const routed = parseTaskConfig(
    task(
      'block-allow-list:\n  only-app:\n    do-dbs: ["app"]\nroutes:\n  copy:\n    schema-pattern: "app"\n    target-schema: "app_copy"\n',
    ).replace(
      '    loader-config-name: global',
      '    loader-config-name: global\n    block-allow-list: only-app\n    route-rules: ["copy"]',
    ),
  );
  const checked = await checkTask(subTaskConfigs(routed, [parseSourceConfig(sourceYaml('src', up))]));
  assert.equal(checked.result, true, checked.msg);
  const item = checked.checkResult[0].results.find((i) => i.name === 'target_is_upstream');
  assert.equal(item?.state, 'warn');
});

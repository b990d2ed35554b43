// target-database.session end to end: the user's variables reach the target sessions of Load and
// Sync (a table Sync creates takes the session's default_storage_engine), while the meta tables
// that carry the checkpoints stay transactional (InnoDB whatever the default engine), so the rows
// and their checkpoint still commit together.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { server, type MariaDBSandbox } from '../harness/index.js';
import { schemaTask, sourceYaml, writeTemp } from '../harness/task.js';
import { assertTablesEqual, caughtUpInFile, runTask } from '../harness/run.js';

const engines = async (s: MariaDBSandbox, schema: string) =>
  (
    (await s.exec(
      `SELECT TABLE_NAME t, ENGINE e FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${schema}' ORDER BY 1`,
    )) as { t: string; e: string }[]
  ).map((r) => `${r.t}:${r.e}`);

test('target session variables apply to the target; checkpoint tables stay InnoDB', async () => {
  const [up, down] = await Promise.all([server(), server()]);
  await up.exec(`CREATE DATABASE app; CREATE TABLE app.a (id INT PRIMARY KEY, v INT) ENGINE = InnoDB;
    INSERT INTO app.a SELECT seq, seq FROM mysql.seq_1_to_100;`);
  const f = await writeTemp({ 'source.yaml': sourceYaml('src', up) });
  const t = down.connectionOptions();
  const files = await writeTemp({
    'task.yaml': `name: sess
task-mode: all
target-database:
  host: "${t.host}"
  port: ${t.port}
  user: "${t.user}"
  password: ""
  session: {default_storage_engine: MyISAM, sql_mode: "ANSI_QUOTES", innodb_lock_wait_timeout: 7}
mysql-instances:
  - source-id: src
    block-allow-list: bal
    loader: {dir: "${join(f.dir, 'dump')}"}
block-allow-list:
  bal: {do-dbs: [app]}
`,
  });
  const statusFile = join(f.dir, 'status.json');
  const run = runTask(files['task.yaml'], [f['source.yaml']], statusFile);
  await caughtUpInFile(statusFile, [up]);
  await up.exec(`CREATE TABLE app.b (id INT PRIMARY KEY, v INT); INSERT INTO app.b VALUES (1, 1), (2, 2);
    UPDATE app.a SET v = v + 1 WHERE id <= 10;`);
  await caughtUpInFile(statusFile, [up]);
  await assertTablesEqual(up, down, ['app.a', 'app.b']);
  // a.ENGINE comes from the dump's CREATE TABLE; b was created by Sync's DDL in the user's session
  assert.deepEqual(await engines(down, 'app'), ['a:InnoDB', 'b:MyISAM']);
  assert.deepEqual(
    (await engines(down, 'dm_meta')).filter((e) => !e.endsWith(':InnoDB')),
    [],
    'every meta table is InnoDB',
  );
  run.child.kill('SIGTERM');
  await run.done;
});

test('timezone: TIMESTAMP instants arrive unchanged whatever the task and upstream time zones', async () => {
  const [up, down] = await Promise.all([server({ extraArgs: ['--default-time-zone=+08:00'] }), server()]);
  await up.exec(`CREATE DATABASE tz; CREATE TABLE tz.t (id INT PRIMARY KEY, ts TIMESTAMP(3) NULL, dt DATETIME);
    INSERT INTO tz.t VALUES (1, '2024-03-01 08:30:00.125', '2024-03-01 08:30:00'), (2, '1970-01-01 08:00:01', NULL);`);
  const f = await writeTemp({ 'source.yaml': sourceYaml('src', up) });
  const files = await writeTemp({
    'task.yaml': schemaTask({ name: 'tz', target: down, dir: f.dir, dbs: ['tz'], top: 'timezone: "+08:00"' }),
  });
  const statusFile = join(f.dir, 'status.json');
  const run = runTask(files['task.yaml'], [f['source.yaml']], statusFile);
  await caughtUpInFile(statusFile, [up]);
  await up.exec(`INSERT INTO tz.t VALUES (3, '2038-01-19 11:14:07.999', '2038-01-19 11:14:07');
    UPDATE tz.t SET ts = '2000-02-29 23:59:59.5' WHERE id = 1;`);
  await caughtUpInFile(statusFile, [up]);
  const instants = (s: MariaDBSandbox) =>
    s.exec('SELECT id, UNIX_TIMESTAMP(ts) u, dt FROM tz.t ORDER BY id') as Promise<unknown[]>;
  const want = await instants(up);
  assert.equal(want.length, 3);
  assert.deepEqual(await instants(down), want);
  run.child.kill('SIGTERM');
  await run.done;
});

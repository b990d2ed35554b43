// Routes, binlog event filters and block-allow lists end to end (`all` mode through run-task): the
// dump and load put tables where the routes say, Sync writes rows and DDL there, and exactly the
// expected tables, rows and DDLs arrive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { server, type MariaDBSandbox } from '../harness/index.js';
import { sourceYaml, writeTemp } from '../harness/task.js';
import { caughtUpInFile, runTask, runTaskToEnd } from '../harness/run.js';

async function rows(s: MariaDBSandbox, sql: string): Promise<Record<string, string | null>[]> {
  return (await s.exec(sql)) as Record<string, string | null>[];
}

async function checksum(s: MariaDBSandbox, table: string): Promise<string> {
  return String((await rows(s, `CHECKSUM TABLE ${table}`))[0].Checksum);
}

test('routes, filters and block-allow lists: exactly the expected tables, rows and DDLs arrive', async () => {
  const [up, down] = await Promise.all([server(), server()]);
  await up.exec(`CREATE DATABASE app;
    CREATE TABLE app.users (id INT PRIMARY KEY, name VARCHAR(20));
    CREATE TABLE app.orders (id INT PRIMARY KEY, amount INT);
    CREATE TABLE app.audit (id INT PRIMARY KEY, v INT);
    CREATE TABLE app.secret (id INT PRIMARY KEY);
    INSERT INTO app.users SELECT seq, CONCAT('u', seq) FROM mysql.seq_1_to_100;
    INSERT INTO app.orders SELECT seq, seq * 10 FROM mysql.seq_1_to_100;
    INSERT INTO app.audit SELECT seq, 0 FROM mysql.seq_1_to_100;
    INSERT INTO app.secret SELECT seq FROM mysql.seq_1_to_10;
    CREATE DATABASE shard_1; CREATE DATABASE shard_2; CREATE DATABASE other;
    CREATE TABLE shard_1.t_01 (id INT PRIMARY KEY, v INT);
    CREATE TABLE shard_2.t_02 (id INT PRIMARY KEY, v INT);
    CREATE TABLE other.x (id INT PRIMARY KEY);
    INSERT INTO shard_1.t_01 SELECT seq, seq FROM mysql.seq_1_to_50;
    INSERT INTO shard_2.t_02 SELECT seq + 1000, seq FROM mysql.seq_1_to_70;
    INSERT INTO other.x VALUES (1);`);
  const f = await writeTemp({ 'source.yaml': sourceYaml('src', up) });
  const t = down.connectionOptions();
  const task = `name: rules
task-mode: all
target-database: {host: "${t.host}", port: ${t.port}, user: "${t.user}", password: ""}
mysql-instances:
  - source-id: src
    block-allow-list: bal
    route-rules: [users, shards, app]
    filter-rules: [keep-orders, audit-inserts-only, no-truncate]
    loader: {dir: "${join(f.dir, 'dump')}"}
block-allow-list:
  bal:
    do-dbs: ["app", "shard_*"]
    ignore-tables: [{db-name: app, tbl-name: secret}]
routes:
  users: {schema-pattern: app, table-pattern: users, target-schema: app_new, target-table: members}
  app: {schema-pattern: app, target-schema: app_new}
  shards: {schema-pattern: "shard_*", table-pattern: "t_*", target-schema: merged, target-table: t}
filters:
  keep-orders: {schema-pattern: app, table-pattern: orders, events: [delete], action: Ignore}
  audit-inserts-only: {schema-pattern: app, table-pattern: audit, events: [insert, all ddl], action: Do}
  no-truncate: {schema-pattern: app, events: [truncate table], action: Ignore}
`;
  const files = await writeTemp({ 'task.yaml': task });
  const statusFile = join(f.dir, 'status.json');
  const run = runTask(files['task.yaml'], [f['source.yaml']], statusFile);
  const sync = () => caughtUpInFile(statusFile, [up]);

  await sync();

  const tables = async () =>
    (
      await rows(
        down,
        "SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) t FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN ('mysql','information_schema','performance_schema','sys','dm_meta') ORDER BY 1",
      )
    ).map((r) => r.t);
  assert.deepEqual(await tables(), ['app_new.audit', 'app_new.members', 'app_new.orders', 'merged.t']);
  assert.equal(await checksum(down, 'app_new.members'), await checksum(up, 'app.users'));
  assert.deepEqual(await rows(down, 'SELECT COUNT(*) n, SUM(v) s FROM merged.t'), [
    { n: '120', s: String(1275 + 2485) },
  ]);

  await up.exec(`INSERT INTO app.users VALUES (101, 'new');
    UPDATE app.users SET name = 'renamed' WHERE id <= 10;
    DELETE FROM app.users WHERE id > 95 AND id <= 100;
    DELETE FROM app.orders WHERE id <= 20;
    INSERT INTO app.orders VALUES (101, 1010);
    UPDATE app.audit SET v = 1 WHERE id <= 50;
    INSERT INTO app.audit VALUES (101, 7);
    DELETE FROM app.audit WHERE id = 100;
    INSERT INTO shard_1.t_01 VALUES (51, 51); INSERT INTO shard_2.t_02 VALUES (1071, 71);
    INSERT INTO app.secret VALUES (11);
    INSERT INTO other.x VALUES (2);
    ALTER TABLE app.users ADD COLUMN email VARCHAR(40);
    UPDATE app.users SET email = CONCAT(name, '@x') WHERE id <= 3;
    CREATE TABLE app.later (id INT PRIMARY KEY); INSERT INTO app.later VALUES (1), (2);
    TRUNCATE TABLE app.later;`);
  await sync();

  assert.equal(
    await checksum(down, 'app_new.members'),
    await checksum(up, 'app.users'),
    'routed DML + routed DDL',
  );
  assert.deepEqual(await rows(down, 'SELECT email FROM app_new.members WHERE id = 1'), [
    { email: 'renamed@x' },
  ]);
  assert.deepEqual(
    await rows(down, 'SELECT COUNT(*) n, MIN(id) lo FROM app_new.orders'),
    [{ n: '101', lo: 1 }],
    'deletes ignored',
  );
  assert.deepEqual(
    await rows(down, 'SELECT COUNT(*) n, SUM(v) s FROM app_new.audit'),
    [{ n: '101', s: '7' }],
    'only inserts: the updates and the delete were dropped',
  );
  assert.deepEqual(await rows(down, 'SELECT COUNT(*) n FROM merged.t'), [{ n: '122' }]);
  assert.deepEqual(
    await rows(down, 'SELECT COUNT(*) n FROM app_new.later'),
    [{ n: '2' }],
    'TRUNCATE ignored',
  );
  assert.deepEqual(await tables(), [
    'app_new.audit',
    'app_new.later',
    'app_new.members',
    'app_new.orders',
    'merged.t',
  ]);
  run.child.kill('SIGTERM');
  await run.done;
});

test("routes' extract-table/schema/source fill the merged table's extra columns in Load and Sync", async () => {
  const [up, down] = await Promise.all([server(), server()]);
  await up.exec(`CREATE DATABASE shop_01; CREATE DATABASE shop_02;
    CREATE TABLE shop_01.orders_a (id INT PRIMARY KEY, amount INT);
    CREATE TABLE shop_02.orders_b (id INT PRIMARY KEY, amount INT);
    INSERT INTO shop_01.orders_a SELECT seq, seq FROM mysql.seq_1_to_100;
    INSERT INTO shop_02.orders_b SELECT seq, seq * 2 FROM mysql.seq_1_to_50;`);
  // As in DM, the merged table is created by the operator, with the extra columns in its key.
  await down.exec(`CREATE DATABASE merged; CREATE TABLE merged.orders (id INT, amount INT,
    c_table VARCHAR(20) NOT NULL, c_schema VARCHAR(20) NOT NULL, c_source VARCHAR(20) NOT NULL,
    PRIMARY KEY (id, c_table, c_schema))`);
  const f = await writeTemp({ 'source.yaml': sourceYaml('mysql-01', up) });
  const t = down.connectionOptions();
  const files = await writeTemp({
    'task.yaml': `name: extract
task-mode: all
target-database: {host: "${t.host}", port: ${t.port}, user: "${t.user}", password: ""}
mysql-instances:
  - source-id: mysql-01
    block-allow-list: bal
    route-rules: [orders, schemas]
    loader: {dir: "${join(f.dir, 'dump')}"}
block-allow-list:
  bal: {do-dbs: ["shop_*"]}
routes:
  orders:
    schema-pattern: "shop_*"
    table-pattern: "orders_*"
    target-schema: merged
    target-table: orders
    extract-table: {table-regexp: "orders_(.*)", target-column: c_table}
    extract-schema: {schema-regexp: "shop_(.*)", target-column: c_schema}
    extract-source: {source-regexp: "mysql-(.*)", target-column: c_source}
  schemas: {schema-pattern: "shop_*", target-schema: merged}
`,
  });
  const statusFile = join(f.dir, 'status.json');
  const run = runTask(files['task.yaml'], [f['source.yaml']], statusFile);
  const sync = () => caughtUpInFile(statusFile, [up]);

  await sync();
  const summary = () =>
    rows(
      down,
      'SELECT c_table, c_schema, c_source, COUNT(*) n, SUM(amount) s FROM merged.orders GROUP BY 1, 2, 3 ORDER BY 1',
    );
  assert.deepEqual(await summary(), [
    { c_table: 'a', c_schema: '01', c_source: '01', n: '100', s: '5050' },
    { c_table: 'b', c_schema: '02', c_source: '01', n: '50', s: '2550' },
  ]);
  await up.exec(`UPDATE shop_01.orders_a SET amount = 0 WHERE id <= 10; DELETE FROM shop_02.orders_b WHERE id > 40;
    INSERT INTO shop_02.orders_b VALUES (1000, 7); UPDATE shop_02.orders_b SET amount = amount + 1 WHERE id = 1`);
  await sync();
  assert.deepEqual(await summary(), [
    { c_table: 'a', c_schema: '01', c_source: '01', n: '100', s: String(5050 - 55) },
    { c_table: 'b', c_schema: '02', c_source: '01', n: '41', s: String(2550 - 2 * (41 + 50) * 5 + 7 + 1) },
  ]);
  run.child.kill('SIGTERM');
  await run.done;
});

test('extract-*: a merged table without the extra columns stops Load with the fix', async () => {
  const [up, down] = await Promise.all([server(), server()]);
  await up.exec(`CREATE DATABASE s_1; CREATE TABLE s_1.t (id INT PRIMARY KEY); INSERT INTO s_1.t VALUES (1)`);
  const f = await writeTemp({ 'source.yaml': sourceYaml('src', up) });
  const t = down.connectionOptions();
  const files = await writeTemp({
    'task.yaml': `name: noextra
task-mode: full
target-database: {host: "${t.host}", port: ${t.port}, user: "${t.user}", password: ""}
mysql-instances:
  - {source-id: src, route-rules: [r], block-allow-list: bal, loader: {dir: "${join(f.dir, 'dump')}"}}
block-allow-list:
  bal: {do-dbs: ["s_1"]}
routes:
  r: {schema-pattern: "s_*", table-pattern: t, target-schema: m, target-table: t, extract-schema: {schema-regexp: "s_(.*)", target-column: c_schema}}
`,
  });
  const { code, status } = await runTaskToEnd(files['task.yaml'], [f['source.yaml']]);
  assert.equal(code, 1);
  const st = status.workers[0].subTaskStatus[0];
  assert.equal(st.stage, 'Paused');
  assert.match(
    st.result!.errors[0].msg,
    /extract target column\(s\) c_schema are not columns of `m`\.`t` on the target/,
  );
  assert.match(st.result!.errors[0].Workaround, /Create the merged table on the target before the task/);
});

test("a source file's filters (DM v2) apply to its tasks; a task rule for the same tables wins", async () => {
  const [up, down] = await Promise.all([server(), server()]);
  await up.exec(`CREATE DATABASE sf;
    CREATE TABLE sf.keep (id INT PRIMARY KEY); CREATE TABLE sf.log (id INT PRIMARY KEY);
    INSERT INTO sf.keep SELECT seq FROM mysql.seq_1_to_50; INSERT INTO sf.log SELECT seq FROM mysql.seq_1_to_50;`);
  // the source ignores deletes on both tables; the task's own rule for sf.log lets them through
  const f = await writeTemp({
    'source.yaml': `${sourceYaml('src', up)}filters:
  - {schema-pattern: sf, table-pattern: keep, events: [delete], action: Ignore}
  - {schema-pattern: sf, table-pattern: log, events: [delete], action: Ignore}
`,
  });
  const t = down.connectionOptions();
  const files = await writeTemp({
    'task.yaml': `name: srcfilter
task-mode: all
target-database: {host: "${t.host}", port: ${t.port}, user: "${t.user}", password: ""}
mysql-instances:
  - source-id: src
    block-allow-list: bal
    filter-rules: [log-all]
    loader: {dir: "${join(f.dir, 'dump')}"}
block-allow-list:
  bal: {do-dbs: [sf]}
filters:
  log-all: {schema-pattern: sf, table-pattern: log, events: [all dml], action: Do}
`,
  });
  const statusFile = join(f.dir, 'status.json');
  const run = runTask(files['task.yaml'], [f['source.yaml']], statusFile);
  await caughtUpInFile(statusFile, [up]);
  await up.exec('DELETE FROM sf.keep WHERE id <= 10; DELETE FROM sf.log WHERE id <= 10');
  await caughtUpInFile(statusFile, [up]);
  assert.deepEqual(await rows(down, 'SELECT COUNT(*) n FROM sf.keep'), [{ n: '50' }], "the source's rule");
  assert.deepEqual(await rows(down, 'SELECT COUNT(*) n FROM sf.log'), [{ n: '40' }], "the task's rule wins");
  run.child.kill('SIGTERM');
  await run.done;
});

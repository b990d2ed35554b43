// column-mappings (DM v2.0) end to end: two shards whose ids overlap merge into one table, their
// ids made distinct by `partition id`, and a name column gets `add prefix`, in Load (the dumped
// rows) and in Sync (inserts, updates and deletes find the mapped keys). Upstream at MariaDB's
// defaults (no column names in the binlog).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { server, type MariaDBSandbox } from '../harness/index.js';
import { MARIADB_DEFAULTS } from '../../src/sandbox/mariadb.js';
import { sourceYaml, writeTemp } from '../harness/task.js';
import { caughtUpInFile, runTask } from '../harness/run.js';

/** The id DM's partition id gives: instance 1, the schema's and the table's number. */
const pid = (schema: number, table: number, id: number) =>
  (1n << 59n) | (BigInt(schema) << 52n) | (BigInt(table) << 44n) | BigInt(id);

async function rows(s: MariaDBSandbox, sql: string) {
  return (await s.exec(sql)) as Record<string, string | number | null>[];
}

test('column-mappings: partition id merges overlapping shard ids, add prefix rewrites names, in Load and Sync', async () => {
  const [up, down] = await Promise.all([server({ binlog: MARIADB_DEFAULTS }), server()]);
  await up.exec(`CREATE DATABASE shop_1; CREATE DATABASE shop_2;
    CREATE TABLE shop_1.order_1 (id INT PRIMARY KEY, v INT); CREATE TABLE shop_2.order_2 (id INT PRIMARY KEY, v INT);
    CREATE TABLE shop_1.users (id INT PRIMARY KEY, name VARCHAR(30));
    INSERT INTO shop_1.order_1 SELECT seq, seq FROM mysql.seq_1_to_20;
    INSERT INTO shop_2.order_2 SELECT seq, seq * 100 FROM mysql.seq_1_to_20;
    INSERT INTO shop_1.users VALUES (1, 'ann'), (2, NULL), (3, 'o''neil');`);
  await down.exec(`CREATE DATABASE merged; CREATE TABLE merged.orders (id BIGINT PRIMARY KEY, v INT)`);
  const f = await writeTemp({ 'source.yaml': sourceYaml('src', up) });
  const t = down.connectionOptions();
  const files = await writeTemp({
    'task.yaml': `name: colmap
task-mode: all
target-database: {host: "${t.host}", port: ${t.port}, user: "${t.user}", password: ""}
mysql-instances:
  - source-id: src
    block-allow-list: bal
    route-rules: [orders]
    column-mapping-rules: [pid, names]
    loader: {dir: "${join(f.dir, 'dump')}"}
block-allow-list:
  bal: {do-dbs: ["shop_*"]}
routes:
  orders: {schema-pattern: "shop_*", table-pattern: "order_*", target-schema: merged, target-table: orders}
column-mappings:
  pid:
    schema-pattern: "shop_*"
    table-pattern: "order_*"
    expression: "partition id"
    source-column: id
    target-column: id
    arguments: ["1", "shop", "order", "_"]
  names:
    schema-pattern: "shop_*"
    table-pattern: "users"
    expression: "add prefix"
    source-column: name
    target-column: name
    arguments: ["s1:"]
`,
  });
  const statusFile = join(f.dir, 'status.json');
  const run = runTask(files['task.yaml'], [f['source.yaml']], statusFile);
  await caughtUpInFile(statusFile, [up]);

  const expected = (a: [number, number][], b: [number, number][]) =>
    [...a.map(([id, v]) => [pid(1, 1, id), v]), ...b.map(([id, v]) => [pid(2, 2, id), v])]
      .sort((x, y) => (x[0] < y[0] ? -1 : 1))
      .map(([id, v]) => ({ id: String(id), v: Number(v) }));
  const range = (n: number, f: (i: number) => number) =>
    Array.from({ length: n }, (_, i) => [i + 1, f(i + 1)] as [number, number]);
  const orders = () => rows(down, 'SELECT CAST(id AS CHAR) id, v FROM merged.orders ORDER BY id');
  assert.deepEqual(
    await orders(),
    expected(
      range(20, (i) => i),
      range(20, (i) => i * 100),
    ),
    'Load',
  );
  assert.deepEqual(await rows(down, 'SELECT id, name FROM shop_1.users ORDER BY id'), [
    { id: 1, name: 's1:ann' },
    { id: 2, name: null },
    { id: 3, name: "s1:o'neil" },
  ]);

  await up.exec(`INSERT INTO shop_1.order_1 VALUES (21, 21); INSERT INTO shop_2.order_2 VALUES (21, 2100);
    UPDATE shop_1.order_1 SET v = -1 WHERE id = 5; UPDATE shop_2.order_2 SET v = -2 WHERE id = 5;
    DELETE FROM shop_2.order_2 WHERE id > 18;
    UPDATE shop_1.order_1 SET id = 30 WHERE id = 1;
    INSERT INTO shop_1.users VALUES (4, 'bo'); UPDATE shop_1.users SET name = 'zed' WHERE id = 2;`);
  await caughtUpInFile(statusFile, [up]);
  const a = range(21, (i) => (i === 5 ? -1 : i)).filter(([id]) => id !== 1);
  a.push([30, 1]);
  const b = range(18, (i) => (i === 5 ? -2 : i * 100));
  assert.deepEqual(await orders(), expected(a, b), 'Sync');
  assert.deepEqual(await rows(down, 'SELECT id, name FROM shop_1.users ORDER BY id'), [
    { id: 1, name: 's1:ann' },
    { id: 2, name: 's1:zed' },
    { id: 3, name: "s1:o'neil" },
    { id: 4, name: 's1:bo' },
  ]);
  run.child.kill('SIGTERM');
  await run.done;
});

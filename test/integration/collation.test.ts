// collation_compatible: strict, end to end (task-mode all): databases and tables created by Load
// and by Sync get the upstream's collations even where their statements leave them implicit;
// with loose (DM's default) the target's own defaults decide, which is what strict prevents.
// The upstream runs with collation_server utf8mb4_bin, the targets with their defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { server, type MariaDBSandbox } from '../harness/index.js';
import { sourceYaml, writeTemp } from '../harness/task.js';
import { caughtUpInFile, runTask } from '../harness/run.js';

async function collations(s: MariaDBSandbox): Promise<Record<string, string>> {
  const rows =
    (await s.exec(`SELECT CONCAT('db ', SCHEMA_NAME) k, DEFAULT_COLLATION_NAME v FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'd_'
    UNION ALL SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME), TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA LIKE 'd_'
    UNION ALL SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME, '.', COLUMN_NAME), COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA LIKE 'd_' AND COLLATION_NAME IS NOT NULL`)) as {
      k: string;
      v: string;
    }[];
  return Object.fromEntries(rows.map((r) => [r.k, r.v]));
}

test('collation_compatible strict keeps the upstream collations in Load and Sync; loose leaves them to the target', async () => {
  const [up, strict, loose] = await Promise.all([
    server({ extraArgs: ['--character-set-server=utf8mb4', '--collation-server=utf8mb4_bin'] }),
    server(),
    server(),
  ]);
  await up.exec(`CREATE DATABASE d0; CREATE TABLE d0.t (id INT PRIMARY KEY, c VARCHAR(10));
    CREATE TABLE d0.u (id INT PRIMARY KEY, c VARCHAR(10) CHARACTER SET latin1) DEFAULT CHARSET = latin1;`);
  const f = await writeTemp({ 'source.yaml': sourceYaml('src', up) });
  const runs = [];
  for (const [name, down] of [
    ['strict', strict],
    ['loose', loose],
  ] as const) {
    const t = down.connectionOptions();
    const files = await writeTemp({
      'task.yaml': `name: coll${name}
task-mode: all
collation_compatible: ${name}
target-database: {host: "${t.host}", port: ${t.port}, user: "${t.user}", password: ""}
mysql-instances:
  - source-id: src
    block-allow-list: bal
    loader: {dir: "${join(f.dir, 'dump-' + name)}"}
block-allow-list:
  bal: {do-dbs: ["~^d[0-9]$"]}
`,
    });
    const statusFile = join(f.dir, `status-${name}.json`);
    runs.push({ run: runTask(files['task.yaml'], [f['source.yaml']], statusFile), statusFile });
  }
  for (const r of runs) await caughtUpInFile(r.statusFile, [up]);
  await up.exec(`CREATE DATABASE d1; CREATE TABLE d1.t (id INT PRIMARY KEY, c VARCHAR(10));
    CREATE TABLE d1.u (id INT PRIMARY KEY, c VARCHAR(10) CHARACTER SET latin1) DEFAULT CHARSET = utf8mb4;
    CREATE DATABASE d2 CHARACTER SET latin1; CREATE TABLE d2.t (id INT PRIMARY KEY, c TEXT);`);
  for (const r of runs) await caughtUpInFile(r.statusFile, [up]);

  const want = await collations(up);
  assert.equal(want['db d1'], 'utf8mb4_bin', 'the upstream default');
  assert.deepEqual(await collations(strict), want);
  const l = await collations(loose);
  assert.notEqual(l['db d1'], 'utf8mb4_bin', "loose: CREATE DATABASE d1 takes the target's server collation");
  assert.notEqual(l['d1.t.c'], 'utf8mb4_bin');
  for (const r of runs) {
    r.run.child.kill('SIGTERM');
    await r.run.done;
  }
});

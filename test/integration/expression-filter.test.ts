// expression-filter end to end (run-task, upstream at MariaDB's defaults: no column names or
// charsets in the binlog, before images decoded only where needed): inserts, updates and deletes
// matching the rules are not applied, everything else is, counts exact; a rule naming a column the
// table lacks pauses the subtask naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { server, type MariaDBSandbox } from '../harness/index.js';
import { MARIADB_DEFAULTS } from '../../src/sandbox/mariadb.js';
import { sourceYaml, writeTemp } from '../harness/task.js';
import { assertTablesEqual, caughtUpInFile, readStatus, runTask } from '../harness/run.js';

async function rows(s: MariaDBSandbox, sql: string): Promise<Record<string, string | number | null>[]> {
  return (await s.exec(sql)) as Record<string, string | number | null>[];
}

function task(name: string, down: MariaDBSandbox, dir: string, rules: string): string {
  const t = down.connectionOptions();
  return `name: ${name}
task-mode: all
target-database: {host: "${t.host}", port: ${t.port}, user: "${t.user}", password: ""}
mysql-instances:
  - source-id: src
    block-allow-list: bal
    expression-filters: [${rules
      .split('\n')
      .filter((l) => /^ {2}\w/.test(l))
      .map((l) => l.trim().split(':')[0])
      .join(', ')}]
    loader: {dir: "${join(dir, 'dump')}"}
block-allow-list:
  bal: {do-dbs: [expr]}
expression-filter:
${rules}
`;
}

test('expression filters: matching inserts, updates and deletes are not applied; counts exact', async () => {
  const [up, down] = await Promise.all([server({ binlog: MARIADB_DEFAULTS }), server()]);
  await up.exec(`CREATE DATABASE expr;
    CREATE TABLE expr.tbl (id INT PRIMARY KEY, c INT, name VARCHAR(20), note VARCHAR(20));
    CREATE TABLE expr.other (id INT PRIMARY KEY, c INT);
    INSERT INTO expr.tbl SELECT seq, seq, IF(seq IN (1, 2, 3, 6), 'keep', 'x'), IF(seq IN (7, 8), 'Archived', 'live')
      FROM mysql.seq_1_to_10;
    INSERT INTO expr.other SELECT seq, seq FROM mysql.seq_1_to_10;`);
  const f = await writeTemp({ 'source.yaml': sourceYaml('src', up) });
  const files = await writeTemp({
    'task.yaml': task(
      'exprf',
      down,
      f.dir,
      `  even_c: {schema: expr, table: tbl, insert-value-expr: "c % 2 = 0"}
  keep_big: {schema: expr, table: tbl, update-old-value-expr: "name = 'KEEP'", update-new-value-expr: "c > 100"}
  archived: {schema: expr, table: tbl, delete-value-expr: "note LIKE 'arch%'"}`,
    ),
  });
  const statusFile = join(f.dir, 'status.json');
  const run = runTask(files['task.yaml'], [f['source.yaml']], statusFile);
  await caughtUpInFile(statusFile, [up]);
  // the full copy is not filtered (as in DM)
  await assertTablesEqual(up, down, ['expr.tbl', 'expr.other']);

  await up.exec(`INSERT INTO expr.tbl SELECT seq, seq, 'new', 'live' FROM mysql.seq_11_to_30;
    UPDATE expr.tbl SET c = 200 WHERE id <= 5;
    UPDATE expr.tbl SET c = 50 WHERE id = 6;
    DELETE FROM expr.tbl WHERE id IN (7, 8, 9, 10);
    INSERT INTO expr.other SELECT seq, seq FROM mysql.seq_11_to_20;
    UPDATE expr.other SET c = 500 WHERE id <= 3;`);
  await caughtUpInFile(statusFile, [up]);

  assert.deepEqual(await rows(down, 'SELECT id, c FROM expr.tbl ORDER BY id'), [
    // 1-3: name 'keep' (case-insensitive) and the new c > 100: the updates were skipped
    { id: 1, c: 1 },
    { id: 2, c: 2 },
    { id: 3, c: 3 },
    { id: 4, c: 200 },
    { id: 5, c: 200 },
    { id: 6, c: 50 },
    // 7 and 8: their note is 'Archived': the deletes were skipped (9 and 10 are gone)
    { id: 7, c: 7 },
    { id: 8, c: 8 },
    // of 11-30 only the odd c were inserted
    ...[11, 13, 15, 17, 19, 21, 23, 25, 27, 29].map((id) => ({ id, c: id })),
  ]);
  // the table no rule names gets every change
  await assertTablesEqual(up, down, ['expr.other']);
  run.child.kill('SIGTERM');
  await run.done;
});

test('expression filters: a rule naming a column the table lacks pauses the subtask naming it', async () => {
  const [up, down] = await Promise.all([server(), server()]);
  await up.exec(`CREATE DATABASE expr; CREATE TABLE expr.tbl (id INT PRIMARY KEY, c INT);`);
  const f = await writeTemp({ 'source.yaml': sourceYaml('src', up) });
  const files = await writeTemp({
    'task.yaml': task(
      'exprbad',
      down,
      f.dir,
      `  typo: {schema: expr, table: tbl, insert-value-expr: "cc > 1"}`,
    ),
  });
  const statusFile = join(f.dir, 'status.json');
  const run = runTask(files['task.yaml'], [f['source.yaml']], statusFile);
  await caughtUpInFile(statusFile, [up]);
  await up.exec('INSERT INTO expr.tbl VALUES (1, 5)');
  const deadline = Date.now() + 60_000;
  let st;
  for (;;) {
    st = (await readStatus(statusFile))?.workers[0]?.subTaskStatus[0];
    if (st?.stage === 'Paused' || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(st?.stage, 'Paused');
  assert.match(
    JSON.stringify(st?.result),
    /expression-filter 'typo' reads column 'cc', which `expr`.`tbl` does not have/,
  );
  assert.deepEqual(await rows(down, 'SELECT COUNT(*) n FROM expr.tbl'), [{ n: '0' }], 'nothing guessed');
  run.child.kill('SIGTERM');
  await run.done;
});

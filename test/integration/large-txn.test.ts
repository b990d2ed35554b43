// A large upstream transaction's inserts reach a target that takes LOAD DATA LOCAL as LOAD DATA
// rows: every value LOAD DATA can carry arrives exact (tabs, newlines, backslashes, NULLs, binary,
// emoji, extremes), at our settings and at MariaDB's defaults (no row metadata: strings as bytes,
// ENUM and SET as indexes, which go as INSERTs), and as INSERTs to a target without local_infile;
// a duplicate key or a value the target would change pauses Sync with nothing of the transaction
// applied, and binlog skip goes on (into an AUTO_INCREMENT table: a LOAD DATA per chunk). SIGKILL
// of the target, and of run-task, while the rows stream in: nothing of the transaction stays, and
// after the restart all of it is applied, once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { server } from '../harness/index.js';
import { caughtUp, subtask } from '../harness/subtask.js';
import { MARIADB_DEFAULTS, type BinlogProfile, type MariaDBSandbox } from '../../src/sandbox/mariadb.js';
import { allTypesTable, COLUMNS, ROWS } from '../harness/all-types.js';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { assertTablesEqual, readStatus, runTask } from '../harness/run.js';
import { sourceYaml, taskYaml, writeTemp } from '../harness/task.js';

/** Columns whose text form differs from their literal (their tables' inserts stay INSERTs), and
 * ENUM and SET (LOAD DATA rows only when the binlog names their members). */
const NOT_TSV = ['b1', 'b64', 'y', 'g', 'pt', 'e', 'st'];

/** Waits until `s` has written `n` more rows (Handler_write) than when called. */
async function written(s: MariaDBSandbox, n: number): Promise<void> {
  const count = async () => {
    const [r] = (await s.exec("SHOW GLOBAL STATUS LIKE 'Handler_write'")) as { Value: string }[];
    return Number(r.Value);
  };
  const from = await count();
  for (let i = 0; (await count()) < from + n; i++) {
    if (i > 1000) assert.fail(`the target did not write ${n} rows`);
    await new Promise((res) => setTimeout(res, 10));
  }
}

async function loads(s: MariaDBSandbox): Promise<number> {
  const [r] = (await s.exec("SHOW GLOBAL STATUS LIKE 'Com_load'")) as { Value: string }[];
  return Number(r.Value);
}

for (const [title, binlog, loadData] of [
  ['', {}, true],
  [" (upstream at MariaDB's defaults)", MARIADB_DEFAULTS, true],
  [' (a target without local_infile: INSERTs)', {}, false],
] as [string, BinlogProfile, boolean][]) {
  test(`a large transaction's inserts go as LOAD DATA rows, every value exact${title}; a duplicate or a value the target would change pauses Sync, nothing of it applied`, async () => {
    const up = await server({ binlog });
    const down = await server(loadData ? {} : { extraArgs: ['--local-infile=0'] });
    const cols = COLUMNS.filter(([n]) => !NOT_TSV.includes(n));
    await up.exec(`CREATE DATABASE bulk; ${allTypesTable('bulk', 'seed')};
      INSERT INTO bulk.seed VALUES ${ROWS.join(',')};
      CREATE TABLE bulk.t (${cols.map(([n, t]) => `\`${n}\` ${t}`).join(', ')});
      CREATE TABLE bulk.every (${COLUMNS.map(([n, t]) => `\`${n}\` ${t}`).join(', ')});
      CREATE TABLE bulk.named (id INT PRIMARY KEY, e ENUM('2', '1', 'c d'), st SET('x', 'y', '1'));
      CREATE TABLE bulk.narrow (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20))`);
    const st = await subtask(up, down, 'bulk');
    st.start();
    await caughtUp(up, async () => st.status());
    const before = await loads(down);

    // 3 seed rows × 4000: 12k rows in one transaction (streamed from 10k), with a tab, a newline,
    // a backslash and a literal \N in a text column, and a second table's rows after them
    const select = (list: string[]) =>
      list
        .slice(1)
        .map((n) =>
          n === 'mb' || n === 'mt' ? `LEFT(${n}, 100)` : n === 'tx' ? `CONCAT(tx, '\\t\\n\\\\N\\\\')` : n,
        )
        .join(', ');
    const names = cols.map(([n]) => n);
    await up.exec(`BEGIN;
      INSERT INTO bulk.t SELECT s.id * 100000 + seq, ${select(names)} FROM bulk.seed s, mysql.seq_1_to_4000;
      INSERT INTO bulk.every SELECT s.id * 100000 + seq, ${select(COLUMNS.map(([n]) => n))} FROM bulk.seed s, mysql.seq_1_to_300;
      UPDATE bulk.t SET vc = 'changed' WHERE id % 1000 = 1;
      COMMIT`);
    await caughtUp(up, async () => st.status());
    assert.equal((await loads(down)) > before, loadData, 'LOAD DATA carried the rows');
    await assertTablesEqual(up, down, ['bulk.t', 'bulk.every']);

    // ENUM and SET members that look like indexes: as names (row metadata), else as INSERTs
    const named = await loads(down);
    await up.exec(`INSERT INTO bulk.named SELECT seq, ELT(1 + seq % 3, '2', '1', 'c d'), IF(seq % 4, '1,x', '')
      FROM mysql.seq_1_to_12000`);
    await caughtUp(up, async () => st.status());
    assert.equal(
      (await loads(down)) > named,
      loadData && !binlog.rowMetadata,
      'LOAD DATA only with member names',
    );
    await assertTablesEqual(up, down, ['bulk.named']);

    // a duplicate key: the target already has one of the rows
    await down.exec("INSERT INTO bulk.narrow VALUES (5000, 'tgt')");
    await up.exec("INSERT INTO bulk.narrow SELECT seq, 'up' FROM mysql.seq_1_to_12000");
    await st.until(['Paused'], 60_000);
    let e = st.result!.errors[0];
    assert.match(
      e.msg,
      loadData
        ? /^Error 1062: Duplicate entry '5000' for key 'PRIMARY'\nbinlog .*\nSQL: LOAD DATA LOCAL INFILE 'dm-ts-rows' IGNORE INTO TABLE `bulk`\.`narrow` /
        : /^Error 1062: Duplicate entry '5000' for key 'PRIMARY'\nbinlog .*\nSQL: INSERT INTO `bulk`\.`narrow` /,
    );
    assert.deepEqual(await down.exec('SELECT COUNT(*) AS n FROM bulk.narrow'), [{ n: '1' }]);
    st.handleError('skip');
    st.resume();

    // a value the target would cut: its column is narrower there
    await down.exec('ALTER TABLE bulk.narrow MODIFY v VARCHAR(3)');
    await up.exec("INSERT INTO bulk.narrow SELECT seq, 'up' FROM mysql.seq_20001_to_30000");
    await up.exec(
      "INSERT INTO bulk.narrow SELECT seq, IF(seq = 35000, 'too long', 'up') FROM mysql.seq_30001_to_42000",
    );
    await st.until(['Paused'], 60_000);
    e = st.result!.errors[0];
    assert.match(e.msg, /^Error \d+: Data (truncated|too long) for column 'v' at row \d+\nbinlog /);
    // the first transaction applied, nothing of the second
    assert.deepEqual(await down.exec('SELECT COUNT(*) AS n, MAX(id) AS m FROM bulk.narrow'), [
      { n: '10001', m: 30_000 },
    ]);
    st.handleError('skip');
    st.resume();
    await up.exec("INSERT INTO bulk.narrow VALUES (50000, 'end')");
    await caughtUp(up, async () => st.status());
    assert.deepEqual(await down.exec('SELECT v FROM bulk.narrow WHERE id = 50000'), [{ v: 'end' }]);
    await st.stop();
  });
}

test('the target killed (SIGKILL) while a large transaction streams in as LOAD DATA rows: retried once it is back, applied once', async () => {
  const up = await server();
  const down = await server();
  await up.exec('CREATE DATABASE bulk; CREATE TABLE bulk.t (id INT PRIMARY KEY, v CHAR(32))');
  const st = await subtask(up, down, 'bulk_crash');
  st.start();
  await caughtUp(up, async () => st.status());
  await up.exec('INSERT INTO bulk.t SELECT seq, MD5(seq) FROM mysql.seq_1_to_1000000');
  // the transaction is on its way there (its rows are not visible before the commit)
  await written(down, 50_000);
  await down.kill();
  await st.until(['Paused'], 30_000);
  assert.equal(st.result!.errors[0].retryable, true, JSON.stringify(st.result!.errors[0]));
  await down.start();
  await caughtUp(up, async () => st.status(), 120_000);
  assert.equal(st.stage, 'Running');
  await assertTablesEqual(up, down, ['bulk.t']);
  await st.stop();
});

test('run-task SIGKILLed while a large transaction streams in as LOAD DATA rows: none of it applied; after the restart all of it, once', async () => {
  const up = await server({ binlog: MARIADB_DEFAULTS });
  const down = await server();
  await up.exec('CREATE DATABASE bulk; CREATE TABLE bulk.t (id INT PRIMARY KEY, v CHAR(32))');
  const f = await writeTemp({ 'source.yaml': sourceYaml('src', up), 'task.yaml': '' });
  await writeFile(
    f['task.yaml'],
    taskYaml({ name: 'bulk_kill', mode: 'all', target: down, sources: ['src'], dir: join(f.dir, 'dump') }),
  );
  const statusFile = join(f.dir, 'status.json');
  const status = async () => (await readStatus(statusFile))?.workers[0].subTaskStatus[0];
  let run = runTask(f['task.yaml'], [f['source.yaml']], statusFile);
  await caughtUp(up, status);
  await up.exec('INSERT INTO bulk.t SELECT seq, MD5(seq) FROM mysql.seq_1_to_1000000');
  await written(down, 100_000);
  run.child.kill('SIGKILL');
  assert.equal((await run.done).signal, 'SIGKILL');
  // the target rolls the open transaction back: none of it stays (INNODB_TRX is a cache renewed
  // only when read more than 0.1 s after its last read: polled slower than that)
  const open = async () =>
    ((await down.exec('SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX')) as { n: string }[])[0].n;
  for (let i = 0; (await open()) !== '0'; i++) {
    if (i > 120) assert.fail('the killed transaction is still open on the target');
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.deepEqual(await down.exec('SELECT COUNT(*) AS n FROM bulk.t'), [{ n: '0' }]);
  run = runTask(f['task.yaml'], [f['source.yaml']], statusFile);
  try {
    await caughtUp(up, status, 120_000);
  } finally {
    run.child.kill('SIGTERM');
    await run.done;
  }
  await assertTablesEqual(up, down, ['bulk.t']);
});

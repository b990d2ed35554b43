// Incremental replication between real MariaDB servers: a write workload with every column type,
// key-changing updates, a 100k-row transaction (applied as it is read) and DDL while writing;
// SIGKILL under load (hot rows and 30k-row transactions among the writes; upstream at our settings and at MariaDB's defaults); the target down for a while. At the end every table is equal (CHECKSUM TABLE and row counts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { masterStatus, server } from '../harness/index.js';
import { caughtUp, quiet, stopAtEnd, subtask, userTables } from '../harness/subtask.js';
import { MARIADB_DEFAULTS, type BinlogProfile } from '../../src/sandbox/mariadb.js';
import { allTypesTable, ROWS } from '../harness/all-types.js';
import { sourceYaml, taskYaml, writeTemp } from '../harness/task.js';
import { assertTablesEqual, readStatus, runTask } from '../harness/run.js';
import { oltpWriteOnly, sysbenchTables } from '../../src/sandbox/workload.js';
import { parseSourceConfig, parseTaskConfig, subTaskConfigs } from '../../src/task/config.js';
import { SubTask } from '../../src/worker/subtask.js';

const DOWN_SECONDS = Number(process.env.DM_TEST_TARGET_DOWN_S ?? 30);

// The servers as users run them: ours (FULL row metadata, GTID strict mode), MariaDB's defaults
// (no row metadata: no signedness, names or charsets in the binlog), and the leanest binlog.
const MATRIX: [title: string, syncer: string | undefined, binlog: BinlogProfile][] = [
  ['', undefined, {}],
  [' (syncers.compact + multiple-rows)', 'compact: true\nmultiple-rows: true\nworker-count: 4', {}],
  [
    " (upstream at MariaDB's defaults: binlog_row_metadata=NO_LOG, GTID strict off)",
    undefined,
    MARIADB_DEFAULTS,
  ],
  [
    ' (upstream: NO_LOG, binlog_checksum=NONE, binlog_annotate_row_events=OFF)',
    undefined,
    { ...MARIADB_DEFAULTS, checksum: 'NONE', annotate: false },
  ],
];
for (const [title, syncer, binlog] of MATRIX) {
  test(`all mode${title}: dump, load, then every kind of change replicated while writing; tables equal`, () =>
    allMode(syncer, binlog));
}

async function allMode(syncer: string | undefined, binlog: BinlogProfile): Promise<void> {
  const up = await server({ binlog });
  const down = await server();
  await sysbenchTables(up, 'sb', 4, 10_000);
  await up.exec(`CREATE DATABASE types; ${allTypesTable('types', 'all')};
    CREATE TABLE types.uk (code VARCHAR(20) NOT NULL, v INT, UNIQUE KEY (code));
    INSERT INTO types.uk SELECT CONCAT('c', seq), seq FROM mysql.seq_1_to_1000;
    CREATE TABLE types.nokey (a INT, b VARCHAR(10));
    INSERT INTO types.nokey VALUES (1, 'x'), (1, 'x'), (2, NULL)`);
  const st = await subtask(up, down, 'sync_all', { syncer });
  st.start();
  await caughtUp(up, async () => st.status());
  assert.equal(st.status().unit, 'Sync');

  const oltp = oltpWriteOnly(up, 'sb', { tables: 4, rows: 10_000, txns: 400, concurrency: 4 });
  // every column type: inserts, updates of every column, deletes
  for (const r of ROWS) await up.exec(`INSERT INTO types.all VALUES ${r}`);
  await up.exec(`UPDATE types.all SET ti = ti + 1, vc = CONCAT(vc, '✓'), j = '{"x": 1}', bl = x'00ff', e = 'b' WHERE id = 1;
    UPDATE types.all SET id = id + 10 WHERE id = 2;
    DELETE FROM types.all WHERE id = 3;
    INSERT INTO types.all (id) VALUES (100)`);
  // a composite key: rows updated several times in one transaction (multi-row UPDATEs split where a
  // key repeats), deleted and inserted again, deleted by key
  await up.exec(`CREATE TABLE types.ck (a INT, b VARCHAR(10), v INT, w TEXT, PRIMARY KEY (a, b));
    INSERT INTO types.ck SELECT seq % 50, CONCAT('k', seq DIV 50), seq, REPEAT('w', seq % 7) FROM mysql.seq_1_to_500;
    BEGIN; UPDATE types.ck SET v = v + 1 WHERE a < 10; UPDATE types.ck SET v = v * 2 WHERE a < 20; UPDATE types.ck SET w = 'x' WHERE a = 3;
      DELETE FROM types.ck WHERE a = 4; INSERT INTO types.ck SELECT 4, CONCAT('k', seq), -seq, NULL FROM mysql.seq_0_to_9;
      DELETE FROM types.ck WHERE a = 5 AND b IN ('k1', 'k2'); COMMIT`);
  // key changes, deletes by unique key, duplicate rows without a key
  await up.exec(`UPDATE sb.sbtest1 SET id = id + 1000000 WHERE id % 97 = 0;
    UPDATE types.uk SET code = CONCAT(code, '-moved') WHERE v % 10 = 0;
    DELETE FROM types.uk WHERE code IN ('c1', 'c2', 'c3');
    DELETE FROM types.nokey WHERE a = 1 LIMIT 1;
    UPDATE types.nokey SET b = 'y' WHERE a = 2`);
  // a 100k-row transaction
  await up.exec(`CREATE TABLE sb.big (id INT PRIMARY KEY, v VARCHAR(40));
    BEGIN; INSERT INTO sb.big SELECT seq, MD5(seq) FROM mysql.seq_1_to_100000; UPDATE sb.big SET v = 'changed' WHERE id <= 1000; COMMIT`);
  // DDL while the workload writes
  await up.exec(`ALTER TABLE sb.sbtest2 ADD COLUMN note VARCHAR(20) DEFAULT 'n';
    ALTER TABLE sb.sbtest3 MODIFY pad VARCHAR(80) NOT NULL DEFAULT '';
    ALTER TABLE sb.sbtest2 DROP COLUMN note;
    CREATE TABLE sb.tmp1 (id INT PRIMARY KEY, s TEXT); INSERT INTO sb.tmp1 VALUES (1, 'a'), (2, 'b');
    RENAME TABLE sb.tmp1 TO sb.tmp2; INSERT INTO sb.tmp2 VALUES (3, 'c');
    CREATE TABLE sb.gone (id INT); INSERT INTO sb.gone VALUES (1); DROP TABLE sb.gone;
    CREATE TABLE sb.trunc (id INT PRIMARY KEY); INSERT INTO sb.trunc VALUES (1), (2); TRUNCATE TABLE sb.trunc; INSERT INTO sb.trunc VALUES (3);
    CREATE DATABASE extra; CREATE TABLE extra.t (id INT PRIMARY KEY, v INT); INSERT INTO extra.t VALUES (1, 1);
    CREATE DATABASE dropped; CREATE TABLE dropped.t (id INT); DROP DATABASE dropped;
    ALTER TABLE types.all ADD COLUMN added INT DEFAULT 5 AFTER id, DROP COLUMN tt;
    UPDATE types.all SET added = 6 WHERE id = 1`);
  assert.ok((await oltp) > 300);
  const final = await caughtUp(up, async () => st.status());
  const sync = final.sync as Record<string, unknown>;
  assert.equal(sync.synced, true);
  assert.equal(sync.secondsBehindMaster, '0');
  assert.equal(sync.syncerBinlogGtid, sync.masterBinlogGtid);
  assert.ok(Number(sync.totalEvents) > 1000);
  const tables = await userTables(up);
  assert.deepEqual(await userTables(down), tables);
  await assertTablesEqual(up, down, tables);
  await st.stop();
  assert.equal(st.stage, 'Stopped');
}

// The counters are hot rows (two of fifty in every transaction): their transactions share rows with
// ones in flight, go to the applier holding them, and its commits record the mark they reach.
for (const [title, binlog] of [
  ['', {}],
  [" (upstream at MariaDB's defaults)", MARIADB_DEFAULTS],
] as [string, BinlogProfile][]) {
  test(`SIGKILL 10 times under load${title}: after restarts every table is equal, nothing applied twice or skipped`, () =>
    killTenTimes(binlog));
}

async function killTenTimes(binlog: BinlogProfile): Promise<void> {
  const up = await server({ binlog });
  const down = await server();
  await sysbenchTables(up, 'sb', 2, 5_000);
  // A table whose rows count their own applications: a change applied twice or skipped shows.
  await up.exec(`CREATE TABLE sb.counters (id INT PRIMARY KEY, n INT NOT NULL);
    INSERT INTO sb.counters SELECT seq, 0 FROM mysql.seq_1_to_50`);
  const f = await writeTemp({ 'source.yaml': sourceYaml('src', up), 'task.yaml': '' });
  await writeFile(
    f['task.yaml'],
    taskYaml({ name: 'kill10', mode: 'all', target: down, sources: ['src'], dir: join(f.dir, 'dump') }),
  );
  const statusFile = join(f.dir, 'status.json');
  const stopWriting = new AbortController();
  let bumps = 0;
  const counters = (async () => {
    const c = await up.connect('sb');
    try {
      for (let i = 0; !stopWriting.signal.aborted; i++) {
        await c.query(`BEGIN`);
        await c.query(`UPDATE counters SET n = n + 1 WHERE id = ?`, [1 + (i % 50)]);
        await c.query(`UPDATE counters SET n = n + 1 WHERE id = ?`, [1 + ((i * 7) % 50)]);
        await c.query(`COMMIT`);
        bumps += 2;
      }
    } finally {
      await c.end();
    }
  })();
  const oltp = oltpWriteOnly(up, 'sb', {
    tables: 2,
    rows: 5_000,
    txns: 0,
    concurrency: 2,
    signal: stopWriting.signal,
  });
  // Transactions of 30k rows each, which Sync applies as it reads them (more than 10k rows), updates
  // and inserts (LOAD DATA rows on the target): a kill in the middle of one must leave none of it
  // applied.
  await up.exec(`CREATE TABLE sb.big (id INT PRIMARY KEY, n INT NOT NULL);
    INSERT INTO sb.big SELECT seq, 0 FROM mysql.seq_1_to_30000;
    CREATE TABLE sb.added (id INT PRIMARY KEY, v CHAR(32))`);
  let bigTxns = 0;
  const big = (async () => {
    const c = await up.connect('sb');
    try {
      for (; !stopWriting.signal.aborted && bigTxns < 8; bigTxns++) {
        await c.query('UPDATE big SET n = n + 1');
        await c.query(
          `INSERT INTO added SELECT ${bigTxns * 30_000} + seq, MD5(seq) FROM mysql.seq_1_to_30000`,
        );
        await new Promise((r) => setTimeout(r, 1500));
      }
    } finally {
      await c.end();
    }
  })();
  let rnd = 42;
  for (let k = 0; k < 10; k++) {
    const run = runTask(f['task.yaml'], [f['source.yaml']], statusFile);
    rnd = (rnd * 1103515245 + 12345) & 0x7fffffff;
    await new Promise((r) => setTimeout(r, 400 + (rnd % 1600)));
    if (run.child.exitCode !== null) assert.fail(`run-task ended by itself: ${(await run.done).stderr}`);
    run.child.kill('SIGKILL');
    assert.equal((await run.done).signal, 'SIGKILL');
  }
  stopWriting.abort();
  await Promise.all([counters, oltp, big]);
  await rm(statusFile, { force: true }); // only the last run's status counts
  const run = runTask(f['task.yaml'], [f['source.yaml']], statusFile);
  try {
    await caughtUp(up, async () => (await readStatus(statusFile))?.workers[0].subTaskStatus[0], 180_000);
  } finally {
    run.child.kill('SIGTERM');
    await run.done;
  }
  const n = (await down.exec('SELECT SUM(n) s FROM sb.counters')) as { s: string }[];
  assert.equal(Number(n[0].s), bumps, 'every counter increment applied exactly once');
  const b = (await down.exec('SELECT SUM(n) s FROM sb.big')) as { s: string }[];
  assert.ok(bigTxns >= 3, `${bigTxns} large transactions`);
  assert.equal(Number(b[0].s), 30_000 * bigTxns, 'every large transaction applied exactly once');
  const a = (await down.exec('SELECT COUNT(*) n FROM sb.added')) as { n: string }[];
  assert.equal(Number(a[0].n), 30_000 * bigTxns, 'every large insert applied exactly once');
  await assertTablesEqual(up, down, await userTables(up));
}

test(`target down for ${DOWN_SECONDS} s: the subtask pauses with a retryable error, resumes by itself and catches up`, async () => {
  const up = await server();
  const down = await server();
  await sysbenchTables(up, 'sb', 2, 2_000);
  const st = await subtask(up, down, 'down30');
  st.start();
  await caughtUp(up, async () => st.status());
  const writing = new AbortController();
  const oltp = oltpWriteOnly(up, 'sb', {
    tables: 2,
    rows: 2_000,
    txns: 0,
    concurrency: 2,
    signal: writing.signal,
  });
  await new Promise((r) => setTimeout(r, 500));
  await down.stop();
  await st.until(['Paused'], 30_000);
  const e = st.result!.errors[0];
  assert.equal(e.retryable, true, JSON.stringify(e));
  await new Promise((r) => setTimeout(r, DOWN_SECONDS * 1000));
  await down.start();
  writing.abort();
  await oltp;
  await caughtUp(up, async () => st.status(), 120_000);
  assert.equal(st.stage, 'Running');
  await assertTablesEqual(up, down, await userTables(up));
  await st.stop();
});

test('a lock wait on the target (another client holds the row) is tried again, not a pause', async () => {
  const up = await server();
  const down = await server();
  await up.exec(
    'CREATE DATABASE lk; CREATE TABLE lk.t (id INT PRIMARY KEY, v INT); INSERT INTO lk.t VALUES (1, 0), (2, 0)',
  );
  await down.exec('SET GLOBAL innodb_lock_wait_timeout = 1');
  const st = await subtask(up, down, 'lockwait');
  st.start();
  await caughtUp(up, async () => st.status());
  const holder = await down.connect();
  await holder.query('BEGIN');
  await holder.query('SELECT * FROM lk.t WHERE id = 1 FOR UPDATE');
  await up.exec('UPDATE lk.t SET v = 1 WHERE id = 1; UPDATE lk.t SET v = 2 WHERE id = 2');
  // Held for 2.5 s: the applier's lock waits time out twice and it tries again each time.
  for (const until = Date.now() + 2500; Date.now() < until;) {
    assert.equal(st.status().stage, 'Running', JSON.stringify(st.status().result));
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(await down.exec('SELECT v FROM lk.t WHERE id = 1'), [{ v: 0 }]);
  await holder.query('ROLLBACK');
  await holder.end();
  await caughtUp(up, async () => st.status());
  assert.equal(st.status().stage, 'Running');
  assert.deepEqual(await down.exec('SELECT id, v FROM lk.t ORDER BY id'), [
    { id: 1, v: 1 },
    { id: 2, v: 2 },
  ]);
  await st.stop();
});

test('a change the target refuses pauses Sync with position and SQL; binlog skip and binlog replace continue', async () => {
  const up = await server();
  const down = await server();
  await up.exec(
    "CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO d.t VALUES (1, 'a')",
  );
  const st = await subtask(up, down, 'handle');
  st.start();
  await caughtUp(up, async () => st.status());
  assert.throws(() => st.handleError('skip'), /binlog skip applies to a Sync unit paused by an error/);

  // A duplicate key: the row already exists on the target.
  await down.exec("INSERT INTO d.t VALUES (100, 'target')");
  await up.exec("INSERT INTO d.t VALUES (100, 'up')");
  await st.until(['Paused'], 30_000);
  const e = st.result!.errors[0];
  assert.equal(e.Type, 'ExecSQL');
  assert.equal(e.retryable, false);
  assert.match(
    e.msg,
    /^Error 1062: Duplicate entry '100' for key 'PRIMARY'\nbinlog \(mysql-bin\.000001, \d+\) \(GTID 0-\d+-\d+\)\nSQL: INSERT INTO `d`\.`t` \(`id`,`v`\) VALUES \(100,'up'\)$/,
  );
  assert.match(e.Workaround, /binlog skip/);
  const at = /binlog (\(mysql-bin\.\d+, \d+\))/.exec(e.msg)![1];
  assert.equal(st.handleError('skip'), at);
  st.resume();
  await up.exec("INSERT INTO d.t VALUES (101, 'x')");
  await caughtUp(up, async () => st.status());
  assert.deepEqual(await down.exec('SELECT id, v FROM d.t ORDER BY id'), [
    { id: 1, v: 'a' },
    { id: 100, v: 'target' },
    { id: 101, v: 'x' },
  ]);

  // A DDL the target rejects, replaced by the operator's statement.
  await down.exec('ALTER TABLE d.t ADD COLUMN c INT');
  await up.exec('ALTER TABLE d.t ADD COLUMN c INT DEFAULT 1');
  await st.until(['Paused'], 30_000);
  assert.match(
    st.result!.errors[0].msg,
    /^Error 1060: Duplicate column name 'c'\nbinlog .*\nSQL: ALTER TABLE d\.t ADD COLUMN c INT DEFAULT 1$/,
  );
  st.handleError('replace', ['ALTER TABLE d.t MODIFY c INT DEFAULT 1']);
  st.resume();
  await up.exec("INSERT INTO d.t (id, v) VALUES (102, 'y')");
  await caughtUp(up, async () => st.status());
  assert.deepEqual(await down.exec('SELECT id, c FROM d.t WHERE id = 102'), [{ id: 102, c: 1 }]);
  await st.stop();
  // start-task after stop-task continues from the checkpoint; a stop while Sync is still starting ends it
  st.start();
  assert.equal(st.stage, 'Running');
  const stopped = Date.now();
  await st.stop();
  assert.equal(st.stage, 'Stopped');
  assert.ok(Date.now() - stopped < 10_000, 'stop returned promptly');
  st.start();
  await up.exec("INSERT INTO d.t (id, v) VALUES (103, 'z')");
  await caughtUp(up, async () => st.status());
  assert.equal(st.status().unit, 'Sync');
  await st.stop();
});

for (const by of ['binlog-name/binlog-pos', 'binlog-gtid'] as const) {
  test(`incremental mode from mysql-instances[].meta (${by}) applies what follows it`, async () => {
    const up = await server();
    const down = await server();
    const schema = 'CREATE DATABASE inc; CREATE TABLE inc.t (id INT PRIMARY KEY, v INT)';
    await up.exec(`${schema}; INSERT INTO inc.t VALUES (1, 1), (2, 2)`);
    await down.exec(`${schema}; INSERT INTO inc.t VALUES (1, 1), (2, 2)`);
    const at = await masterStatus(up);
    await up.exec(
      'INSERT INTO inc.t VALUES (3, 3); UPDATE inc.t SET v = 20 WHERE id = 2; DELETE FROM inc.t WHERE id = 1',
    );
    const meta =
      by === 'binlog-gtid'
        ? `binlog-gtid: "${at.gtid}"`
        : `binlog-name: ${at.file}\n      binlog-pos: ${at.pos}`;
    const f = await writeTemp({});
    const yaml = taskYaml({
      name: 'inc',
      mode: 'incremental',
      target: down,
      sources: ['src'],
      dir: f.dir,
    }).replace('  - source-id: "src"\n', `  - source-id: "src"\n    meta:\n      ${meta}\n`);
    const [cfg] = subTaskConfigs(parseTaskConfig(yaml), [parseSourceConfig(sourceYaml('src', up))]);
    const st = stopAtEnd(new SubTask(cfg, { log: quiet }));
    st.start();
    await caughtUp(up, async () => st.status());
    assert.equal(st.status().unit, 'Sync');
    await assertTablesEqual(up, down, ['inc.t']);
    await st.stop();
  });
}

test("task-mode load&sync: Load a dump made earlier by a 'dump' task, then Sync from the dump's position", async () => {
  const [up, down] = await Promise.all([server(), server()]);
  await sysbenchTables(up, 'ls', 2, 500);
  const dir = (await writeTemp({})).dir;
  const dump = await subtask(up, down, 'ls', { dir, mode: 'dump' });
  dump.start();
  for (let i = 0; i < 600 && dump.stage !== 'Finished'; i++) {
    assert.notEqual(dump.stage, 'Paused', JSON.stringify(dump.status().result));
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(dump.stage, 'Finished');
  assert.deepEqual(await userTables(down), [], 'the dump task wrote nothing to the target');
  // written after the dump: Sync brings it
  await oltpWriteOnly(up, 'ls', { tables: 2, rows: 500, txns: 50, concurrency: 2 });
  const st = await subtask(up, down, 'ls', { dir, mode: 'load&sync' });
  st.start();
  await caughtUp(up, async () => st.status());
  assert.equal(st.status().unit, 'Sync');
  await assertTablesEqual(up, down, ['ls.sbtest1', 'ls.sbtest2']);
});

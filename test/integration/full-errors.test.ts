// Full migration against misconfigured or unreachable servers: the subtask pauses with an error
// that names the problem and the fix; retryable errors are retried, others wait for the operator.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { server, type MariaDBSandbox } from '../harness/index.js';
import { sourceYaml, taskYaml, writeTemp } from '../harness/task.js';
import { assertTablesEqual } from '../harness/run.js';
import { freePort } from '../../src/sandbox/mariadb.js';
import { parseSourceConfig, parseTaskConfig, subTaskConfigs } from '../../src/task/config.js';
import { SubTask } from '../../src/worker/subtask.js';
import { takeSnapshot } from '../../src/units/dump/snapshot.js';

const quiet = pino({ level: 'silent' });
/** Every stage the subtasks went through, in order (a brief Running between retries shows here). */
const stages: string[] = [];

async function subtask(
  up: MariaDBSandbox,
  down: MariaDBSandbox,
  o: { upUser?: string; upPassword?: string; upPort?: number; downUser?: string; downPassword?: string } = {},
): Promise<SubTask> {
  const f = await writeTemp({});
  let src = sourceYaml('src', up, o.upUser, o.upPassword);
  if (o.upPort) src = src.replace(/port: \d+/, `port: ${o.upPort}`);
  const task = parseTaskConfig(
    taskYaml({
      name: 'errs',
      target: down,
      sources: ['src'],
      dir: f.dir,
      targetUser: o.downUser,
      targetPassword: o.downPassword,
    }),
  );
  const [cfg] = subTaskConfigs(task, [parseSourceConfig(src)]);
  const st = new SubTask(cfg, { log: quiet, autoResumeMs: 200, onStage: (t) => stages.push(t.stage) });
  // A failed assertion must not leave a subtask retrying forever (the test process would not end).
  after(async () => {
    if (st.stage === 'Running' || st.stage === 'Paused') await st.stop();
  });
  return st;
}

async function pausedError(st: SubTask) {
  st.start();
  assert.equal(await st.until(['Paused', 'Finished'], 60_000), 'Paused');
  const e = st.result!.errors[0];
  await st.stop();
  return e;
}

test('wrong upstream password: paused, not retried, names the config keys to fix', async () => {
  const up = await server();
  const down = await server();
  const e = await pausedError(await subtask(up, down, { upPassword: 'wrong' }));
  assert.equal(e.ErrCode, 10102);
  assert.equal(e.ErrScope, 'upstream');
  assert.match(e.msg, /access denied for user 'root'/);
  assert.match(e.Workaround, /'from\.user'/);
  assert.equal(e.retryable, false);
});

test('wrong target password: the error names target-database', async () => {
  const up = await server();
  const down = await server();
  await up.exec('CREATE DATABASE a; CREATE TABLE a.t (id INT PRIMARY KEY)');
  const e = await pausedError(await subtask(up, down, { downPassword: 'nope' }));
  assert.equal(e.ErrCode, 10108);
  assert.equal(e.ErrScope, 'downstream');
  assert.match(e.Workaround, /target-database/);
});

test('unreachable upstream: retryable; the subtask keeps retrying on its own until stopped', async () => {
  const up = await server();
  const down = await server();
  const st = await subtask(up, down, { upPort: await freePort() });
  stages.length = 0;
  st.start();
  await st.until(['Paused'], 30_000);
  assert.equal(st.result!.errors[0].ErrCode, 10103);
  assert.equal(st.result!.errors[0].retryable, true);
  assert.match(st.result!.errors[0].msg, /cannot connect to 127\.0\.0\.1:\d+/);
  // auto-resume: it runs again by itself (and fails again) without anyone resuming it
  const deadline = Date.now() + 10_000;
  while (stages.filter((x) => x === 'Running').length < 3 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(stages.filter((x) => x === 'Running').length >= 3, `stages: ${stages.join(' → ')}`);
  await st.stop();
  assert.equal(st.stage, 'Stopped');
});

test('upstream user without REPLICATION CLIENT: a clear error naming the grant', async () => {
  const up = await server();
  const down = await server();
  await up.exec(`CREATE USER 'nobinlog'@'127.0.0.1' IDENTIFIED BY 'pw';
    GRANT SELECT, RELOAD ON *.* TO 'nobinlog'@'127.0.0.1'`);
  const e = await pausedError(await subtask(up, down, { upUser: 'nobinlog', upPassword: 'pw' }));
  assert.equal(e.ErrCode, 10105);
  assert.match(e.msg, /may not read the binlog position/);
  assert.match(e.Workaround, /GRANT REPLICATION CLIENT/);
});

test('upstream user without RELOAD: one consistent snapshot connection, data still equal', async () => {
  const up = await server();
  const down = await server();
  await up.exec(`CREATE DATABASE r; CREATE TABLE r.t (id INT PRIMARY KEY, v INT);
    INSERT INTO r.t SELECT seq, seq * 2 FROM mysql.seq_1_to_50000;
    CREATE USER 'noreload'@'127.0.0.1' IDENTIFIED BY 'pw';
    GRANT SELECT ON *.* TO 'noreload'@'127.0.0.1'`);
  const st = await subtask(up, down, { upUser: 'noreload', upPassword: 'pw' });
  st.start();
  assert.equal(await st.until(['Paused', 'Finished'], 60_000), 'Finished', JSON.stringify(st.result));
  await assertTablesEqual(up, down, ['r.t']);
  assert.match(String(st.status().load?.metaBinlog), /^\(mysql-bin\.000001, \d+\)$/);
});

test('target user without CREATE: a clear error naming the grant', async () => {
  const up = await server();
  const down = await server();
  await up.exec('CREATE DATABASE p; CREATE TABLE p.t (id INT PRIMARY KEY); INSERT INTO p.t VALUES (1)');
  await down.exec(`CREATE USER 'weak'@'127.0.0.1' IDENTIFIED BY 'pw';
    GRANT ALL ON dm_meta.* TO 'weak'@'127.0.0.1'`);
  const e = await pausedError(await subtask(up, down, { downUser: 'weak', downPassword: 'pw' }));
  assert.equal(e.ErrCode, 10106);
  assert.equal(e.ErrScope, 'downstream');
  assert.match(e.msg, /'weak' may not create p/);
  assert.match(e.Workaround, /GRANT CREATE/);
});

test("the dump's FLUSH TABLES WITH READ LOCK never makes the upstream's transactions fail", async () => {
  const up = await server();
  await up.exec(
    'CREATE DATABASE l; CREATE TABLE l.t (id INT PRIMARY KEY, v INT); INSERT INTO l.t VALUES (1, 0), (2, 0)',
  );
  // A holds row 1; B's UPDATE waits for it (a running statement the pending lock waits for);
  // A's next statement waits for the pending lock: a cycle that, unbounded, lasts until B fails
  // with its innodb_lock_wait_timeout.
  const a = await up.connect();
  const b = await up.connect();
  await b.query('SET SESSION innodb_lock_wait_timeout = 8');
  await a.query('BEGIN');
  await a.query('UPDATE l.t SET v = 1 WHERE id = 1');
  const bDone = b.query('UPDATE l.t SET v = 2 WHERE id = 1');
  await new Promise((r) => setTimeout(r, 300));
  const snap = takeSnapshot(up.connectionOptions(), 2, true, quiet, async () => undefined);
  await new Promise((r) => setTimeout(r, 300));
  await a.query('UPDATE l.t SET v = 1 WHERE id = 2');
  await a.query('COMMIT');
  await bDone; // no lock wait timeout
  const s = await snap;
  assert.equal(s.locked, true);
  assert.equal(s.conns.length, 2);
  for (const c of s.conns) c.close();
  const [row] = (await up.exec('SELECT v FROM l.t WHERE id = 1')) as { v: number }[];
  assert.equal(row.v, 2);
  await a.end();
  await b.end();
});

// mydumpers.extra-args, dumpling's flags that make sense here, end to end (task-mode full):
// --where and -T/--tables-list copy exactly the rows and tables asked for, -d/--no-data only the
// structures, and a --tables-list naming a table that is not there stops the dump naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { server, type MariaDBSandbox } from '../harness/index.js';
import { sourceYaml, taskYaml, writeTemp } from '../harness/task.js';
import { runTaskToEnd } from '../harness/run.js';

const counts = async (s: MariaDBSandbox) =>
  (
    (await s.exec(
      "SELECT TABLE_NAME t, TABLE_ROWS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'app' ORDER BY 1",
    )) as { t: string }[]
  ).map((r) => r.t);

async function run(up: MariaDBSandbox, down: MariaDBSandbox, name: string, extraArgs: string) {
  const f = await writeTemp({ 'source.yaml': sourceYaml('mysql-01', up) });
  const files = await writeTemp({
    'task.yaml': taskYaml({
      name,
      target: down,
      sources: ['mysql-01'],
      dir: join(f.dir, 'dump'),
      mydumper: `extra-args: ${JSON.stringify(extraArgs)}`,
      instance: 'block-allow-list: bal',
      extra: 'block-allow-list:\n  bal: {do-dbs: [app]}\n',
    }),
  });
  return runTaskToEnd(files['task.yaml'], [f['source.yaml']]);
}

test('extra-args --where, -T and -d copy exactly what they ask for; a missing listed table is an error', async () => {
  const [up, d1, d2, d3] = await Promise.all([server(), server(), server(), server()]);
  await up.exec(`CREATE DATABASE app;
    CREATE TABLE app.a (id INT PRIMARY KEY, name VARCHAR(20));
    CREATE TABLE app.b (id INT PRIMARY KEY, name VARCHAR(20));
    CREATE TABLE app.c (id INT PRIMARY KEY);
    INSERT INTO app.a SELECT seq, CONCAT('a b ', seq) FROM mysql.seq_1_to_100;
    INSERT INTO app.b SELECT seq, 'x' FROM mysql.seq_1_to_100;
    INSERT INTO app.c SELECT seq FROM mysql.seq_1_to_100;`);

  const r1 = await run(up, d1, 'args1', `--where "id <= 50 OR name = 'a b 99'" -T app.a,app.b`);
  assert.equal(r1.code, 0, r1.stderr);
  assert.equal(r1.status.workers[0].subTaskStatus[0].stage, 'Finished');
  assert.deepEqual(await counts(d1), ['a', 'b'], 'app.c is not in the list');
  assert.deepEqual(await d1.exec('SELECT COUNT(*) n, MAX(id) m FROM app.a'), [{ n: '51', m: 99 }]);
  assert.deepEqual(await d1.exec('SELECT COUNT(*) n, MAX(id) m FROM app.b'), [{ n: '50', m: 50 }]);

  const r2 = await run(up, d2, 'args2', '--no-data');
  assert.equal(r2.code, 0, r2.stderr);
  assert.deepEqual(await counts(d2), ['a', 'b', 'c']);
  assert.deepEqual(
    await d2.exec(
      'SELECT (SELECT COUNT(*) FROM app.a) + (SELECT COUNT(*) FROM app.b) + (SELECT COUNT(*) FROM app.c) n',
    ),
    [{ n: '0' }],
  );

  const r3 = await run(up, d3, 'args3', '-T app.a,app.nope');
  const st = r3.status.workers[0].subTaskStatus[0];
  assert.equal(st.stage, 'Paused');
  assert.match(JSON.stringify(st.result), /--tables-list names `app`.`nope`, which does not exist upstream/);
});

test('loaders sql-log-bin: false loads without writing the target binlog; without the privilege it is refused naming it', async () => {
  const [up, quiet, loud] = await Promise.all([server(), server(), server()]);
  await up.exec(`CREATE DATABASE app; CREATE TABLE app.a (id INT PRIMARY KEY, v INT);
    INSERT INTO app.a SELECT seq, seq FROM mysql.seq_1_to_500;`);
  const mentionsApp = async (s: MariaDBSandbox) => {
    const events = (await s.exec("SHOW BINLOG EVENTS IN 'mysql-bin.000001'")) as { Info: string }[];
    return events.some((e) => /app/.test(e.Info));
  };
  const go = async (down: MariaDBSandbox, name: string, loader: string, user?: string) => {
    const f = await writeTemp({ 'source.yaml': sourceYaml('mysql-01', up) });
    const files = await writeTemp({
      'task.yaml': taskYaml({
        name,
        target: down,
        sources: ['mysql-01'],
        dir: join(f.dir, 'dump'),
        loader,
        instance: 'block-allow-list: bal',
        extra: `block-allow-list:\n  bal: {do-dbs: [app]}\n${user ? 'ignore-checking-items: [all]\n' : ''}`,
        ...(user ? { targetUser: user, targetPassword: 'pw' } : {}),
      }),
    });
    return runTaskToEnd(files['task.yaml'], [f['source.yaml']]);
  };
  const q = await go(quiet, 'quiet', 'sql-log-bin: false');
  assert.equal(q.status.workers[0].subTaskStatus[0].stage, 'Finished', q.stderr);
  const l = await go(loud, 'loud', '');
  assert.equal(l.status.workers[0].subTaskStatus[0].stage, 'Finished', l.stderr);
  assert.deepEqual(await quiet.exec('SELECT COUNT(*) n, SUM(v) s FROM app.a'), [{ n: '500', s: '125250' }]);
  assert.equal(await mentionsApp(quiet), false, 'nothing of the load in the binlog');
  assert.equal(await mentionsApp(loud), true, 'the default writes it');
  // a target user who may not set sql_log_bin
  const [down2] = await Promise.all([server()]);
  await down2.exec(
    "CREATE USER 'lim'@'%' IDENTIFIED BY 'pw'; GRANT ALL PRIVILEGES ON `app`.* TO 'lim'@'%'; GRANT ALL PRIVILEGES ON `dm_meta`.* TO 'lim'@'%';",
  );
  const r = await go(down2, 'lim', 'sql-log-bin: false', 'lim');
  const st = r.status.workers[0].subTaskStatus[0];
  assert.equal(st.stage, 'Paused');
  assert.match(
    JSON.stringify(st.result),
    /loaders\.sql-log-bin: false needs the target user 'lim' to set sql_log_bin/,
  );
  assert.match(JSON.stringify(st.result), /GRANT BINLOG ADMIN ON \*\.\* TO 'lim'@'%'/);
});

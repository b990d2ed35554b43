// Issue cases found on users' servers: each fails without its fix. Servers at MariaDB's defaults
// where the case is about them.
import { test } from 'node:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { masterStatus, server } from '../harness/index.js';
import { MARIADB_DEFAULTS } from '../../src/sandbox/mariadb.js';
import { sourceYaml, taskYaml, writeTemp } from '../harness/task.js';
import { assertTablesEqual, runTask, runTaskToEnd } from '../harness/run.js';
import { daemon, dmctl, startMaster } from '../harness/cluster.js';
import { caughtUp, subtask } from '../harness/subtask.js';

test('unsigned extremes and an UPDATE keyed on the largest BIGINT UNSIGNED replicate exactly without row metadata', async () => {
  const [up, down] = await Promise.all([server({ binlog: MARIADB_DEFAULTS }), server()]);
  await up.exec(`CREATE DATABASE u; CREATE TABLE u.t (id BIGINT UNSIGNED PRIMARY KEY, a BIGINT UNSIGNED,
    b INT UNSIGNED, c TINYINT UNSIGNED, d MEDIUMINT UNSIGNED, e SMALLINT UNSIGNED, s INT)`);
  const st = await subtask(up, down, 'unsigned');
  st.start();
  await caughtUp(up, async () => st.status());
  await up.exec(`INSERT INTO u.t VALUES (1, 18446744073709551614, 4294967295, 255, 16777215, 65535, -1),
      (18446744073709551615, 9223372036854775808, 2147483648, 128, 8388608, 32768, -2147483648);
    UPDATE u.t SET a = 1, s = 5 WHERE id = 18446744073709551615;
    UPDATE u.t SET id = 18446744073709551613 WHERE id = 1`);
  const done = await caughtUp(up, async () => st.status());
  assert.equal(done.stage, 'Running');
  await assertTablesEqual(up, down, ['`u`.`t`']);
  const rows = (await down.exec('SELECT CAST(id AS CHAR) id, CAST(a AS CHAR) a FROM u.t ORDER BY id')) as {
    id: string;
    a: string;
  }[];
  assert.deepEqual(rows, [
    { id: '18446744073709551613', a: '18446744073709551614' },
    { id: '18446744073709551615', a: '1' },
  ]);
  await st.stop();
});

test('a dump directory left by an earlier task of the same name (other servers) is dumped again, not trusted', async () => {
  const [up1, down1, up2, down2] = await Promise.all([server(), server(), server(), server()]);
  await up1.exec(`CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v INT);
    INSERT INTO app.t SELECT seq, seq FROM mysql.seq_1_to_100`);
  await up2.exec(`CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v INT);
    INSERT INTO app.t SELECT seq, -seq FROM mysql.seq_1_to_200`);
  const { dir } = await writeTemp({});
  const first = await subtask(up1, down1, 'reused', { dir });
  first.start();
  await caughtUp(up1, async () => first.status());
  await first.stop();
  // the same task name and working directory, other servers
  const second = await subtask(up2, down2, 'reused', { dir });
  second.start();
  await caughtUp(up2, async () => second.status());
  await up2.exec('INSERT INTO app.t VALUES (201, 0)');
  await caughtUp(up2, async () => second.status());
  await assertTablesEqual(up2, down2, ['`app`.`t`']);
  await second.stop();
});

test('a second dm-master on the same --data-dir is refused; a SIGKILLed one leaves no lock behind', async () => {
  const { dir } = await writeTemp({});
  const first = await startMaster(dir);
  await assert.rejects(startMaster(dir), /exited \(1\)[\s\S]*is in use by another dm-master \(PID \d+\)/);
  await first.kill('SIGKILL');
  const again = await startMaster(dir);
  assert.equal((await dmctl(again.addr, 'list-member')).code, 0);
  await again.kill();
});

test('a task name too long for its checkpoint tables is refused with the key, its line and the limit', async () => {
  const [up, down] = await Promise.all([server(), server()]);
  const f = await writeTemp({
    'source.yaml': sourceYaml('src', up),
    'task.yaml': taskYaml({ name: 'n'.repeat(47), mode: 'all', target: down, sources: ['src'], dir: '.' }),
  });
  const r = await runTask(f['task.yaml'], [f['source.yaml']]).done;
  assert.equal(r.code, 2, 'a bad task file');
  assert.match(r.stderr, /'name' \(line 1\) is 'n{47}' \(47 characters\)[\s\S]*Use 1-46/);
});

test('a full task creates the empty databases its block-allow list selects', async () => {
  const [up, down] = await Promise.all([server(), server()]);
  await up.exec(`CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY); INSERT INTO app.t VALUES (1);
    CREATE DATABASE empty_db CHARACTER SET latin1; CREATE DATABASE other`);
  const f = await writeTemp({ 'source.yaml': sourceYaml('src', up) });
  const yaml = taskYaml({
    name: 'emptydb',
    target: down,
    sources: ['src'],
    dir: f.dir,
    extra: 'block-allow-list:\n  bal:\n    do-dbs: ["app", "empty_db"]\n',
  }).replace('    loader-config-name: global', '    loader-config-name: global\n    block-allow-list: bal');
  const task = join(f.dir, 'task.yaml');
  await writeFile(task, yaml);
  const r = await runTaskToEnd(task, [f['source.yaml']]);
  assert.equal(r.code, 0, r.stderr);
  const dbs = (await down.exec(
    "SELECT SCHEMA_NAME s, DEFAULT_CHARACTER_SET_NAME c FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN ('app', 'empty_db', 'other') ORDER BY 1",
  )) as { s: string; c: string }[];
  assert.deepEqual(
    dbs.map((d) => `${d.s} ${d.c}`),
    ['app utf8mb4', 'empty_db latin1'],
  );
});

test('a paused task shows the upstream moving on and is not synced', async () => {
  const [up, down] = await Promise.all([server(), server()]);
  await up.exec('CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY)');
  const st = await subtask(up, down, 'paused');
  st.start();
  const before = await caughtUp(up, async () => st.status());
  assert.equal((before.sync as { synced: boolean }).synced, true);
  st.pause();
  await up.exec('INSERT INTO app.t VALUES (1), (2)');
  const want = await masterStatus(up);
  let sync: { masterBinlog?: string; synced?: boolean } = {};
  for (let i = 0; i < 50 && sync.masterBinlog !== `(${want.file}, ${want.pos})`; i++) {
    await new Promise((r) => setTimeout(r, 100));
    sync = st.status().sync as typeof sync;
  }
  assert.equal(st.stage, 'Paused');
  assert.equal(sync.masterBinlog, `(${want.file}, ${want.pos})`, 'masterBinlog follows the upstream');
  assert.equal(sync.synced, false);
  st.resume();
  const after = await caughtUp(up, async () => st.status());
  assert.equal((after.sync as { synced: boolean }).synced, true);
  await st.stop();
});

test('the HTTP API refuses bodies of the wrong shape with 400 naming the field, and changes nothing', async () => {
  const { dir } = await writeTemp({});
  const master = await startMaster(dir);
  const post = async (path: string, body: string) => {
    const res = await fetch(`http://${master.addr}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    return { status: res.status, json: (await res.json()) as { result: boolean; msg: string } };
  };
  const cases: [string, string, RegExp][] = [
    [
      '/apis/v1alpha1/workers/heartbeat',
      '{"name":{"x":1},"addr":5}',
      /body field 'name' must be a string, not an object/,
    ],
    [
      '/apis/v1alpha1/workers/heartbeat',
      '{"name":"w","addr":"nope","applied":{}}',
      /addr 'nope' is not host:port/,
    ],
    [
      '/apis/v1alpha1/sources/stop',
      '{"ids":"src"}',
      /body field 'ids' must be an array of strings, not a string/,
    ],
    ['/apis/v1alpha1/sources', '[1,2,3]', /the body must be a JSON object, not an array/],
    [
      '/apis/v1alpha1/sources',
      '{"file":"x"}',
      /unknown body field 'file' \(this route takes 'files', 'worker'\)/,
    ],
    [
      '/apis/v1alpha1/tasks',
      '{"files":[{"file":"t.yaml","yaml":"x"}],"remove-meta":true}',
      /unknown body field 'remove-meta'/,
    ],
    ['/apis/v1alpha1/tasks/t/pause', '{"sources":"s1"}', /'sources' must be an array of strings/],
    ['/apis/v1alpha1/shard-ddl-locks/unlock', '{}', /body field 'id' is required/],
    ['/apis/v1alpha1/sources', '{not json', /JSON/],
  ];
  for (const [path, body, msg] of cases) {
    const r = await post(path, body);
    assert.equal(r.status, 400, `${path} ${body}`);
    assert.equal(r.json.result, false);
    assert.match(r.json.msg, msg, `${path} ${body}`);
  }
  const members = await dmctl(master.addr, 'list-member');
  assert.doesNotMatch(members.stdout, /object Object/);
  const listed = (members.json as { members: { worker?: { workers: unknown[] } }[] }).members;
  assert.deepEqual(listed.find((e) => e.worker)?.worker?.workers, []);
  await master.kill();
});

test('statement-format DML pauses only the tasks that replicate its table, naming it; binlog skip -b moves past it', async () => {
  const [up, downA, downB] = await Promise.all([server(), server(), server()]);
  await up.exec(
    'CREATE DATABASE app; CREATE TABLE app.a (id INT PRIMARY KEY); CREATE TABLE app.b (id INT PRIMARY KEY)',
  );
  const onlyA = await subtask(up, downA, 'only_a', {
    extra: 'block-allow-list:\n  bal:\n    do-tables:\n      - db-name: app\n        tbl-name: a\n',
    instance: 'block-allow-list: bal',
  });
  const all = await subtask(up, downB, 'whole_app');
  onlyA.start();
  all.start();
  await caughtUp(up, async () => onlyA.status());
  await caughtUp(up, async () => all.status());
  await up.exec("SET SESSION binlog_format = 'STATEMENT'; INSERT INTO app.b VALUES (1)");
  await up.exec('INSERT INTO app.a VALUES (1)');
  // the task that leaves app.b out goes on
  await caughtUp(up, async () => onlyA.status());
  await assertTablesEqual(up, downA, ['`app`.`a`']);
  // the other pauses with the table, the position and the fix
  let err: { msg: string; ErrCode: number } | undefined;
  for (let i = 0; i < 100 && !err; i++) {
    await new Promise((r) => setTimeout(r, 100));
    err = all.status().result?.errors[0] as typeof err;
  }
  assert.equal(all.stage, 'Paused');
  assert.equal(err?.ErrCode, 36014);
  assert.match(err!.msg, /statement-based DML on `app`\.`b` in the binlog at (\(mysql-bin\.\d+, \d+\))/);
  const at = /at (\(mysql-bin\.\d+, \d+\))/.exec(err!.msg)![1];
  // the operator applies it by hand and skips it at its position
  await downB.exec('INSERT INTO app.b VALUES (1)');
  all.handleError('skip', [], at);
  all.resume();
  await caughtUp(up, async () => all.status());
  await assertTablesEqual(up, downB, ['`app`.`a`', '`app`.`b`']);
  await onlyA.stop();
  await all.stop();
});

test('a row over the target max_allowed_packet pauses Sync with the sizes and the fix, not retried for ever', async () => {
  const [up, down] = await Promise.all([server(), server({ extraArgs: ['--max-allowed-packet=4M'] })]);
  await up.exec('CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, b LONGBLOB)');
  const st = await subtask(up, down, 'bigrow');
  st.start();
  await caughtUp(up, async () => st.status());
  await up.exec("INSERT INTO app.t VALUES (1, REPEAT('x', 6 << 20))");
  let err: { msg: string; retryable?: boolean } | undefined;
  for (let i = 0; i < 200 && !err; i++) {
    await new Promise((r) => setTimeout(r, 100));
    err = st.status().result?.errors[0] as typeof err;
  }
  assert.equal(st.stage, 'Paused');
  assert.equal(err?.retryable, false);
  assert.match(
    err!.msg,
    /Error 1153: a statement of \d+ bytes is over the server's max_allowed_packet \(4194304 bytes\): SET GLOBAL max_allowed_packet = 16777216/,
  );
  assert.match(err!.msg, /binlog \(mysql-bin\.\d+, \d+\)/);
  await down.exec('SET GLOBAL max_allowed_packet = 16777216');
  st.resume();
  await caughtUp(up, async () => st.status());
  await assertTablesEqual(up, down, ['`app`.`t`']);
  await st.stop();
});

test('dmctl: a worker address, an unknown source, a source file for start-task: each says what is wrong', async () => {
  const up = await server();
  const f = await writeTemp({ 'source.yaml': sourceYaml('s1', up) });
  const master = await startMaster(f.dir);
  const worker = await daemon(
    'dm-worker',
    ['--name', 'w1', '--worker-addr', '127.0.0.1:0', '--join', master.addr],
    f.dir,
  );
  const atWorker = await dmctl(worker.addr, 'query-status');
  assert.equal(atWorker.code, 1);
  assert.match(atWorker.stderr, new RegExp(`${worker.addr} is a dm-worker, not a dm-master`));
  const asTask = await dmctl(master.addr, 'start-task', f['source.yaml']);
  assert.equal(asTask.code, 1);
  assert.match(asTask.stderr, /source\.yaml: this is a source file \(it has source-id\), not a task file/);
  const unknown = await dmctl(master.addr, 'query-status', '-s', 'nosuchsource');
  assert.equal(unknown.code, 1);
  assert.equal(unknown.json.result, false);
  assert.match(String(unknown.json.msg), /source 'nosuchsource' runs no task/);
  await worker.kill();
  await master.kill();
});

test('run-task refuses a bad pattern, a bad binlog-gtid and two route rules claiming one table before it connects', async () => {
  const [up, down] = await Promise.all([server(), server()]);
  const f = await writeTemp({ 'source.yaml': sourceYaml('src', up) });
  const base = { name: 'bad', mode: 'all', target: down, sources: ['src'], dir: f.dir };
  const cases: [string, string, RegExp][] = [
    [
      'regex.yaml',
      taskYaml({
        ...base,
        extra: 'block-allow-list:\n  bal:\n    do-dbs: ["~(app"]\n',
        instance: 'block-allow-list: bal',
      }),
      /'block-allow-list\.bal\.do-dbs' \(line \d+\) is '~\(app', which is not a valid pattern/,
    ],
    [
      'gtid.yaml',
      taskYaml({ ...base, mode: 'incremental', instance: 'meta:\n  binlog-gtid: "not-a-gtid"' }),
      /meta\.binlog-gtid' \(line \d+\) is 'not-a-gtid', which is not a GTID set/,
    ],
    [
      'routes.yaml',
      taskYaml({
        ...base,
        extra:
          'routes:\n  r1:\n    schema-pattern: "app"\n    target-schema: "x"\n  r2:\n    schema-pattern: "app"\n    target-schema: "y"\n',
        instance: 'route-rules: ["r1", "r2"]',
      }),
      /route-rules' \(line \d+\) names routes 'r1' and 'r2', which both match schema-pattern 'app'/,
    ],
  ];
  for (const [name, yaml, msg] of cases) {
    const file = join(f.dir, name);
    await writeFile(file, yaml);
    const r = await runTask(file, [f['source.yaml']]).done;
    assert.equal(r.code, 2, `${name}: ${r.stderr}`);
    assert.match(r.stderr, msg, name);
  }
});

// Operating a running cluster as a DM operator does: start-relay / stop-relay switch a source's
// relay while its task runs; transfer-source moves the source to another worker under write load;
// config export, then config import into a new master, recreates the source and the task, which
// continues from its checkpoint. Data stays equal throughout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { masterStatus, server } from '../harness/index.js';
import { sourceYaml, taskYaml, writeTemp } from '../harness/task.js';
import { reached } from '../harness/relay.js';
import { daemon, dmctl, startMaster, type Proc } from '../harness/cluster.js';
import { assertTablesEqual } from '../harness/run.js';
import { oltpWriteOnly, sysbenchTables } from '../../src/sandbox/workload.js';
import { call } from '../../src/api/http.js';
import { etcdClient } from '../../src/cli/serve-master.js';
import type { QueryStatus, WorkerStatus } from '../../src/task/status.js';

test('start-relay/stop-relay and transfer-source while a task runs; config export/import into a new master', async () => {
  const [up, down] = await Promise.all([server(), server()]);
  await sysbenchTables(up, 'sb', 2, 2000);
  const f = await writeTemp({});
  const files = await writeTemp({
    'source.yaml': sourceYaml('s1', up),
    'task.yaml': taskYaml({ name: 'op', mode: 'all', target: down, sources: ['s1'], dir: f.dir }),
  });
  let master = await startMaster(f.dir);
  const worker = (name: string, m: Proc) =>
    daemon(
      'dm-worker',
      ['--name', name, '--worker-addr', '127.0.0.1:0', '--join', m.addr, '--keepalive-ttl', '2'],
      join(f.dir),
    );
  const workers = { w1: await worker('w1', master), w2: await worker('w2', master) };
  const ctl = async (...args: string[]) => {
    const r = await dmctl(master.addr, ...args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return r;
  };
  await ctl('operate-source', 'create', files['source.yaml']);
  await ctl('start-task', files['task.yaml']);

  const status = async (): Promise<WorkerStatus | undefined> =>
    (await call<QueryStatus>(master.addr, 'GET', '/apis/v1alpha1/status/op').catch(() => undefined))
      ?.workers[0];
  const until = async (what: string, ok: (w: WorkerStatus) => boolean): Promise<WorkerStatus> => {
    for (const deadline = Date.now() + 120_000; Date.now() < deadline;) {
      const w = await status();
      const st = w?.subTaskStatus[0];
      if (st?.stage === 'Paused' && st.result?.errors.some((e) => !e.retryable))
        assert.fail(JSON.stringify(st.result));
      if (w && ok(w)) return w;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.fail(`${what}: ${JSON.stringify(await status())}`);
  };
  const sync = (w: WorkerStatus) =>
    w.subTaskStatus[0]?.sync as { syncerBinlog?: string; binlogType?: string } | undefined;
  const writeAndCompare = async () => {
    await oltpWriteOnly(up, 'sb', { tables: 2, rows: 2000, txns: 100, concurrency: 2 });
    const m = await masterStatus(up);
    await until('caught up', (w) => reached(sync(w)?.syncerBinlog, `(${m.file}, ${m.pos})`));
    await assertTablesEqual(up, down, ['sb.sbtest1', 'sb.sbtest2']);
  };
  await writeAndCompare();

  // start-relay: the source's worker restarts the subtask on the relay
  const bound = (await status())!.worker;
  const [own, other] = bound === workers.w1.addr ? ['w1', 'w2'] : ['w2', 'w1'];
  const started = await ctl('start-relay', '-s', 's1');
  assert.equal(started.json.op, 'StartRelay');
  await until(
    'Sync on the relay',
    (w) => w.relayStatus?.stage === 'Running' && sync(w)?.binlogType === 'local',
  );
  await writeAndCompare();
  const cfg = await ctl('get-config', 'source', 's1');
  assert.match(String(cfg.json.cfg), /^enable-relay: true$/m);
  const wrong = await dmctl(master.addr, 'start-relay', '-s', 's1', other);
  assert.equal(wrong.code, 1);
  assert.match(
    String(wrong.json.msg),
    new RegExp(`worker ${other} is not the worker of source 's1' \\(${own}\\)`),
  );
  const two = await dmctl(master.addr, 'start-relay', '-s', 's1,s2');
  assert.equal(two.code, 1);
  assert.match(two.stderr, /must specify one source/);
  await ctl('stop-relay', '-s', 's1', own); // DM's older form with the source's own worker
  await until('Sync on the upstream', (w) => w.relayStatus === null && sync(w)?.binlogType === 'remote');
  await writeAndCompare();

  // transfer-source under write load: the other worker takes the subtask from its checkpoint
  const ac = new AbortController();
  const load = oltpWriteOnly(up, 'sb', { tables: 2, rows: 2000, txns: 0, concurrency: 2, signal: ac.signal });
  await new Promise((r) => setTimeout(r, 500));
  const moved = await dmctl(master.addr, 'transfer-source', 's1', other);
  ac.abort();
  await load;
  assert.equal(moved.code, 0, moved.stdout + moved.stderr);
  const otherAddr = workers[other as 'w1' | 'w2'].addr;
  await until(
    'running on the other worker',
    (w) => w.worker === otherAddr && w.subTaskStatus[0]?.stage === 'Running',
  );
  await writeAndCompare();
  const nope = await dmctl(master.addr, 'transfer-source', 's1', 'nope');
  assert.equal(nope.code, 1);
  assert.match(String(nope.json.msg), /dm-worker 'nope' does not exist/);

  // operate-source update: refused while the task runs; taken while it is paused
  const busy = await dmctl(master.addr, 'operate-source', 'update', files['source.yaml']);
  assert.equal(busy.code, 1);
  assert.match(String(busy.json.msg), /cannot be updated while task op runs on it/);
  await ctl('pause-task', 'op');
  await until('paused', (w) => w.subTaskStatus[0]?.stage === 'Paused');
  await ctl('operate-source', 'update', files['source.yaml']);
  await ctl('resume-task', 'op');
  await writeAndCompare();
  // offline-member: only an offline worker goes
  const stillUp = await dmctl(master.addr, 'offline-member', '--worker', '-n', own);
  assert.equal(stillUp.code, 1);
  assert.match(String(stillUp.json.msg), /is online; stop it first/);
  await workers[own as 'w1' | 'w2'].kill('SIGKILL');
  const workerNames = async () =>
    (
      (await ctl('list-member', '--worker')).json.members as Array<{
        worker: { workers: Array<{ name: string; stage: string }> };
      }>
    )[0].worker.workers;
  for (let i = 0; i < 100 && (await workerNames()).find((w) => w.name === own)?.stage !== 'offline'; i++)
    await new Promise((r) => setTimeout(r, 200));
  await ctl('offline-member', '--worker', '-n', own);
  assert.deepEqual(
    (await workerNames()).map((w) => w.name),
    [other],
  );
  const sample = await ctl('operate-source', '-p');
  assert.match(sample.stdout, /^source-id: /m);
  const shown = await ctl('operate-source', 'show', '-s', 's1');
  assert.deepEqual(
    (shown.json.sources as Array<{ source: string; worker: string }>).map((x) => [x.source, x.worker]),
    [['s1', other]],
  );

  // config export; a new master (new data dir) imports it and the task continues
  const out = join(f.dir, 'exported');
  await ctl('config', 'export', '-p', out);
  assert.deepEqual(await readdir(join(out, 'sources')), ['s1.yaml']);
  assert.deepEqual(await readdir(join(out, 'tasks')), ['op.yaml']);
  await Promise.all([workers.w1.kill(), workers.w2.kill()]);
  await master.kill();
  master = await startMaster(join(f.dir, 'second'));
  const w3 = await worker('w3', master);
  const imported = await ctl('config', 'import', '-p', out);
  assert.match(imported.stdout, /import configs from directory .* succeed/);
  const again = await ctl('config', 'import', '-p', out); // what exists is kept
  assert.match(again.stdout, /exists already: .*s1\.yaml/);
  await until(
    'the imported task in Sync',
    (w) => w.subTaskStatus[0]?.unit === 'Sync' && w.subTaskStatus[0]?.stage === 'Running',
  );
  await writeAndCompare();
  await w3.kill();
  await master.kill();
});

test('start-task --start-time: an incremental task starts at the first transaction at or after the time', async () => {
  const [up, down] = await Promise.all([server(), server()]);
  const ddl = 'CREATE DATABASE st; CREATE TABLE st.t (id INT PRIMARY KEY, v VARCHAR(20))';
  await up.exec(ddl);
  await down.exec(ddl);
  await up.exec("INSERT INTO st.t SELECT seq, 'before' FROM mysql.seq_1_to_10");
  const now = async () => String(((await up.exec('SELECT NOW() n')) as { n: string }[])[0].n);
  const before = await now();
  while ((await now()) === before) await new Promise((r) => setTimeout(r, 100));
  const at = await now(); // every row after this is written at or after it
  await up.exec("INSERT INTO st.t SELECT seq, 'after' FROM mysql.seq_11_to_20");
  await up.exec("UPDATE st.t SET v = 'after, changed' WHERE id = 11");

  const f = await writeTemp({});
  const files = await writeTemp({
    'source.yaml': sourceYaml('s1', up),
    'task.yaml': taskYaml({ name: 'st', mode: 'incremental', target: down, sources: ['s1'], dir: f.dir }),
  });
  const master = await startMaster(f.dir);
  let worker = await daemon(
    'dm-worker',
    ['--name', 'w1', '--worker-addr', '127.0.0.1:0', '--join', master.addr],
    f.dir,
  );
  assert.equal((await dmctl(master.addr, 'operate-source', 'create', files['source.yaml'])).code, 0);
  const bad = await dmctl(master.addr, 'start-task', '--start-time', 'yesterday', files['task.yaml']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--start-time 'yesterday' is not a time/);
  const started = await dmctl(master.addr, 'start-task', '--start-time', at, files['task.yaml']);
  assert.equal(started.code, 0, started.stdout + started.stderr);

  const rows = async () =>
    (await down.exec('SELECT id, v FROM st.t ORDER BY id')) as { id: number; v: string }[];
  const caughtUp = async () => {
    const m = await masterStatus(up);
    for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
      const q = await call<QueryStatus>(master.addr, 'GET', '/apis/v1alpha1/status/st');
      const st = q.workers[0]?.subTaskStatus[0];
      if (st?.stage === 'Paused') assert.fail(JSON.stringify(st.result));
      if (reached((st?.sync as { syncerBinlog?: string } | undefined)?.syncerBinlog, `(${m.file}, ${m.pos})`))
        return;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.fail('not caught up');
  };
  await caughtUp();
  const got = await rows();
  assert.deepEqual(
    got.map((r) => r.id),
    Array.from({ length: 10 }, (_, i) => i + 11),
    'only the rows written at or after the start time',
  );
  assert.equal(got[0].v, 'after, changed');
  // used once: the master forgets it when the worker has saved that start, so a restarted worker
  // continues from its checkpoint
  // the stage the master keeps in etcd (DM's key /dm-master/stage/subtask/<source>/<task>)
  const members = (await dmctl(master.addr, 'list-member', '--master')).json.members as Array<{
    master: { masters: Array<{ clientURLs: string[] }> };
  }>;
  const etcd = etcdClient([members[0].master.masters[0].clientURLs[0].replace('http://', '')]);
  const stage = async () =>
    JSON.parse((await etcd.get('/dm-master/stage/subtask/s1/st').string()) ?? '{}') as { startTime?: string };
  for (let i = 0; i < 50 && (await stage()).startTime; i++) await new Promise((r) => setTimeout(r, 200));
  assert.equal((await stage()).startTime, undefined);
  etcd.close();
  await worker.kill('SIGKILL');
  worker = await daemon(
    'dm-worker',
    ['--name', 'w1', '--worker-addr', '127.0.0.1:0', '--join', master.addr],
    f.dir,
  );
  await up.exec("INSERT INTO st.t VALUES (21, 'later')");
  await caughtUp();
  assert.deepEqual((await rows()).map((r) => r.id).slice(-2), [20, 21]);
  assert.equal((await rows()).length, 11);
  await worker.kill();
  await master.kill();
});

// The control plane end to end: one dm-master, two dm-workers and dmctl as real processes, two
// upstream servers and a target. A task over both sources in `all` mode is started, paused,
// resumed, stopped and started again; a worker is killed and restarted; the master is restarted;
// a `full` task ends Finished; every query-status along the way has the seed's fields; bad input
// gets a one-line error and a non-zero exit code; no password reaches a log, a status or a config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { server, masterStatus, type MariaDBSandbox } from '../harness/index.js';
import { sourceYaml, taskYaml, writeTemp } from '../harness/task.js';
import { assertTablesEqual } from '../harness/run.js';
import { daemon, dmctl, waitFor as waitUntil, type Proc } from '../harness/cluster.js';
import { call } from '../../src/api/http.js';
import { encryptPassword } from '../../src/task/encrypt.js';
import type { QueryStatus, SubTaskStatus, TaskList, WorkerStatus } from '../../src/task/status.js';

const PASSWORD = 'Upstream-S3cret!';
const SYNC_FIELDS = [
  'totalEvents',
  'totalTps',
  'recentTps',
  'masterBinlog',
  'masterBinlogGtid',
  'syncerBinlog',
  'syncerBinlogGtid',
  'blockingDDLs',
  'unresolvedGroups',
  'synced',
];
const UNIT_KEYS = ['check', 'dump', 'load', 'sync'];

let up1: MariaDBSandbox, up2: MariaDBSandbox, down: MariaDBSandbox;
let files: Record<string, string> & { dir: string };
let master: Proc;
const workers: Record<string, Proc> = {};

/** The cluster's steps (elections, scheduling, Sync) get two minutes. */
function waitFor<T>(what: string, f: () => Promise<T | undefined | false>): Promise<T> {
  return waitUntil(what, f, 120_000);
}

/** A port nothing listens on. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const status = (task: string) => call<QueryStatus>(master.addr, 'GET', `/apis/v1alpha1/status/${task}`);
const list = () => call<TaskList>(master.addr, 'GET', '/apis/v1alpha1/status');

/** Every field the seed lists, with the right types; exactly the current unit's status. */
function assertSeedShape(q: QueryStatus, task: string): void {
  assert.equal(q.result, true, q.msg);
  assert.equal(q.msg, '');
  for (const w of q.workers) {
    assert.deepEqual(Object.keys(w).sort(), [
      'msg',
      'relayStatus',
      'result',
      'source',
      'subTaskStatus',
      'worker',
    ]);
    if (!w.result) continue;
    assert.match(w.worker, /^127\.0\.0\.1:\d+$/);
    assert.equal(w.relayStatus, null);
    for (const st of w.subTaskStatus) assertSubTaskShape(st, task);
  }
}

function assertSubTaskShape(st: SubTaskStatus, task: string): void {
  assert.equal(st.name, task);
  assert.ok(['New', 'Running', 'Paused', 'Stopped', 'Finished'].includes(st.stage), st.stage);
  assert.ok(['Check', 'Dump', 'Load', 'Sync'].includes(st.unit), st.unit);
  assert.equal(st.unresolvedDDLLockID, '');
  if (st.result !== null) {
    assert.equal(typeof st.result.isCanceled, 'boolean');
    for (const e of st.result.errors) assert.equal(typeof e.Type, 'string');
  }
  const unitKeys = Object.keys(st).filter((k) => UNIT_KEYS.includes(k));
  assert.deepEqual(unitKeys, [st.unit.toLowerCase()], `exactly the ${st.unit} status`);
  if (st.unit === 'Sync') {
    const s = st.sync as Record<string, unknown>;
    for (const f of SYNC_FIELDS) assert.ok(f in s, `sync.${f}`);
    for (const f of ['totalEvents', 'totalTps', 'recentTps']) assert.match(String(s[f]), /^\d+$/, f);
    assert.match(String(s.masterBinlog), /^\(.+, \d+\)$/);
    assert.match(String(s.syncerBinlog), /^\(.+, \d+\)$/);
    assert.equal(typeof s.synced, 'boolean');
  }
  if (st.unit === 'Load') {
    const l = st.load!;
    assert.match(l.finishedBytes, /^\d+$/);
    assert.match(l.totalBytes, /^\d+$/);
    assert.match(l.progress, /^\d+\.\d\d %$/);
  }
}

/** Each source's subtask of `task`, once every one is in `stage` (and `unit`, if given). */
async function subtasksIn(task: string, stage: string, unit?: string): Promise<SubTaskStatus[]> {
  return waitFor(`${task} ${stage} ${unit ?? ''}`, async () => {
    const q = await status(task);
    assertSeedShape(q, task);
    const sts = q.workers.map((w) => w.subTaskStatus[0]);
    return sts.length > 0 && sts.every((s) => s && s.stage === stage && (!unit || s.unit === unit)) && sts;
  });
}

/** Waits until every subtask has applied the upstream's binlog up to now. */
async function caughtUp(task: string): Promise<void> {
  const want = new Map<string, string>();
  for (const [id, s] of [
    ['s1', up1],
    ['s2', up2],
  ] as const) {
    const m = await masterStatus(s);
    want.set(id, `(${m.file}, ${m.pos})`);
  }
  await waitFor(`${task} caught up`, async () => {
    const q = await status(task);
    return q.workers.every((w) => {
      const st = w.subTaskStatus[0];
      if (st?.stage === 'Paused' && st.result?.errors.some((e) => !e.retryable))
        assert.fail(JSON.stringify(st.result));
      return (st?.sync as { syncerBinlog?: string } | undefined)?.syncerBinlog === want.get(w.source!);
    });
  });
}

async function equal(): Promise<void> {
  await assertTablesEqual(up1, down, ['shop1.t']);
  await assertTablesEqual(up2, down, ['shop2.t']);
}

async function write(n: number): Promise<void> {
  await up1.exec(`INSERT INTO shop1.t (v) SELECT CONCAT('a', seq) FROM mysql.seq_1_to_${n}`);
  await up2.exec(
    `UPDATE shop2.t SET v = CONCAT(v, 'x') WHERE id % 7 = 0; INSERT INTO shop2.t (v) SELECT 'b' FROM mysql.seq_1_to_${n}`,
  );
}

function startWorker(name: string): Promise<Proc> {
  return daemon(
    'dm-worker',
    [
      '--name',
      name,
      '--worker-addr',
      '127.0.0.1:0',
      '--join',
      master.addr,
      '--keepalive-ttl',
      '2',
      '--log-file',
      join(files.dir, `${name}.log`),
    ],
    files.dir,
  ).then((p) => (workers[name] = p));
}

function startMaster(addr = '127.0.0.1:0'): Promise<Proc> {
  return daemon('dm-master', [
    '--name',
    'm1',
    '--master-addr',
    addr,
    '--data-dir',
    join(files.dir, 'm1'),
    '--log-file',
    join(files.dir, 'm1.log'),
  ]).then((p) => (master = p));
}

// Set up at the top level: the harness's cleanups then run when the file's tests end.
{
  [up1, up2, down] = await Promise.all([server(), server(), server()]);
  for (const [s, db] of [
    [up1, 'shop1'],
    [up2, 'shop2'],
  ] as const) {
    await s.exec(`CREATE USER dm@'127.0.0.1' IDENTIFIED BY '${PASSWORD}';
      GRANT SELECT, RELOAD, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO dm@'127.0.0.1';
      CREATE DATABASE ${db}; CREATE TABLE ${db}.t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(40));
      INSERT INTO ${db}.t (v) SELECT CONCAT('r', seq) FROM mysql.seq_1_to_20000;
      CREATE DATABASE archive_${db}; CREATE TABLE archive_${db}.old (id INT PRIMARY KEY, v INT);
      INSERT INTO archive_${db}.old SELECT seq, seq * 2 FROM mysql.seq_1_to_5000;`);
  }
  const dir = (await writeTemp({})).dir;
  const fullTask = `name: archive
task-mode: full
target-database:
  host: 127.0.0.1
  port: ${down.port}
  user: root
  password: ""
block-allow-list:
  archive:
    do-dbs: ["archive_shop1"]
mysql-instances:
  - source-id: s1
    block-allow-list: archive
    loader:
      dir: ${dir}/archive-dump
`;
  files = await writeTemp({
    's1.yaml': sourceYaml('s1', up1, 'dm', encryptPassword(PASSWORD)),
    's2.yaml': sourceYaml('s2', up2, 'dm', PASSWORD),
    'task.yaml': taskYaml({
      name: 'shop',
      mode: 'all',
      target: down,
      sources: ['s1', 's2'],
      dir: join(dir, 'dump'),
    })
      .replace(
        'mysql-instances:',
        'block-allow-list:\n  shop:\n    do-dbs: ["shop1", "shop2"]\nmysql-instances:',
      )
      .replace(/( {4}loader-config-name: global)/g, '$1\n    block-allow-list: shop'),
    'archive.yaml': fullTask,
    'bad-syntax.yaml': 'name: x\ntask-mode: [all\n',
    'bad-key.yaml': taskYaml({ name: 'x', mode: 'all', target: down, sources: ['s1'], dir }).replace(
      'task-mode: all',
      'task-mode: all\nclean-dump-fle: false',
    ),
    'no-source.yaml': taskYaml({ name: 'orphan', mode: 'all', target: down, sources: ['nope'], dir }),
    'wrong-password.yaml': sourceYaml('s9', up1, 'dm', 'not-the-password'),
  });
  await startMaster();
  await Promise.all([startWorker('w1'), startWorker('w2')]);
}

test('sources bind to free workers; list-member shows them', async () => {
  const free = await waitFor('two free workers', async () => {
    const r = await dmctl(master.addr, 'list-member');
    const ws = (r.json.members as Array<{ worker?: { workers: Array<{ stage: string }> } }>)[2].worker!
      .workers;
    return ws.length === 2 && ws.every((w) => w.stage === 'free') && ws;
  });
  assert.equal(free.length, 2);
  const r = await dmctl(master.addr, 'operate-source', 'create', files['s1.yaml'], files['s2.yaml']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const sources = r.json.sources as Array<{ source: string; worker: string; result: boolean }>;
  assert.deepEqual(
    sources.map((s) => s.source),
    ['s1', 's2'],
  );
  assert.deepEqual(sources.map((s) => s.worker).sort(), ['w1', 'w2']);
  const m = await dmctl(master.addr, 'list-member');
  const ws = (m.json.members as Array<{ worker?: { workers: Array<{ stage: string; source: string }> } }>)[2]
    .worker!.workers;
  assert.deepEqual(
    ws.map((w) => [w.stage, w.source]),
    [
      ['bound', sources.find((s) => s.worker === 'w1')!.source],
      ['bound', sources.find((s) => s.worker === 'w2')!.source],
    ],
  );
  const dup = await dmctl(master.addr, 'operate-source', 'create', files['s1.yaml']);
  assert.equal(dup.code, 1);
  assert.match(dup.json.msg!, /source 's1' already exists/);
  const bad = await dmctl(master.addr, 'operate-source', 'create', files['wrong-password.yaml']);
  assert.equal(bad.code, 1);
  assert.match(bad.json.msg!, /Access denied/);
  assert.ok(!bad.stdout.includes('not-the-password'));
});

test('an all-mode task over two sources: start, pause, resume, stop, start again', async () => {
  const r = await dmctl(master.addr, 'start-task', files['task.yaml']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal((r.json.sources as unknown[]).length, 2);
  const dupe = await dmctl(master.addr, 'start-task', files['task.yaml']);
  assert.equal(dupe.code, 1);
  assert.match(dupe.json.msg!, /task 'shop' already exists/);

  await subtasksIn('shop', 'Running', 'Sync');
  await write(500);
  await caughtUp('shop');
  await equal();
  const q = await dmctl(master.addr, 'query-status', 'shop');
  assert.equal(q.code, 0);
  assertSeedShape(q.json as unknown as QueryStatus, 'shop');
  for (const w of (q.json as unknown as QueryStatus).workers) {
    const sync = w.subTaskStatus[0].sync as Record<string, string>;
    // DM v2's: the bytes the dump read (20000 rows of shopN.t at least), and no conflict
    assert.ok(Number(sync.dumpIOTotalBytes) > 20000 * 5, JSON.stringify(sync));
    assert.ok(Number(sync.ioTotalBytes) > 0);
    assert.deepEqual([sync.blockDDLOwner, sync.conflictMsg], ['', '']);
  }
  const addrs = (q.json as unknown as QueryStatus).workers.map((w) => w.worker).sort();
  assert.deepEqual(addrs, [workers.w1.addr, workers.w2.addr].sort());
  assert.deepEqual((await list()).tasks, [
    { taskName: 'shop', taskStatus: 'Running', sources: ['s1', 's2'] },
  ]);
  const one = await dmctl(master.addr, 'query-status', 'shop', '-s', 's2');
  assert.deepEqual(
    (one.json as unknown as QueryStatus).workers.map((w) => w.source),
    ['s2'],
  );

  // pause: nothing more is applied; pausing again is refused and changes nothing
  const p = await dmctl(master.addr, 'pause-task', 'shop');
  assert.equal(p.code, 0, p.stdout);
  assert.equal(p.json.op, 'Pause');
  for (const st of await subtasksIn('shop', 'Paused')) assert.equal(st.result, null);
  assert.equal((await list()).tasks[0].taskStatus, 'Paused');
  const before = await down.exec('SELECT COUNT(*) n FROM shop1.t');
  await write(100);
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(await down.exec('SELECT COUNT(*) n FROM shop1.t'), before, 'nothing applied while paused');
  const again = await dmctl(master.addr, 'pause-task', 'shop');
  assert.equal(again.code, 1);
  assert.match(again.json.msg!, /cannot pause task 'shop': its subtask is Paused/);
  await subtasksIn('shop', 'Paused');

  // resume: catches up
  assert.equal((await dmctl(master.addr, 'resume-task', 'shop')).code, 0);
  await subtasksIn('shop', 'Running', 'Sync');
  await caughtUp('shop');
  await equal();

  // stop: resume is refused; start-task continues from the checkpoint
  const s = await dmctl(master.addr, 'stop-task', 'shop');
  assert.equal(s.code, 0, s.stdout);
  await subtasksIn('shop', 'Stopped');
  assert.equal((await list()).tasks[0].taskStatus, 'Stopped');
  const res = await dmctl(master.addr, 'resume-task', 'shop');
  assert.equal(res.code, 1);
  assert.match(res.json.msg!, /Stopped task starts again with start-task/);
  await subtasksIn('shop', 'Stopped');
  await write(300);
  assert.equal((await dmctl(master.addr, 'start-task', files['task.yaml'])).code, 0);
  const sts = await subtasksIn('shop', 'Running', 'Sync');
  assert.ok(
    sts.every((st) => st.unit === 'Sync'),
    'continues with Sync, no new dump',
  );
  await caughtUp('shop');
  await equal();
});

test("dmctl takes DM's command-line forms: -s before the task, comma lists, no task with -s, =true, -f, list-member filters", async () => {
  const stageOf = async (src: string) =>
    (await status('shop')).workers.find((w) => w.source === src)?.subTaskStatus[0]?.stage;
  // -s before the task name is the task, not the task list
  const one = await dmctl(master.addr, 'query-status', '-s', 's1', 'shop');
  assert.equal(one.code, 0, one.stdout + one.stderr);
  assert.deepEqual(
    (one.json as unknown as QueryStatus).workers.map((w) => w.source),
    ['s1'],
  );
  const both = await dmctl(master.addr, 'query-status', '-s', 's1,s2', 'shop');
  assert.deepEqual((both.json as unknown as QueryStatus).workers.map((w) => w.source).sort(), ['s1', 's2']);
  // without a task: -s or --more give the sources' full status (DM's), not the list of tasks
  const more = (await dmctl(master.addr, 'query-status', '--more')).json as unknown as QueryStatus;
  assert.deepEqual(
    more.workers.map((w) => w.source),
    ['s1', 's2'],
  );
  assert.ok(
    more.workers.every((w) => w.subTaskStatus.some((st) => st.name === 'shop' && st.unit === 'Sync')),
  );
  const s1 = (await dmctl(master.addr, 'query-status', '-s', 's1')).json as unknown as QueryStatus;
  assert.deepEqual(
    s1.workers.map((w) => w.source),
    ['s1'],
  );
  assert.ok(
    s1.workers[0].subTaskStatus.some((st) => st.name === 'shop'),
    JSON.stringify(s1),
  );
  // pause-task / resume-task -s without a task: every task of the source
  const p = await dmctl(master.addr, 'pause-task', '-s', 's1');
  assert.equal(p.code, 0, p.stdout + p.stderr);
  await waitFor('s1 paused', async () => (await stageOf('s1')) === 'Paused');
  assert.equal(await stageOf('s2'), 'Running');
  assert.equal((await dmctl(master.addr, 'resume-task', '-s', 's1')).code, 0);
  await subtasksIn('shop', 'Running', 'Sync');
  // stop-task -s src task stops that source's subtask only
  const st = await dmctl(master.addr, 'stop-task', '-s', 's2', 'shop');
  assert.equal(st.code, 0, st.stdout + st.stderr);
  await waitFor('s2 stopped', async () => (await stageOf('s2')) === 'Stopped');
  assert.equal(await stageOf('s1'), 'Running');
  const rest = await dmctl(master.addr, 'stop-task', '-s', 's1', 'shop');
  assert.equal(rest.code, 0, rest.stdout + rest.stderr);
  await subtasksIn('shop', 'Stopped');
  // a boolean flag with =false (or =true) as DM allows
  const again = await dmctl(master.addr, 'start-task', '--remove-meta=false', files['task.yaml']);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  await subtasksIn('shop', 'Running', 'Sync');
  await caughtUp('shop');
  await equal();
  // list-member --worker / --leader / -n
  const w = await dmctl(master.addr, 'list-member', '--worker');
  const kinds = (w.json.members as Array<Record<string, unknown>>).map((m) => Object.keys(m)[0]);
  assert.deepEqual(kinds, ['worker']);
  const named = await dmctl(master.addr, 'list-member', '--worker', '-n', 'w1');
  const ws = (named.json.members as Array<{ worker: { workers: Array<{ name: string }> } }>)[0].worker
    .workers;
  assert.deepEqual(
    ws.map((x) => x.name),
    ['w1'],
  );
  // purge-relay -f is DM's short form (these sources have no relay: the master says so)
  const purge = await dmctl(master.addr, 'purge-relay', '-s', 's1', '-f', 'mysql-bin.000001');
  assert.doesNotMatch(purge.stderr, /unknown option/);
  assert.match(purge.stdout + purge.stderr, /relay/);
  const v = await dmctl(undefined, '-V');
  assert.match(v.stdout, /^\d+\.\d+\.\d+/);
});

test('a killed worker is reported offline; restarted, it continues from its checkpoint', async () => {
  const q = await status('shop');
  const w1source = q.workers.find((w) => w.worker === workers.w1.addr)!.source!;
  await workers.w1.kill('SIGKILL');
  await write(400);
  // At once: the worker cannot be asked; after its keepalive TTL (2 s): offline.
  const offline = await waitFor('w1 offline', async () => {
    const s = await status('shop');
    return s.workers.find((w: WorkerStatus) => w.source === w1source && /is offline/.test(w.msg));
  });
  assert.equal(offline.result, false);
  assert.match(
    offline.msg,
    /^dm-worker w1 \(127\.0\.0\.1:\d+\) of source s\d is offline: last heartbeat \d+ s ago; restart it/,
  );
  const t = await list();
  assert.match(
    t.tasks[0].taskStatus,
    /^Error - dm-worker w1 of source s\d is offline\. Please run `query-status shop`/,
  );
  const m = await dmctl(master.addr, 'list-member');
  const ws = (m.json.members as Array<{ worker?: { workers: Array<{ name: string; stage: string }> } }>)[2]
    .worker!.workers;
  assert.equal(ws.find((w) => w.name === 'w1')!.stage, 'offline');

  await startWorker('w1');
  await subtasksIn('shop', 'Running', 'Sync');
  await caughtUp('shop');
  await equal();
});

test('the master restarts with its sources, tasks and stages', async () => {
  const addr = master.addr;
  await master.kill('SIGTERM');
  await startMaster(addr);
  await subtasksIn('shop', 'Running', 'Sync');
  await write(200);
  await caughtUp('shop');
  await equal();
});

test('a source whose worker stays offline moves to a free worker and continues from its checkpoint', async () => {
  await startWorker('w3');
  const before = await status('shop');
  const moved = before.workers.find((w) => w.worker === workers.w2.addr)!.source!;
  await workers.w2.kill('SIGKILL');
  await write(300);
  // keepalive TTL (2 s) + the master's grace (2 s), then the free worker takes the source
  await waitFor('source moved to w3', async () => {
    const q = await status('shop');
    const w = q.workers.find((x) => x.source === moved);
    return w?.worker === workers.w3.addr && w.subTaskStatus[0]?.stage === 'Running' && w;
  });
  await subtasksIn('shop', 'Running', 'Sync');
  await caughtUp('shop');
  await equal();
  const m = await dmctl(master.addr, 'list-member');
  const ws = (
    m.json.members as Array<{ worker?: { workers: Array<{ name: string; stage: string; source: string }> } }>
  )[2].worker!.workers;
  assert.deepEqual(
    ws.map((w) => [w.name, w.stage, w.source]),
    [
      ['w1', 'bound', ws[0].source],
      ['w2', 'offline', ''],
      ['w3', 'bound', moved],
    ],
  );
});

test('a full task ends Finished; pausing it is refused', async () => {
  const r = await dmctl(master.addr, 'start-task', files['archive.yaml']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const [st] = await subtasksIn('archive', 'Finished');
  assert.equal(st.unit, 'Load');
  assert.equal(st.result, null);
  await assertTablesEqual(up1, down, ['archive_shop1.old']);
  const [d] = (await down.exec("SHOW DATABASES LIKE 'archive_shop2'")) as unknown[];
  assert.equal(d, undefined, 'the block-allow list kept archive_shop2 out');
  const p = await dmctl(master.addr, 'pause-task', 'archive');
  assert.equal(p.code, 1);
  assert.match(p.json.msg!, /its subtask is Finished/);
  const tasks = (await list()).tasks;
  assert.deepEqual(
    tasks.map((t) => [t.taskName, t.taskStatus]),
    [
      ['shop', 'Running'],
      ['archive', 'Finished'],
    ],
  );
});

test('check-task runs the precheck; binlog skip gets past a row the target refuses', async () => {
  const c = await dmctl(master.addr, 'check-task', files['task.yaml']);
  assert.equal(c.code, 0, c.stdout);
  assert.equal(c.json.msg, 'pre-check is passed. ');
  assert.deepEqual(
    (c.json.checkResult as Array<{ source: string }>).map((r) => r.source),
    ['s1', 's2'],
  );

  // The target already has the row the upstream is about to insert: Sync pauses on 1062.
  const [{ n }] = (await up1.exec('SELECT MAX(id) + 1 AS n FROM shop1.t')) as { n: string }[];
  await down.exec(`INSERT INTO shop1.t VALUES (${n}, 'dup')`);
  await up1.exec(`INSERT INTO shop1.t VALUES (${n}, 'dup')`);
  const failed = await waitFor('Sync paused by the duplicate', async () => {
    const q = await status('shop');
    assertSeedShape(q, 'shop');
    return q.workers.find((w) => w.source === 's1' && w.subTaskStatus[0]?.stage === 'Paused')
      ?.subTaskStatus[0];
  });
  assert.equal(failed.unit, 'Sync');
  assert.equal(failed.result!.errors[0].Type, 'ExecSQL');
  assert.match(failed.result!.errors[0].msg, /^Error 1062: Duplicate entry/);
  assert.match(
    (await list()).tasks[0].taskStatus,
    /^Error - Some error occurred in subtask\. Please run `query-status shop`/,
  );

  const skip = await dmctl(master.addr, 'binlog', 'skip', 'shop');
  assert.equal(skip.code, 0, skip.stdout);
  assert.deepEqual(
    (skip.json.sources as Array<{ source: string }>).map((x) => x.source),
    ['s1'],
    'only the paused source',
  );
  await subtasksIn('shop', 'Running', 'Sync');
  await write(50);
  await caughtUp('shop');
  await equal();
  const none = await dmctl(master.addr, 'binlog', 'skip', 'shop');
  assert.equal(none.code, 1);
  assert.match(none.json.msg!, /no subtask of task 'shop' is paused by a Sync error/);
});

test('binlog inject runs SQL before the event at -b; revert cancels a pending skip; list shows them', async () => {
  const stageOf = async () =>
    (await status('shop')).workers.find((w) => w.source === 's1')?.subTaskStatus[0]?.stage;
  assert.equal((await dmctl(master.addr, 'pause-task', '-s', 's1', 'shop')).code, 0);
  await waitFor('s1 paused', async () => (await stageOf()) === 'Paused');
  await up1.exec(`INSERT INTO shop1.t (v) VALUES ('before-inject')`);
  const first = await masterStatus(up1); // the end of that transaction
  await up1.exec(`INSERT INTO shop1.t (v) VALUES ('kept')`);
  const second = await masterStatus(up1);
  const inject = await dmctl(
    master.addr,
    'binlog',
    'inject',
    '-s',
    's1',
    '-b',
    `${first.file}:${first.pos}`,
    'shop',
    'CREATE TABLE shop1.injected (id INT PRIMARY KEY);',
  );
  assert.equal(inject.code, 0, inject.stdout + inject.stderr);
  const skip = await dmctl(
    master.addr,
    'binlog',
    'skip',
    '-b',
    `${second.file}:${second.pos}`,
    'shop',
    '-s',
    's1',
  );
  assert.equal(skip.code, 0, skip.stdout + skip.stderr);
  const listed = await dmctl(master.addr, 'binlog', 'list', 'shop', '-s', 's1');
  assert.equal(listed.code, 0, listed.stdout + listed.stderr);
  const ops = JSON.parse((listed.json.sources as Array<{ msg: string }>)[0].msg) as Array<{ op: string }>;
  assert.deepEqual(
    ops.map((o) => o.op),
    ['inject', 'skip'],
  );
  // DM's hidden older form reverts the skip
  const revert = await dmctl(
    master.addr,
    'handle-error',
    'shop',
    '-s',
    's1',
    '-b',
    `${second.file}:${second.pos}`,
    'revert',
  );
  assert.equal(revert.code, 0, revert.stdout + revert.stderr);
  const bad = await dmctl(
    master.addr,
    'binlog',
    'revert',
    '-b',
    `${second.file}:${second.pos}`,
    'shop',
    '-s',
    's1',
  );
  assert.equal(bad.code, 1);
  assert.match(bad.json.msg as string, /no binlog operation at/);
  assert.equal(await stageOf(), 'Paused', 'an operator pause stays until resume-task');
  assert.equal((await dmctl(master.addr, 'resume-task', 'shop', '-s', 's1')).code, 0);
  await subtasksIn('shop', 'Running', 'Sync');
  await caughtUp('shop');
  await equal(); // both rows arrived: the skip was reverted
  assert.deepEqual(await down.exec('SHOW TABLES FROM shop1 LIKE "injected"'), [
    { 'Tables_in_shop1 (injected)': 'injected' },
  ]);
  await down.exec('DROP TABLE shop1.injected');
});

test('binlog-schema: a table changed upstream outside the binlog pauses Sync; fixed on the target, update --from-target, and Sync continues', async () => {
  const running = await dmctl(
    master.addr,
    'binlog-schema',
    'update',
    'shop',
    'shop1',
    't',
    '--from-target',
    '-s',
    's1',
  );
  assert.equal(running.code, 1);
  assert.match(String(running.json.msg), /applies to a paused Sync unit/);
  // the upstream's ALTER is not in its binlog: rows with a third column arrive at a 2-column table
  await up1.exec('SET sql_log_bin = 0; ALTER TABLE shop1.t ADD COLUMN w INT; SET sql_log_bin = 1');
  await up1.exec("INSERT INTO shop1.t (v, w) VALUES ('wide', 7)");
  const paused = await waitFor('Sync paused by the wider row', async () => {
    const q = await status('shop');
    return q.workers.find((w) => w.source === 's1' && w.subTaskStatus[0]?.stage === 'Paused')
      ?.subTaskStatus[0];
  });
  assert.equal(paused.unit, 'Sync');
  const listed = await dmctl(master.addr, 'binlog-schema', 'list', '-s', 's1', 'shop', 'shop1', 't');
  assert.equal(listed.code, 0, listed.stdout + listed.stderr);
  assert.doesNotMatch((listed.json.sources as Array<{ msg: string }>)[0].msg, /`w`/);
  const own = await dmctl(
    master.addr,
    'binlog-schema',
    'update',
    'shop',
    'shop1',
    't',
    '--from-source',
    '-s',
    's1',
  );
  assert.equal(own.code, 1);
  assert.match(String(own.json.msg), /Sync reads the schema of `shop1`.`t` from its target table/);
  await down.exec('ALTER TABLE shop1.t ADD COLUMN w INT');
  const fixed = await dmctl(
    master.addr,
    'binlog-schema',
    'update',
    'shop',
    'shop1',
    't',
    '--from-target',
    '--flush=false',
    '-s',
    's1',
  );
  assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
  assert.match((fixed.json.sources as Array<{ msg: string }>)[0].msg, /`w` int/);
  assert.equal((await dmctl(master.addr, 'resume-task', 'shop', '-s', 's1')).code, 0);
  await subtasksIn('shop', 'Running', 'Sync');
  await write(20);
  await caughtUp('shop');
  await equal();
});

test('refusals of the operator commands name the reason: create -w on a bound worker, offline-member --master, unlock-ddl-lock -f', async () => {
  const bound = await dmctl(
    master.addr,
    'operate-source',
    'create',
    files['wrong-password.yaml'],
    '-w',
    'w1',
  );
  assert.equal(bound.code, 1);
  assert.match(String(bound.json.msg), /dm-worker 'w1' is bound to source 's[12]'/);
  const m = await dmctl(master.addr, 'offline-member', '--master', '-n', 'm1');
  assert.equal(m.code, 1);
  assert.match(String(m.json.msg), /dm-master m1 is alive: stop it first, then offline-member removes it/);
  const both = await dmctl(master.addr, 'offline-member', '--master', '--worker', '-n', 'm1');
  assert.equal(both.code, 1);
  assert.match(both.stderr, /exactly one of --master or --worker/);
  const f = await dmctl(master.addr, 'unlock-ddl-lock', '-f', 'shop-`x`.`y`');
  assert.equal(f.code, 1);
  assert.match(f.stderr, /--force-remove is not supported/);
  const o = await dmctl(master.addr, 'unlock-ddl-lock', '-o', 's1', 'shop-`x`.`y`');
  assert.equal(o.code, 1);
  assert.match(String(o.json.msg), /no sharding DDL lock/);
});

test('bad input: one line naming what and where, exit code 1', async () => {
  const syntax = await dmctl(master.addr, 'start-task', files['bad-syntax.yaml']);
  assert.equal(syntax.code, 1);
  assert.match(syntax.stderr, /bad-syntax\.yaml: invalid YAML at line \d+/);
  assert.equal(syntax.stderr.trim().split('\n').length, 1);

  const key = await dmctl(master.addr, 'start-task', files['bad-key.yaml']);
  assert.equal(key.code, 1);
  assert.match(key.stderr, /bad-key\.yaml.*'clean-dump-fle'.*line 3.*Did you mean 'clean-dump-file'/);
  assert.equal(key.stderr.trim().split('\n').length, 1);

  const orphan = await dmctl(master.addr, 'start-task', files['no-source.yaml']);
  assert.equal(orphan.code, 1);
  assert.match(orphan.json.msg!, /uses source 'nope', which is not known/);

  const port = await closedPort();
  const nomaster = await dmctl(`127.0.0.1:${port}`, 'query-status');
  assert.equal(nomaster.code, 1);
  assert.match(
    nomaster.stderr,
    new RegExp(`cannot reach 127\\.0\\.0\\.1:${port}: ECONNREFUSED; is dm-master running there\\?`),
  );
  assert.equal(nomaster.stderr.trim().split('\n').length, 1);

  const missing = await dmctl(master.addr, 'query-status', 'no-such-task');
  assert.equal(missing.code, 1);
  assert.match(missing.json.msg!, /task 'no-such-task' does not exist/);

  const noaddr = await dmctl(undefined, 'query-status');
  assert.equal(noaddr.code, 1);
  assert.match(noaddr.stderr, /--master-addr is required/);
});

test('passwords: encrypted in stored configs, never in logs or status', async () => {
  for (const [type, name] of [
    ['source', 's1'],
    ['source', 's2'],
    ['task', 'shop'],
  ]) {
    const c = await dmctl(master.addr, 'get-config', type, name);
    assert.equal(c.code, 0, c.stdout);
    assert.ok(!c.stdout.includes(PASSWORD), `get-config ${type} ${name}`);
  }
  const e = await dmctl(undefined, 'encrypt', PASSWORD);
  assert.equal(e.code, 0);
  assert.notEqual(e.stdout.trim(), PASSWORD);
  const q = JSON.stringify(await status('shop'));
  assert.ok(!q.includes(PASSWORD));
  for (const f of ['m1.log', 'w1.log', 'w2.log']) {
    const text = await readFile(join(files.dir, f), 'utf8');
    assert.ok(text.length > 0, f);
    assert.ok(!text.includes(PASSWORD), `${f} holds the password`);
  }
});

test('stop-task on a Stopped task removes it', async () => {
  assert.equal((await dmctl(master.addr, 'stop-task', 'shop')).code, 0);
  await subtasksIn('shop', 'Stopped');
  const r = await dmctl(master.addr, 'stop-task', 'shop');
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.json.msg!, /removed/);
  assert.deepEqual(
    (await list()).tasks.map((t) => t.taskName),
    ['archive'],
  );
  const src = await dmctl(master.addr, 'operate-source', 'stop', 's2');
  assert.equal(src.code, 0, src.stdout);
});

test('all-in-one: one dm-master process runs a worker per source, also after a restart', async () => {
  const dataDir = join(files.dir, 'aio');
  const args = (addr: string) => [
    '--name',
    'aio',
    '--master-addr',
    addr,
    '--data-dir',
    dataDir,
    '--all-in-one',
  ];
  let aio = await daemon('dm-master', args('127.0.0.1:0'), files.dir);
  const c = await dmctl(aio.addr, 'operate-source', 'create', files['s1.yaml']);
  assert.equal(c.code, 0, c.stdout);
  assert.deepEqual(c.json.sources, [{ result: true, msg: '', source: 's1', worker: 'aio-worker-1' }]);
  const task = files['archive.yaml'];
  const aioTask = join(files.dir, 'aio-task.yaml');
  await writeFile(aioTask, (await readFile(task, 'utf8')).replace('name: archive', 'name: aio_archive'));
  assert.equal((await dmctl(aio.addr, 'start-task', aioTask)).code, 0);
  const finished = async () =>
    waitFor('aio_archive Finished', async () => {
      const q = await call<QueryStatus>(aio.addr, 'GET', '/apis/v1alpha1/status/aio_archive');
      return q.workers[0]?.subTaskStatus[0]?.stage === 'Finished' && q;
    });
  assertSeedShape(await finished(), 'aio_archive');

  const addr = aio.addr;
  await aio.kill('SIGTERM');
  aio = await daemon('dm-master', args(addr), files.dir);
  await finished();
  const m = await dmctl(aio.addr, 'list-member');
  const ws = (m.json.members as Array<{ worker?: { workers: Array<{ addr: string }> } }>)[2].worker!.workers;
  assert.deepEqual(ws, [{ name: 'aio-worker-1', addr: ws[0]?.addr, stage: 'bound', source: 's1' }]);
  await aio.kill('SIGTERM');
});

test("secret-key-path: dmctl encrypt uses the master's key, a separate worker decrypts with it, another key's text is refused", async () => {
  const dir = join(files.dir, 'keyed');
  const keyFile = join(files.dir, 'secret.key');
  await writeFile(keyFile, 'c0ffee'.repeat(10) + 'beef\n');
  const badKey = join(files.dir, 'bad.key');
  await writeFile(badKey, 'not-hex');
  const args = (key: string) => [
    '--name',
    'km',
    '--master-addr',
    '127.0.0.1:0',
    '--data-dir',
    dir,
    '--secret-key-path',
    key,
  ];
  const refused = await daemon('dm-master', args(badKey), files.dir).then(
    () => assert.fail('a master with a bad key file started'),
    (e: Error) => e.message,
  );
  assert.match(
    refused,
    /\[code=20067:.*secret-key-path .*bad\.key: the secret key must be a hex AES-256 key of length 64/,
  );

  const km = await daemon('dm-master', args(keyFile), files.dir);
  const kw = await daemon(
    'dm-worker',
    ['--name', 'kw', '--worker-addr', '127.0.0.1:0', '--join', km.addr, '--keepalive-ttl', '2'],
    files.dir,
  );
  try {
    const enc = await dmctl(km.addr, 'encrypt', PASSWORD);
    assert.equal(enc.code, 0, enc.stderr);
    const ciphertext = enc.stdout.trim();
    assert.notEqual(ciphertext, encryptPassword(PASSWORD));
    const keyed = await writeTemp({
      'ks.yaml': sourceYaml('ks', up2, 'dm', ciphertext),
      'default-key.yaml': sourceYaml('kd', up2, 'dm', encryptPassword(PASSWORD)),
      'task.yaml': (await readFile(files['archive.yaml'], 'utf8'))
        .replace('name: archive', 'name: keyed')
        .replace('archive_shop1', 'archive_shop2')
        .replace('source-id: s1', 'source-id: ks')
        .replace('archive-dump', 'keyed-dump'),
    });
    const c = await dmctl(km.addr, 'operate-source', 'create', keyed['ks.yaml']);
    assert.equal(c.code, 0, c.stdout + c.stderr);
    const d = await dmctl(km.addr, 'operate-source', 'create', keyed['default-key.yaml']);
    assert.equal(d.code, 1, d.stdout);
    assert.match(d.stdout, /does not decrypt with the key of the master's secret-key-path/);
    const st = await dmctl(km.addr, 'start-task', keyed['task.yaml']);
    assert.equal(st.code, 0, st.stdout + st.stderr);
    await waitFor('keyed Finished', async () => {
      const q = await call<QueryStatus>(km.addr, 'GET', '/apis/v1alpha1/status/keyed');
      const st = q.workers[0]?.subTaskStatus[0];
      if (st?.result?.errors.length) assert.fail(JSON.stringify(st.result));
      return st?.stage === 'Finished';
    });
    await assertTablesEqual(up2, down, ['archive_shop2.old']);
    const shown = await dmctl(km.addr, 'get-config', 'source', 'ks');
    assert.ok(!shown.stdout.includes(PASSWORD));
  } finally {
    await kw.kill('SIGTERM');
    await km.kill('SIGTERM');
  }
});

// GET /metrics of dm-master and dm-worker during an `all` task, with DM's names: the task state
// goes 2 → 3 when paused and back, the load progress reaches 1, Sync's positions and finished
// transactions move with the upstream's writes, the lag rises while the target is stopped and
// falls back to 0 after, the master shows the worker bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { masterStatus, server } from '../harness/index.js';
import { sourceYaml, taskYaml, writeTemp } from '../harness/task.js';
import { daemon, dmctl, startMaster } from '../harness/cluster.js';
import { sysbenchTables, oltpWriteOnly } from '../../src/sandbox/workload.js';

async function scrape(addr: string): Promise<Map<string, number>> {
  const r = await fetch(`http://${addr}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
  const out = new Map<string, number>();
  for (const line of (await r.text()).split('\n')) {
    const m = /^(\w+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}

async function until<T>(what: string, f: () => Promise<T | undefined | false>): Promise<T> {
  let last: unknown;
  for (const deadline = Date.now() + 120_000; Date.now() < deadline;) {
    last = await f();
    if (last) return last as T;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`${what}: ${JSON.stringify(last)}`);
}

test('metrics of master and worker move with the task', async () => {
  const [up, down] = await Promise.all([server(), server()]);
  await sysbenchTables(up, 'sb', 2, 3000);
  const f = await writeTemp({});
  const files = await writeTemp({
    'source.yaml': sourceYaml('s1', up),
    'task.yaml': taskYaml({ name: 'mt', mode: 'all', target: down, sources: ['s1'], dir: f.dir }),
  });
  const master = await startMaster(f.dir);
  const worker = await daemon(
    'dm-worker',
    ['--name', 'w1', '--worker-addr', '127.0.0.1:0', '--join', master.addr],
    f.dir,
  );
  assert.equal((await dmctl(master.addr, 'operate-source', 'create', files['source.yaml'])).code, 0);
  assert.equal((await dmctl(master.addr, 'start-task', files['task.yaml'])).code, 0);
  const L = 'task="mt",source_id="s1"';
  const state = `dm_worker_task_state{${L},worker="w1"}`;
  await until('Running in Sync with the load done', async () => {
    const m = await scrape(worker.addr);
    return m.get(state) === 2 && m.get(`dm_loader_progress{${L}}`) === 1 && m;
  });
  const before = await scrape(worker.addr);
  await oltpWriteOnly(up, 'sb', { tables: 2, rows: 3000, txns: 50, concurrency: 1 });
  const pos = await masterStatus(up);
  const moved = await until('Sync at the upstream position', async () => {
    const m = await scrape(worker.addr);
    return m.get(`dm_syncer_binlog_pos{node="syncer",${L}}`) === pos.pos && m;
  });
  const done = `dm_syncer_finished_transaction_total{${L.replace(',', ',worker="w1",')}}`;
  assert.ok(
    moved.get(done)! >= (before.get(done) ?? 0) + 50,
    `${done}: ${before.get(done)} → ${moved.get(done)}`,
  );
  assert.equal(moved.get(`dm_syncer_binlog_file{node="master",${L}}`), Number(pos.file.split('.').pop()));
  assert.equal(moved.get(`dm_syncer_replication_lag_gauge{${L},worker="w1"}`) !== undefined, true);
  assert.equal(moved.get(`dm_syncer_exit_with_error_count{${L},resumable_err="false"}`), undefined);
  // the hot path's: jobs by kind and target table, transaction durations, queue sizes
  const sum = (re: RegExp) => [...moved].filter(([k]) => re.test(k)).reduce((n, [, v]) => n + v, 0);
  const updates = sum(
    /^dm_syncer_finished_jobs_total\{type="update",task="mt",.*target_schema="sb",target_table="sbtest[12]"\}/,
  );
  assert.ok(updates >= 50, `finished update jobs: ${updates}`);
  assert.ok(sum(/^dm_syncer_added_jobs_total\{type="update",task="mt"/) >= updates);
  assert.ok(sum(/^dm_syncer_txn_duration_time_count\{task="mt",worker="w1",source_id="s1"\}/) > 0);
  assert.ok(
    [...moved.keys()].some((k) =>
      k.startsWith('dm_syncer_queue_size{task="mt",queue_id="0",source_id="s1"}'),
    ),
  );

  assert.equal((await dmctl(master.addr, 'pause-task', 'mt')).code, 0);
  await until('state 3 when paused', async () => (await scrape(worker.addr)).get(state) === 3);
  assert.equal((await dmctl(master.addr, 'resume-task', 'mt')).code, 0);
  await until('state 2 again', async () => (await scrape(worker.addr)).get(state) === 2);

  // the target stops: the lag rises while the upstream writes; it comes back to 0 after
  const lag = `dm_syncer_replication_lag_gauge{${L},worker="w1"}`;
  await down.stop();
  await oltpWriteOnly(up, 'sb', { tables: 2, rows: 3000, txns: 20, concurrency: 1 });
  const first = await until(
    'a lag',
    async () => (await scrape(worker.addr)).get(lag)! > 0 && (await scrape(worker.addr)).get(lag),
  );
  await until('the lag rising', async () => (await scrape(worker.addr)).get(lag)! >= first + 2);
  await down.start();
  const end = await masterStatus(up);
  await until('caught up again, lag 0, nothing left to read', async () => {
    const x = await scrape(worker.addr);
    return (
      x.get(`dm_syncer_binlog_pos{node="syncer",${L}}`) === end.pos &&
      x.get(lag) === 0 &&
      x.get(`dm_syncer_remaining_time{${L},worker="w1"}`) === 0
    );
  });

  const m = await scrape(master.addr);
  assert.equal(m.get('dm_master_worker_state{worker="w1"}'), 2, 'bound');
  assert.equal(m.get('dm_master_start_leader_counter'), 1);
  await worker.kill('SIGTERM');
  await master.kill('SIGTERM');
});

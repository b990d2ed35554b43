// The relay through the control plane: a source with enable-relay gets a relay unit on its
// dm-worker; query-status shows the seed's relayStatus; pause-relay shows the task as
// "Error - Relay status is Paused" and holds Sync back; purge-relay keeps what the subtask needs;
// the worker SIGKILLed while the relay writes under load restarts with relay files still equal to
// the upstream's and every row replicated once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { masterStatus, server } from '../harness/index.js';
import { sourceYaml, taskYaml, writeTemp } from '../harness/task.js';
import { assertRelayEqualsUpstream, reached } from '../harness/relay.js';
import { daemon, dmctl, startMaster, type Proc } from '../harness/cluster.js';
import { assertTablesEqual } from '../harness/run.js';
import { oltpWriteOnly, sysbenchTables } from '../../src/sandbox/workload.js';
import { call } from '../../src/api/http.js';
import type { QueryStatus, RelayStatus, TaskList, WorkerStatus } from '../../src/task/status.js';

test('relay in the cluster: relayStatus, pause-relay/resume-relay, purge-relay, SIGKILL while relaying', async () => {
  const [up, down] = await Promise.all([server(), server()]);
  await sysbenchTables(up, 'sb', 2, 2000);
  const f = await writeTemp({});
  const relayRoot = join(f.dir, 'relay');
  const files = await writeTemp({
    'source.yaml': `${sourceYaml('s1', up)}enable-relay: true\nrelay-dir: "${relayRoot}"\n`,
    'task.yaml': taskYaml({ name: 'rt', mode: 'all', target: down, sources: ['s1'], dir: f.dir }),
  });
  const master = await startMaster(f.dir);
  let worker: Proc = await startWorker();
  async function startWorker(): Promise<Proc> {
    return daemon(
      'dm-worker',
      ['--name', 'w1', '--worker-addr', '127.0.0.1:0', '--join', master.addr, '--keepalive-ttl', '2'],
      f.dir,
    );
  }
  assert.equal((await dmctl(master.addr, 'operate-source', 'create', files['source.yaml'])).code, 0);
  const started = await dmctl(master.addr, 'start-task', files['task.yaml']);
  assert.equal(started.code, 0, started.stdout);

  const status = async (): Promise<WorkerStatus | undefined> =>
    (await call<QueryStatus>(master.addr, 'GET', '/apis/v1alpha1/status/rt').catch(() => undefined))
      ?.workers[0];
  const until = async (
    what: string,
    ok: (w: WorkerStatus) => boolean,
    ms = 120_000,
  ): Promise<WorkerStatus> => {
    for (const deadline = Date.now() + ms; Date.now() < deadline;) {
      const w = await status();
      const st = w?.subTaskStatus[0];
      if (st?.stage === 'Paused' && st.result?.errors.some((e) => !e.retryable))
        assert.fail(JSON.stringify(st.result));
      if (w && ok(w)) return w;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.fail(`${what}: ${JSON.stringify(await status())}`);
  };
  const caughtUp = async () => {
    const m = await masterStatus(up);
    const want = `(${m.file}, ${m.pos})`;
    return until(`caught up at ${want}`, (w) => {
      const sync = w.subTaskStatus[0]?.sync as { syncerBinlog?: string } | undefined;
      return reached(w.relayStatus?.relayBinlog, want) && reached(sync?.syncerBinlog, want);
    });
  };

  await oltpWriteOnly(up, 'sb', { tables: 2, rows: 2000, txns: 200, concurrency: 4 });
  await up.exec('FLUSH BINARY LOGS');
  await oltpWriteOnly(up, 'sb', { tables: 2, rows: 2000, txns: 100, concurrency: 2 });
  let w = await caughtUp();
  let m = await masterStatus(up);
  // The server writes a rotation's BINLOG_CHECKPOINT a moment after the transactions: catch up
  // with what the upstream has now, until it stays put.
  for (let i = 0; i < 20; i++) {
    const at = `(${m.file}, ${m.pos})`;
    const r = w.relayStatus as RelayStatus;
    if (r.relayBinlog === at && r.masterBinlog === at) break;
    await new Promise((res) => setTimeout(res, 200));
    w = await caughtUp();
    m = await masterStatus(up);
  }
  const rs = w.relayStatus as RelayStatus;
  assert.deepEqual(rs, {
    masterBinlog: `(${m.file}, ${m.pos})`,
    masterBinlogGtid: m.gtid,
    relaySubDir: `0-${up.serverId}.000001`,
    relayBinlog: `(${m.file}, ${m.pos})`,
    relayBinlogGtid: m.gtid,
    relayCatchUpMaster: true,
    stage: 'Running',
    result: null,
  });
  const subDir = join(relayRoot, 's1', rs.relaySubDir);
  assert.ok((await assertRelayEqualsUpstream(up, subDir)) >= 2);
  // DM's relay metrics on the worker
  // (a BINLOG_CHECKPOINT the server writes late may move both on: read them again until they agree)
  let metrics = '';
  const value = (re: RegExp) => Number(re.exec(metrics)?.[1]);
  for (let i = 0; i < 25; i++) {
    metrics = await (await fetch(`http://${worker.addr}/metrics`)).text();
    if (value(/^dm_relay_binlog_pos\{node="relay"\} (\d+)$/m) === m.pos) break;
    await new Promise((res) => setTimeout(res, 200));
    m = await masterStatus(up);
  }
  assert.equal(value(/^dm_relay_binlog_pos\{node="relay"\} (\d+)$/m), m.pos);
  assert.equal(value(/^dm_relay_binlog_file\{node="relay"\} (\d+)$/m), Number(m.file.split('.').pop()));
  assert.ok(value(/^dm_relay_write_size_count (\d+)$/m) > 0, 'relay writes observed');
  assert.ok(value(/^dm_relay_space\{type="available"\} (\d+)$/m) > 0);
  await assertTablesEqual(up, down, ['sb.sbtest1', 'sb.sbtest2']);

  // pause-relay: the task list says why nothing moves; Sync waits for the relay.
  const bad = await dmctl(master.addr, 'resume-relay', '-s', 's1');
  assert.equal(bad.code, 1);
  assert.match(String(bad.json.msg), /the relay is Running, not Paused/);
  assert.equal((await dmctl(master.addr, 'pause-relay', '-s', 's1')).code, 0);
  await until('relay paused', (x) => x.relayStatus?.stage === 'Paused');
  const list = await call<TaskList>(master.addr, 'GET', '/apis/v1alpha1/status');
  assert.equal(list.tasks.length, 1);
  assert.match(list.tasks[0].taskStatus, /^Error - Relay status is Paused\. Please run `query-status rt`/);
  await up.exec("UPDATE sb.sbtest1 SET c = 'during the pause' WHERE id = 1");
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(await down.exec("SELECT id FROM sb.sbtest1 WHERE c = 'during the pause'"), []);
  const paused = await status();
  assert.equal(paused?.relayStatus?.relayCatchUpMaster, false);
  // A worker restarted meanwhile keeps the relay paused (the master keeps the stage) and its Sync
  // reads what was relayed before, not the upstream.
  await worker.kill('SIGKILL');
  worker = await startWorker();
  await until(
    'restarted worker in Sync with the relay paused',
    (x) =>
      x.relayStatus?.stage === 'Paused' &&
      x.subTaskStatus[0]?.unit === 'Sync' &&
      x.subTaskStatus[0]?.stage === 'Running',
  );
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(await down.exec("SELECT id FROM sb.sbtest1 WHERE c = 'during the pause'"), []);
  assert.equal((await dmctl(master.addr, 'resume-relay', '-s', 's1')).code, 0);
  await caughtUp();
  assert.equal(
    (await call<TaskList>(master.addr, 'GET', '/apis/v1alpha1/status')).tasks[0].taskStatus,
    'Running',
  );
  const noRelay = await dmctl(master.addr, 'pause-relay', '-s', 'nope');
  assert.equal(noRelay.code, 1);
  assert.match(noRelay.stderr + noRelay.stdout, /source 'nope' does not exist/);

  // purge-relay: not past the file being written; files before the subtask's position go.
  const tooFar = await dmctl(master.addr, 'purge-relay', '-s', 's1', '--filename', 'mysql-bin.999999');
  assert.equal(tooFar.code, 1);
  assert.match(tooFar.stdout, /the relay writes/);
  await up.exec('FLUSH BINARY LOGS');
  await up.exec("UPDATE sb.sbtest1 SET c = 'after flush' WHERE id = 2");
  await caughtUp();
  const before = (await readdir(subDir)).filter((x) => /\.\d+$/.test(x)).sort();
  const current = (await masterStatus(up)).file;
  // The checkpoint is saved once a second: wait until it is in the current file.
  await new Promise((r) => setTimeout(r, 1500));
  const purged = await dmctl(master.addr, 'purge-relay', '-s', 's1', '--filename', current);
  assert.equal(purged.code, 0, purged.stdout);
  const after = (await readdir(subDir)).filter((x) => /\.\d+$/.test(x)).sort();
  assert.deepEqual(after, [current]);
  assert.ok(before.length > after.length);

  // SIGKILL the worker while the relay writes under load; after the restart nothing is lost or repeated.
  const ac = new AbortController();
  const load = oltpWriteOnly(up, 'sb', { tables: 2, rows: 2000, txns: 0, concurrency: 4, signal: ac.signal });
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 700 + i * 300));
    await worker.kill('SIGKILL');
    if (i === 1) await up.exec('FLUSH BINARY LOGS');
    worker = await startWorker();
  }
  ac.abort();
  await load;
  await caughtUp();
  await assertRelayEqualsUpstream(up, subDir);
  await assertTablesEqual(up, down, ['sb.sbtest1', 'sb.sbtest2']);
  await worker.kill('SIGTERM');
  await master.kill('SIGTERM');
});

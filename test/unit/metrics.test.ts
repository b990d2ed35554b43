// DM's metrics from the status the worker and the master keep (pure), and their exposition.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { binlogNumbers, masterSamples, STATUS_METRICS, workerSamples } from '../../src/metrics/samples.js';
import { eventMetricNames, Metrics, SyncMeter } from '../../src/metrics/registry.js';
import type { WorkerStatus } from '../../src/task/status.js';

const status: WorkerStatus = {
  result: true,
  worker: '127.0.0.1:8262',
  msg: '',
  source: 's1',
  subTaskStatus: [
    {
      name: 't',
      stage: 'Running',
      unit: 'Sync',
      result: null,
      unresolvedDDLLockID: 't-`db`.`tb`',
      sync: {
        totalEvents: '42',
        masterBinlog: '(mysql-bin.000003, 1234)',
        syncerBinlog: '(mysql-bin.000002, 99)',
        secondsBehindMaster: '7',
        unresolvedGroups: [{ target: '`db`.`tb`', unsynced: ['`a`.`b`'] }],
      },
    },
    {
      name: 'l',
      stage: 'Paused',
      unit: 'Load',
      result: null,
      unresolvedDDLLockID: '',
      load: { progress: '45.00 %', finishedBytes: '0', totalBytes: '0', metaBinlog: '', metaBinlogGTID: '' },
    },
  ],
  relayStatus: null,
};

test("a worker's status as DM's metrics", () => {
  const got = workerSamples(status, 'w1').map((s) => `${s.name}${JSON.stringify(s.labels)} ${s.value}`);
  assert.deepEqual(got, [
    'dm_worker_task_state{"task":"t","source_id":"s1","worker":"w1"} 2',
    'dm_syncer_replication_lag_gauge{"task":"t","source_id":"s1","worker":"w1"} 7',
    'dm_syncer_binlog_file{"node":"master","task":"t","source_id":"s1"} 3',
    'dm_syncer_binlog_pos{"node":"master","task":"t","source_id":"s1"} 1234',
    'dm_syncer_binlog_file{"node":"syncer","task":"t","source_id":"s1"} 2',
    'dm_syncer_binlog_pos{"node":"syncer","task":"t","source_id":"s1"} 99',
    'dm_syncer_finished_transaction_total{"task":"t","worker":"w1","source_id":"s1"} 42',
    'dm_syncer_shard_lock_resolving{"task":"t","source_id":"s1"} 1',
    'dm_syncer_unsynced_table_number{"task":"t","table":"`db`.`tb`","source_id":"s1"} 1',
    'dm_loader_progress{"task":"t","source_id":"s1"} 1',
    'dm_worker_task_state{"task":"l","source_id":"s1","worker":"w1"} 3',
    'dm_loader_progress{"task":"l","source_id":"s1"} 0.45',
  ]);
  assert.deepEqual(binlogNumbers('(mariadb-bin.000010, 4)'), { file: 10, pos: 4 });
  assert.equal(binlogNumbers(''), undefined);
});

test("the leader's metrics: workers by state, locks by Un-synced / Synced", () => {
  const got = masterSamples(
    [
      { name: 'w1', stage: 'bound' },
      { name: 'w2', stage: 'offline' },
    ],
    [
      { task: 't', unsynced: 1 },
      { task: 't', unsynced: 0 },
    ],
  ).map((s) => `${s.name}${JSON.stringify(s.labels)} ${s.value}`);
  assert.deepEqual(got, [
    'dm_master_worker_state{"worker":"w1"} 2',
    'dm_master_worker_state{"worker":"w2"} 0',
    'dm_master_ddl_state_number{"task":"t","type":"Un-synced"} 1',
    'dm_master_ddl_state_number{"task":"t","type":"Synced"} 1',
  ]);
});

test('the exposition has TYPE lines of DM and the values of the last scrape only', async () => {
  let samples = workerSamples(status, 'w1');
  const m = new Metrics(async () => samples);
  const text = await m.render();
  assert.match(text, /# TYPE dm_worker_task_state gauge/);
  assert.match(text, /# TYPE dm_syncer_finished_transaction_total counter/);
  assert.match(text, /dm_syncer_finished_transaction_total\{task="t",worker="w1",source_id="s1"\} 42/);
  assert.match(text, /# TYPE dm_syncer_exit_with_error_count counter/);
  assert.match(text, /process_cpu_user_seconds_total/);
  samples = [];
  assert.doesNotMatch(await m.render(), /dm_worker_task_state\{/, 'a subtask gone is gone from the metrics');
});

test('the Grafana dashboard and the alert rules in monitoring/ name only metrics that exist', async () => {
  const exposed = new Set([...STATUS_METRICS.map((m) => m.name), ...eventMetricNames()]);
  const names = (expr: string) => [...expr.matchAll(/\b(dm_[a-z_]+)/g)].map((m) => m[1]);
  const dash = JSON.parse(await readFile('monitoring/grafana-dm-ts.json', 'utf8')) as {
    panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
  };
  const rules = parseYaml(await readFile('monitoring/dm-ts.rules.yml', 'utf8')) as {
    groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
  };
  const exprs = [
    ...dash.panels.flatMap((p) => p.targets.map((t) => [p.title, t.expr])),
    ...rules.groups.flatMap((g) => g.rules.map((r) => [r.alert, r.expr])),
  ];
  assert.ok(exprs.length > 20);
  for (const [where, expr] of exprs) {
    const used = names(expr);
    assert.ok(used.length, `${where}: ${expr} names no dm_ metric`);
    for (const n of used) {
      const base = n.replace(/_(bucket|sum|count)$/, ''); // a histogram's series
      assert.ok(exposed.has(n) || exposed.has(base), `${where}: ${n} is not a metric dm-ts serves`);
    }
  }
});

test("Sync's job counters: each change counted once per kind, queue and table, read at the scrape", async () => {
  const m = new SyncMeter('jobs', 'src1', 'w1');
  const a = { quoted: '`db`.`t``1`' };
  const b = { quoted: '`db`.`t2`' };
  m.added(
    0,
    [
      { op: 'insert', t: a },
      { op: 'insert', t: a },
      { op: 'update', t: b },
    ],
    3,
  );
  m.added(1, [{ op: 'insert', t: a }], 1);
  m.committed(
    0,
    0.01,
    [
      { op: 'insert', t: a },
      { op: 'insert', t: a },
    ],
    1,
  );
  const line = (text: string, name: string, type: string, queue: number, table: string) =>
    Number(
      new RegExp(
        `^${name}\\{type="${type}",task="jobs",queueNo="${queue}",source_id="src1",worker="w1",target_schema="db",target_table="${table}"\\} (\\d+)$`,
        'm',
      ).exec(text)?.[1],
    );
  const metrics = new Metrics(async () => []);
  let text = await metrics.render();
  assert.equal(line(text, 'dm_syncer_added_jobs_total', 'insert', 0, 't`1'), 2);
  assert.equal(line(text, 'dm_syncer_added_jobs_total', 'update', 0, 't2'), 1);
  assert.equal(line(text, 'dm_syncer_added_jobs_total', 'insert', 1, 't`1'), 1);
  assert.equal(line(text, 'dm_syncer_finished_jobs_total', 'insert', 0, 't`1'), 2);
  assert.match(text, /^dm_syncer_queue_size\{task="jobs",queue_id="0",source_id="src1"\} 1$/m);
  m.committed(0, 0.01, [{ op: 'update', t: b }], 0);
  text = await metrics.render();
  assert.equal(line(text, 'dm_syncer_added_jobs_total', 'insert', 0, 't`1'), 2, 'not counted twice');
  assert.equal(line(text, 'dm_syncer_finished_jobs_total', 'update', 0, 't2'), 1);
});

// DM's own files (test/fixtures/dm/, copied from DM's integration tests) load here, or are refused
// with the reason named: a DM user's files carry over, and nothing in them is dropped silently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSourceConfig, parseTaskConfig } from '../../src/task/config.js';
import { readToml } from '../../src/cli/config-file.js';

const DIR = join(import.meta.dirname, '../fixtures/dm');
const read = (f: string) => readFileSync(join(DIR, f), 'utf8');

test("DM's all_mode task loads, with its deprecated keys warned of", () => {
  const t = parseTaskConfig(read('all_mode-dm-task.yaml'), 'dm-task.yaml');
  assert.equal(t.mysqlInstances.length, 2);
  assert.equal(t.mysqlInstances[0].blockAllowList, 'instance');
  assert.equal(t.mysqlInstances[0].loader.importMode, 'sql');
  assert.deepEqual(t.warnings.map((w) => /'([^']+)'/.exec(w)![1]).sort(), [
    'heartbeat-report-interval',
    'heartbeat-update-interval',
    'syncers.global.enable-ansi-quotes',
    'timezone',
  ]);
});

test("DM's get-config task output (every key written out, nulls, *-thread: 0) loads back", () => {
  const t = parseTaskConfig(read('dmctl_basic-get_task.yaml'), 'get_task.yaml');
  assert.equal(t.shardMode, 'pessimistic');
  const [a] = t.mysqlInstances;
  assert.equal(a.mydumper.threads, 4); // mydumper-thread: 0 is unset
  assert.equal(a.syncer.workerCount, 16);
  assert.equal(a.syncer.compact, true);
  assert.equal(a.loader.onDuplicate, 'replace'); // on-duplicate: "" next to on-duplicate-logical
  assert.ok(a.mydumper.statementSize > 0);
  for (const w of t.warnings) assert.match(w, /has no effect|deprecated|not supported yet|validat/, w);
  assert.equal(t.onlineDDL, true);
});

test("DM's sources: all_mode loads; get-config's source loads with its source-level filters", () => {
  const s = parseSourceConfig(read('all_mode-source1.yaml'), 'source1.yaml');
  assert.equal(s.enableRelay, true);
  assert.equal(s.enableGtid, true);
  assert.deepEqual(s.warnings, []);
  const g = parseSourceConfig(read('dmctl_basic-get_source1.yaml'), 'get_source1.yaml');
  assert.equal(g.serverId, 123456);
  assert.deepEqual(
    g.filters.map((f) => [f.schemaPattern, f.tablePattern, f.sqlPattern, f.action]),
    [
      ['dmctl', 't_1', ['alter table .* add column aaa int'], 'Ignore'],
      ['dmctl', 't_2', ['alter table .* add column aaa int'], 'Ignore'],
    ],
  );
  assert.deepEqual(
    g.warnings.map((w) => /'([^']+)'/.exec(w)![1]).sort(),
    ['auto-fix-gtid', 'from.max-allowed-packet', 'meta-dir', 'tracer'].filter((k) =>
      g.warnings.some((w) => w.includes(`'${k}'`)),
    ),
  );
});

test("DM's all_mode dm-master.toml loads, its etcd and RPC tuning warned of", async () => {
  const warnings: string[] = [];
  const s = await readToml(
    join(DIR, 'all_mode-dm-master.toml'),
    ['master-addr', 'advertise-addr', 'data-dir', 'name'],
    { 'rpc-timeout': 'has no effect', 'auto-compaction-retention': 'has no effect' },
    {},
    warnings,
  );
  assert.equal(s['master-addr'], ':8261');
  assert.equal(warnings.length, 2);
});

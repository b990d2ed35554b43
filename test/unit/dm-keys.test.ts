// No DM key is ignored silently: every key of DM v2's task file (TaskConfig, MySQLInstance,
// MydumperConfig, LoaderConfig, SyncerConfig in pingcap/tiflow dm/config/task.go), source file
// (dm/config/source_config.go) and master/worker TOML is fed to the parser with a value that asks
// for something, and lands in exactly one class: implemented (loads, no warning), warned (loads,
// with a warning naming the key) or refused (an error naming the key and the fix).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parseSourceConfig, parseTaskConfig } from '../../src/task/config.js';
import { readToml, type RefusedIf } from '../../src/cli/config-file.js';

type Class = 'implemented' | 'warned' | 'refused';
type Where = 'task' | 'instance' | 'mydumper' | 'loader' | 'syncer' | 'target';

/** DM key → where it goes, a value that asks for something, and the class expected. */
const TASK_KEYS: [Where, string, unknown, Class][] = [
  ['task', 'name', 'other', 'implemented'],
  ['task', 'task-mode', 'incremental', 'implemented'],
  ['task', 'is-sharding', true, 'implemented'],
  ['task', 'shard-mode', 'optimistic', 'implemented'],
  ['task', 'strict-optimistic-shard-mode', true, 'refused'],
  ['task', 'ignore-checking-items', ['version'], 'implemented'],
  ['task', 'meta-schema', 'm', 'implemented'],
  ['task', 'enable-heartbeat', true, 'warned'],
  ['task', 'heartbeat-update-interval', 2, 'warned'],
  ['task', 'heartbeat-report-interval', 2, 'warned'],
  ['task', 'timezone', 'Asia/Shanghai', 'warned'],
  ['task', 'case-sensitive', true, 'implemented'],
  ['task', 'collation_compatible', 'strict', 'implemented'],
  ['task', 'mariadb2tidb', { mode: 'on' }, 'refused'],
  ['task', 'online-ddl', false, 'implemented'],
  ['task', 'shadow-table-rules', ['^_(.+)_(?:new|gho)$'], 'implemented'],
  ['task', 'trash-table-rules', ['^_(.+)_(?:ghc|del|old)$'], 'implemented'],
  ['task', 'online-ddl-scheme', 'gh-ost', 'warned'],
  ['task', 'routes', { r: { 'schema-pattern': 'd', 'target-schema': 'x' } }, 'implemented'],
  [
    'task',
    'filters',
    { f: { 'schema-pattern': 'd', events: ['truncate table'], action: 'Ignore' } },
    'implemented',
  ],
  [
    'task',
    'column-mappings',
    { c: { 'schema-pattern': 'd', expression: 'add prefix', 'target-column': 'n', arguments: ['x'] } },
    'implemented',
  ],
  // warned in task-mode all: the full copy is not filtered (as in DM)
  ['task', 'expression-filter', { e: { schema: 'd', table: 't', 'insert-value-expr': 'c > 1' } }, 'warned'],
  ['task', 'black-white-list', { other: { 'do-dbs': ['d'] } }, 'implemented'],
  ['task', 'mydumpers', { g: { threads: 2 } }, 'implemented'],
  ['task', 'loaders', { g: { 'pool-size': 2 } }, 'implemented'],
  ['task', 'syncers', { g: { 'worker-count': 2 } }, 'implemented'],
  ['task', 'validators', { v: { mode: 'full', 'row-error-delay': '30m' } }, 'implemented'],
  ['task', 'clean-dump-file', false, 'implemented'],
  ['task', 'ansi-quotes', true, 'warned'],
  ['task', 'remove-meta', true, 'refused'],
  ['task', 'experimental', { 'async-checkpoint-flush': true }, 'warned'],
  ['target', 'session', { sql_mode: 'ANSI' }, 'implemented'],
  ['target', 'max-allowed-packet', 67108864, 'warned'],
  ['target', 'security', { 'ssl-ca': '/ca.pem' }, 'implemented'],
  ['instance', 'meta', { 'binlog-name': 'mysql-bin.000001', 'binlog-pos': 4 }, 'implemented'],
  ['instance', 'filter-rules', [], 'implemented'],
  ['instance', 'column-mapping-rules', [], 'implemented'],
  ['instance', 'route-rules', [], 'implemented'],
  ['instance', 'expression-filters', [], 'implemented'],
  ['instance', 'mydumper-thread', 2, 'implemented'],
  ['instance', 'loader-thread', 2, 'implemented'],
  ['instance', 'syncer-thread', 2, 'implemented'],
  ['mydumper', 'mydumper-path', './bin/mydumper', 'warned'],
  ['mydumper', 'threads', 2, 'implemented'],
  ['mydumper', 'chunk-filesize', '32', 'implemented'],
  ['mydumper', 'statement-size', 1000000, 'implemented'],
  ['mydumper', 'rows', 1000, 'implemented'],
  ['mydumper', 'where', 'id > 0', 'implemented'],
  ['mydumper', 'skip-tz-utc', true, 'implemented'],
  ['mydumper', 'extra-args', '-B d', 'refused'],
  ['loader', 'pool-size', 2, 'implemented'],
  ['loader', 'dir', '/tmp/x', 'implemented'],
  ['loader', 'sorting-dir-physical', '/tmp/s', 'warned'],
  ['loader', 'import-mode', 'logical', 'implemented'],
  ['loader', 'on-duplicate', 'error', 'implemented'],
  ['loader', 'on-duplicate-logical', 'ignore', 'implemented'],
  ['loader', 'on-duplicate-physical', 'manual', 'warned'],
  ['loader', 'disk-quota-physical', '1GiB', 'warned'],
  ['loader', 'checksum-physical', 'off', 'warned'],
  ['loader', 'analyze', 'off', 'warned'],
  ['loader', 'range-concurrency', 4, 'warned'],
  ['loader', 'compress-kv-pairs', 'gz', 'warned'],
  ['loader', 'pd-addr', '127.0.0.1:2379', 'warned'],
  ['syncer', 'meta-file', 'syncer.meta', 'warned'],
  ['syncer', 'worker-count', 2, 'implemented'],
  ['syncer', 'batch', 10, 'implemented'],
  ['syncer', 'queue-size', 2048, 'warned'],
  ['syncer', 'checkpoint-flush-interval', 10, 'warned'],
  ['syncer', 'compact', true, 'implemented'],
  ['syncer', 'multiple-rows', true, 'implemented'],
  ['syncer', 'max-retry', 10, 'warned'],
  ['syncer', 'auto-fix-gtid', true, 'warned'],
  ['syncer', 'enable-gtid', true, 'warned'],
  ['syncer', 'disable-detect', true, 'warned'],
  ['syncer', 'safe-mode', true, 'implemented'],
  ['syncer', 'safe-mode-duration', '10s', 'implemented'],
  ['syncer', 'enable-ansi-quotes', true, 'warned'],
];

const SOURCE_KEYS: [string, unknown, Class][] = [
  ['source-id', 'other', 'implemented'],
  ['enable-gtid', true, 'implemented'],
  ['enable-relay', true, 'implemented'],
  ['relay-binlog-name', 'mysql-bin.000002', 'implemented'],
  ['relay-binlog-gtid', '0-1-5', 'implemented'],
  ['relay-dir', '/tmp/relay', 'implemented'],
  ['purge', { interval: 60 }, 'implemented'],
  ['flavor', 'mariadb', 'implemented'],
  ['server-id', 1234, 'implemented'],
  ['checker', { 'check-enable': false }, 'refused'],
  ['filters', [{ 'schema-pattern': 'd', events: ['drop table'], action: 'Ignore' }], 'implemented'],
  ['case-sensitive', true, 'implemented'],
  ['enable', false, 'refused'],
  ['meta-dir', './meta', 'warned'],
];

function taskWith(where: Where, key: string, value: unknown): string {
  const inst: Record<string, unknown> = { 'source-id': 's1', 'block-allow-list': 'bal' };
  const doc: Record<string, unknown> = {
    name: 't',
    'task-mode': 'all',
    'target-database': { host: '127.0.0.1', port: 3306, user: 'root', password: '' },
    'mysql-instances': [inst],
    'block-allow-list': { bal: { 'do-dbs': ['d'] } },
  };
  if (where === 'task') doc[key] = value;
  else if (where === 'target') (doc['target-database'] as Record<string, unknown>)[key] = value;
  else if (where === 'instance') inst[key] = value;
  else inst[where] = { [key]: value };
  if (key === 'black-white-list') {
    delete doc['block-allow-list'];
    delete inst['block-allow-list'];
    inst['black-white-list'] = 'other';
  }
  if (key === 'task-mode') inst.meta = { 'binlog-name': 'mysql-bin.000001', 'binlog-pos': 4 };
  return stringify(doc);
}

function classify(load: () => { warnings: string[] }, key: string): Class {
  let warnings: string[];
  try {
    warnings = load().warnings;
  } catch (e) {
    const m = (e as Error).message;
    assert.ok(m.includes(`'`) && m.includes(key), `${key}: refused without naming the key: ${m}`);
    assert.match(m, /not supported|refused|not a|is '/, `${key}: ${m}`);
    return 'refused';
  }
  const mine = warnings.filter((w) => w.includes(key));
  assert.equal(mine.length, warnings.length, `${key}: warnings about other keys: ${warnings.join('; ')}`);
  return mine.length ? 'warned' : 'implemented';
}

test('every DM task-file key is implemented, warned of, or refused (never silently ignored)', () => {
  const wrong: string[] = [];
  for (const [where, key, value, expected] of TASK_KEYS) {
    const got = classify(() => parseTaskConfig(taskWith(where, key, value)), key);
    if (got !== expected) wrong.push(`${where} ${key}: ${got}, expected ${expected}`);
  }
  assert.deepEqual(wrong, []);
});

test('every DM source-file key is implemented, warned of, or refused', () => {
  const wrong: string[] = [];
  for (const [key, value, expected] of SOURCE_KEYS) {
    const doc: Record<string, unknown> = {
      'source-id': 's1',
      from: { host: '127.0.0.1', port: 3306, user: 'root', password: '' },
      [key]: value,
    };
    const got = classify(() => parseSourceConfig(stringify(doc)), key);
    if (got !== expected) wrong.push(`${key}: ${got}, expected ${expected}`);
  }
  assert.deepEqual(wrong, []);
});

test('DM keys refused for their value load when their value asks for nothing', () => {
  for (const [where, key, value] of [
    ['task', 'mariadb2tidb', { mode: 'off' }],
    ['task', 'remove-meta', false],
    ['mydumper', 'extra-args', ''],
  ] as [Where, string, unknown][]) {
    assert.equal(
      classify(() => parseTaskConfig(taskWith(where, key, value)), key),
      'implemented',
      key,
    );
  }
  const warned = parseTaskConfig(taskWith('mydumper', 'extra-args', '--consistency none --no-locks'));
  assert.equal(warned.warnings.length, 2);
  assert.match(
    warned.warnings[0],
    /'mysql-instances\[0\]\.mydumper\.extra-args' --consistency none has no effect/,
  );
});

test('master and worker TOML: DM keys with no effect are warned of; several masters and OpenAPI refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dm-ts-keys-'));
  const f = join(dir, 'master.toml');
  await writeFile(
    f,
    'name = "m"\npeer-urls = "http://127.0.0.1:8291"\nauto-compaction-retention = "1h"\nopenapi = false\n',
  );
  const refusedIf: RefusedIf = {
    'initial-cluster': { refuse: (v) => (String(v).includes(',') ? 'several' : undefined), fix: 'one' },
  };
  const warnings: string[] = [];
  const s = await readToml(
    f,
    ['name'],
    { 'peer-urls': 'has no effect', 'auto-compaction-retention': 'has no effect', openapi: 'is false' },
    {},
    warnings,
    refusedIf,
  );
  assert.equal(s.name, 'm');
  assert.deepEqual(
    warnings.map((w) => w.split("'")[1]),
    ['peer-urls', 'auto-compaction-retention', 'openapi'],
  );
  await writeFile(f, 'initial-cluster = "a=http://127.0.0.1:1,b=http://127.0.0.1:2"\n');
  await assert.rejects(
    readToml(f, [], {}, {}, [], refusedIf),
    /'initial-cluster' \(line 1\) asks for several, which is not supported yet/,
  );
});

test('values DM allows load: chunk-filesize 0 (no limit)', () => {
  const t = parseTaskConfig(taskWith('mydumper', 'chunk-filesize', 0));
  assert.equal(t.mysqlInstances[0].mydumper.chunkFilesize, 0);
  assert.deepEqual(t.warnings, []);
});

test("filter events: DM's finer ones refused with a sql-pattern to use; an unknown one drops its rule with a warning, as DM; a typo is an error", () => {
  const withEvents = (events: string[]) =>
    taskWith('task', 'filters', { f: { 'schema-pattern': 'd', events, action: 'Ignore' } }).replace(
      '    block-allow-list: bal\n',
      '    block-allow-list: bal\n    filter-rules: [f]\n',
    );
  assert.throws(
    () => parseTaskConfig(withEvents(['drop column'])),
    /event 'drop column' is not supported yet.*sql-pattern/,
  );
  const t = parseTaskConfig(withEvents(['some future event']));
  assert.equal(t.warnings.length, 1);
  assert.match(t.warnings[0], /filter rule 'f' is dropped: unknown event 'some future event' \(as DM does\)/);
  assert.throws(
    () => parseTaskConfig(withEvents(['insrt'])),
    /unknown event 'insrt'; did you mean 'insert'\?/,
  );
});

test('import-mode physical and import-into are refused as TiDB-only, naming the fix', () => {
  for (const mode of ['physical', 'import-into'])
    assert.throws(
      () => parseTaskConfig(taskWith('loader', 'import-mode', mode)),
      /'mysql-instances\[0\]\.loader\.import-mode' \(line \d+\) is '.*', which is TiDB-only.*Use import-mode: logical|TiDB-only/,
    );
});

test('every DM dm-master.toml / dm-worker.toml key is used, warned of, or refused', async () => {
  const {
    MASTER_DEFAULTS,
    MASTER_REFUSED,
    MASTER_REFUSED_IF,
    MASTER_WARNED,
    WORKER_DEFAULTS,
    WORKER_REFUSED,
    WORKER_WARNED,
  } = await import('../../src/cli/daemon-keys.js');
  const dir = await mkdtemp(join(tmpdir(), 'dm-ts-toml-'));
  const master: [string, string, Class][] = [
    ['name', '"m1"', 'implemented'],
    ['log-level', '"debug"', 'implemented'],
    ['log-file', '"m.log"', 'implemented'],
    ['master-addr', '":8261"', 'implemented'],
    ['advertise-addr', '"127.0.0.1:8261"', 'implemented'],
    ['data-dir', '"./m1"', 'implemented'],
    ['peer-urls', '"http://127.0.0.1:8291"', 'implemented'],
    ['advertise-peer-urls', '"http://127.0.0.1:8291"', 'implemented'],
    ['initial-cluster', '"m1=http://127.0.0.1:8291,m2=http://127.0.0.1:8292"', 'implemented'],
    ['initial-cluster-state', '"new"', 'implemented'],
    ['join', '"127.0.0.1:8261"', 'implemented'],
    ['max-txn-ops', '2048', 'implemented'],
    ['max-request-bytes', '1572864', 'implemented'],
    ['auto-compaction-mode', '"periodic"', 'implemented'],
    ['auto-compaction-retention', '"1h"', 'implemented'],
    ['quota-backend-bytes', '2147483648', 'implemented'],
    ['openapi', 'false', 'implemented'],
    ['v1-sources-path', '"./v1"', 'refused'],
    ['secret-key-path', '"./key"', 'implemented'],
    ['ssl-ca', '"ca.pem"', 'implemented'],
    ['ssl-cert', '"cert.pem"', 'implemented'],
    ['ssl-key', '"key.pem"', 'implemented'],
    ['cert-allowed-cn', '["dm"]', 'implemented'],
    ['rpc-timeout', '"30s"', 'warned'],
    ['rpc-rate-limit', '10.0', 'warned'],
    ['rpc-rate-burst', '40', 'warned'],
  ];
  const worker: [string, string, Class][] = [
    ['name', '"w1"', 'implemented'],
    ['log-level', '"info"', 'implemented'],
    ['log-file', '"w.log"', 'implemented'],
    ['worker-addr', '":8262"', 'implemented'],
    ['advertise-addr', '"127.0.0.1:8262"', 'implemented'],
    ['join', '"127.0.0.1:8261"', 'implemented'],
    ['keepalive-ttl', '60', 'implemented'],
    ['relay-keepalive-ttl', '1800', 'implemented'],
    ['relay-dir', '"./relay"', 'implemented'],
    ['ssl-ca', '"ca.pem"', 'implemented'],
    ['ssl-cert', '"cert.pem"', 'implemented'],
    ['ssl-key', '"key.pem"', 'implemented'],
    ['cert-allowed-cn', '["dm"]', 'implemented'],
  ];
  const wrong: string[] = [];
  for (const [who, keys, known, warned, refused, refusedIf] of [
    [
      'master',
      master,
      Object.keys({ 'log-level': '', 'log-file': '', ...MASTER_DEFAULTS }),
      MASTER_WARNED,
      MASTER_REFUSED,
      MASTER_REFUSED_IF,
    ],
    [
      'worker',
      worker,
      Object.keys({ 'log-level': '', 'log-file': '', ...WORKER_DEFAULTS }),
      WORKER_WARNED,
      WORKER_REFUSED,
      {},
    ],
  ] as const) {
    for (const [key, value, expected] of keys) {
      const f = join(dir, `${who}-${key}.toml`);
      await writeFile(f, `${key} = ${value}\n`);
      const warnings: string[] = [];
      let got: Class;
      try {
        await readToml(f, [...known], warned, refused, warnings, refusedIf);
        got = warnings.some((w) => w.includes(`'${key}'`)) ? 'warned' : 'implemented';
      } catch (e) {
        assert.match((e as Error).message, new RegExp(`'${key}'`), `${who} ${key}`);
        got = 'refused';
      }
      if (got !== expected) wrong.push(`${who} ${key}: ${got}, expected ${expected}`);
    }
  }
  assert.deepEqual(wrong, []);
});

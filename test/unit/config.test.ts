// Task and source files: DM's format parsed with defaults; every mistake a clear error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSourceConfig, parseTaskConfig, shellWords, subTaskConfigs } from '../../src/task/config.js';
import { DMError } from '../../src/errors.js';

const TASK = `# a DM v2 task file
name: test
task-mode: all
shard-mode: pessimistic
meta-schema: "dm_meta"
timezone: "Asia/Shanghai"
online-ddl: true
target-database:
  host: "127.0.0.1"
  port: 4000
  user: "root"
  password: ""
  session:
    tidb_txn_mode: optimistic
mysql-instances:
  - source-id: "mysql-replica-01"
    meta:
      binlog-name: binlog.000001
      binlog-pos: 4
      binlog-gtid: "03fc0263-28c7-11e7-a653-6c0b84d59f30:1-7041423"
    block-allow-list: "instance"
    route-rules: ["sharding-route-rules-table", "sharding-route-rules-schema"]
    filter-rules: ["filter-rule-1"]
    mydumper-config-name: "global"
    loader-config-name: "global"
    syncer-config-name: "global"
  - source-id: "mysql-replica-02"
    block-allow-list: "instance"
    mydumper-thread: 2
    loader:
      pool-size: 3
      on-duplicate: error
    syncer-thread: 8
routes:
  sharding-route-rules-table:
    schema-pattern: "test_*"
    table-pattern: "t_*"
    target-schema: "test"
    target-table: "t"
  sharding-route-rules-schema:
    schema-pattern: "test_*"
    target-schema: "test"
filters:
  filter-rule-1:
    schema-pattern: "test_*"
    table-pattern: "t_*"
    events: ["truncate table", "drop table"]
    action: Ignore
block-allow-list:
  instance:
    do-dbs: ["~^test.*", "user"]
    ignore-dbs: ["mysql", "account"]
    do-tables:
    - db-name: "~^test.*"
      tbl-name: "~^t.*"
    ignore-tables:
    - db-name: "user"
      tbl-name: "log"
mydumpers:
  global:
    threads: 4
    chunk-filesize: 64
    skip-tz-utc: true
    extra-args: "--consistency none"
loaders:
  global:
    pool-size: 16
    dir: "./dumped_data"
syncers:
  global:
    worker-count: 16
    batch: 100
    safe-mode: false
`;

function configError(f: () => unknown, re: RegExp): DMError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof DMError, String(e));
    assert.match(e.message, re);
    assert.equal(e.code, 20101);
    return e;
  }
  assert.fail('expected a config error');
}

test('a DM v2 task file parses with its values and DM defaults', () => {
  const t = parseTaskConfig(TASK);
  assert.equal(t.name, 'test');
  assert.equal(t.taskMode, 'all');
  assert.equal(t.shardMode, 'pessimistic');
  assert.deepEqual(t.targetDatabase, {
    host: '127.0.0.1',
    port: 4000,
    user: 'root',
    password: '',
    session: { tidb_txn_mode: 'optimistic' },
  });
  const [a, b] = t.mysqlInstances;
  assert.deepEqual(a.meta, {
    binlogName: 'binlog.000001',
    binlogPos: 4,
    binlogGtid: '03fc0263-28c7-11e7-a653-6c0b84d59f30:1-7041423',
  });
  assert.equal(a.mydumper.threads, 4);
  assert.equal(a.mydumper.skipTzUtc, true);
  assert.equal(a.loader.onDuplicate, 'replace');
  assert.equal(b.mydumper.threads, 2);
  assert.equal(b.loader.poolSize, 3);
  assert.equal(b.loader.onDuplicate, 'error');
  assert.equal(b.syncer.workerCount, 8);
  assert.equal(a.syncer.batch, 100);
  assert.equal(b.syncer.batch, 1000); // our default (DM's is 100)
  assert.equal(t.cleanDumpFile, true);
  assert.equal(t.metaSchema, 'dm_meta');
  assert.equal(t.routes.get('sharding-route-rules-table')!.targetTable, 't');
  assert.deepEqual(t.filters.get('filter-rule-1')!.events, ['truncate table', 'drop table']);
  assert.deepEqual(t.blockAllowList.get('instance')!.ignoreTables, [{ dbName: 'user', tblName: 'log' }]);
});

test('the old black-white-list and is-sharding keys still work', () => {
  const t = parseTaskConfig(
    TASK.replace('shard-mode: pessimistic', 'is-sharding: true').replace(
      /block-allow-list/g,
      'black-white-list',
    ),
  );
  assert.equal(t.shardMode, 'pessimistic');
  assert.ok(t.blockAllowList.has('instance'));
});

test('YAML syntax errors name the line', () => {
  configError(
    () => parseTaskConfig('name: x\ntask-mode: [full\ntarget-database: {}', 'task.yaml'),
    /^task\.yaml: invalid YAML at line \d+, column \d+/,
  );
});

test('unknown keys are errors that suggest the right key', () => {
  const e = configError(
    () => parseTaskConfig(TASK.replace('task-mode: all', 'task-mod: all\ntask-mode: all')),
    /'task-mod' \(line 3\) is not a known key/,
  );
  assert.match(e.workaround, /Did you mean 'task-mode'\?/);
  const e2 = configError(
    () => parseTaskConfig(TASK.replace('pool-size: 16', 'pool-sise: 16')),
    /'loaders\.global\.pool-sise'/,
  );
  assert.match(e2.workaround, /pool-size/);
});

test('wrong values name the key and the allowed values', () => {
  const e = configError(
    () => parseTaskConfig(TASK.replace('task-mode: all', 'task-mode: everything')),
    /'task-mode' \(line 3\) is 'everything'/,
  );
  assert.match(e.workaround, /'full', 'incremental', 'all'/);
  configError(
    () => parseTaskConfig(TASK.replace('threads: 4', 'threads: four')),
    /'mydumpers\.global\.threads' \(line \d+\) must be a whole number, not 'four'/,
  );
  configError(
    () => parseTaskConfig(TASK.replace('port: 4000', 'port: 70000')),
    /'target-database\.port' .* out of range/,
  );
  configError(
    () => parseTaskConfig(TASK.replace('on-duplicate: error', 'on-duplicate: overwrite')),
    /on-duplicate/,
  );
  configError(
    () => parseTaskConfig(TASK.replace('name: test', 'name: "bad name!"')),
    /'name' \(line 2\) is 'bad name!'/,
  );
  // the checkpoint table <name>_syncer_checkpoint must fit 64 characters
  assert.equal(parseTaskConfig(TASK.replace('name: test', `name: ${'n'.repeat(46)}`)).name.length, 46);
  assert.throws(
    () => parseTaskConfig(TASK.replace('name: test', `name: ${'n'.repeat(47)}`)),
    /'name' \(line 2\) is 'n+' \(47 characters\).*Use 1-46 letters.*_syncer_checkpoint/s,
  );
});

test('references to undefined rules and missing required keys are errors', () => {
  configError(
    () => parseTaskConfig(TASK.replace('["filter-rule-1"]', '["nope"]')),
    /names filters 'nope', which is not defined/,
  );
  configError(
    () => parseTaskConfig(TASK.replace('mydumper-config-name: "global"', 'mydumper-config-name: "fast"')),
    /names mydumpers 'fast'/,
  );
  configError(
    () => parseTaskConfig('name: x\ntask-mode: full\nmysql-instances: [{source-id: a}]\n'),
    /'target-database' is required/,
  );
  configError(
    () => parseTaskConfig(TASK.replace('source-id: "mysql-replica-02"', 'source-id: "mysql-replica-01"')),
    /listed twice/,
  );
});

test('every problem of a file is reported at once, unknown keys first', () => {
  const e = configError(
    () =>
      parseTaskConfig(
        TASK.replace('task-mode: all', 'task-mode: everything')
          .replace('["filter-rule-1"]', '["nope"]')
          .replace('threads: 4', 'threads: four')
          .replace('    batch: 100', '    batch: 100\n    bach: 5'),
      ),
    /task\.yaml: 4 problems: 1\) 'syncers\.global\.bach' \(line \d+\) is not a known key \(Did you mean 'batch'\?\); 2\) 'task-mode' \(line 3\) is 'everything' \(Use one of: .*\); 3\) 'mysql-instances\[0\]\.filter-rules' names filters 'nope', which is not defined \(.*\); 4\) 'mydumpers\.global\.threads' \(line \d+\) must be a whole number, not 'four'/,
  );
  assert.match(e.workaround, /Fix each problem listed/);
  configError(
    () => parseSourceConfig('source-id: s\nenable-gtid: maybe\nfrom: {host: h, user: u, prot: 1}\n'),
    /2 problems: 1\) 'from\.prot' \(line 3\) is not a known key .*; 2\) 'enable-gtid' \(line 2\) must be true or false/,
  );
});

test('source files parse; subtasks need every source the task names', () => {
  const s = parseSourceConfig(
    'source-id: "mysql-replica-01"\nenable-gtid: true\nfrom:\n  host: 127.0.0.1\n  user: root\n  password: "x"\n  port: 3307\n',
  );
  assert.equal(s.sourceId, 'mysql-replica-01');
  assert.equal(s.enableGtid, true);
  assert.equal(s.enableRelay, false);
  assert.deepEqual(s.from, { host: '127.0.0.1', port: 3307, user: 'root', password: 'x', session: {} });
  configError(() => parseSourceConfig('source-id: a\n'), /'from' is required/);
  const t = parseTaskConfig(TASK);
  configError(() => subTaskConfigs(t, [s]), /uses source 'mysql-replica-02', which is not known/);
  const subs = subTaskConfigs(t, [s, { ...s, sourceId: 'mysql-replica-02' }]);
  assert.equal(subs.length, 2);
  assert.equal(subs[1].instance.loader.poolSize, 3);
  assert.equal(subs[1].source.sourceId, 'mysql-replica-02');
});

test('patterns, GTID sets and conflicting routes are refused when the file is read, naming the key and its line', () => {
  configError(
    () => parseTaskConfig(TASK.replace('do-dbs: ["~^test.*", "user"]', 'do-dbs: ["~^test(", "user"]')),
    /'block-allow-list\.instance\.do-dbs' \(line \d+\) is '~\^test\(', which is not a valid pattern/,
  );
  configError(
    () => parseTaskConfig(TASK.replace('tbl-name: "~^t.*"', 'tbl-name: "~[t"')),
    /tbl-name' \(line \d+\) is '~\[t', which is not a valid pattern/,
  );
  configError(
    () =>
      parseTaskConfig(
        TASK.replace('table-pattern: "t_*"\n    target-schema', 'table-pattern: "~*"\n    target-schema'),
      ),
    /routes\.sharding-route-rules-table\.table-pattern' \(line 37\) is '~\*'/,
  );
  configError(
    () =>
      parseTaskConfig(
        TASK.replace('binlog-gtid: "03fc0263-28c7-11e7-a653-6c0b84d59f30:1-7041423"', 'binlog-gtid: "0-1"'),
      ),
    /'mysql-instances\[0\]\.meta\.binlog-gtid' \(line \d+\) is '0-1', which is not a GTID set/,
  );
  configError(
    () =>
      parseTaskConfig(
        TASK.replace(
          '  sharding-route-rules-schema:\n    schema-pattern: "test_*"',
          '  sharding-route-rules-schema:\n    schema-pattern: "test_*"\n    table-pattern: "T_*"',
        ),
      ),
    /route-rules' \(line \d+\) names routes 'sharding-route-rules-table' and 'sharding-route-rules-schema', which both match schema-pattern 'test_\*' and table-pattern 'T_\*'/,
  );
  assert.throws(
    () =>
      parseSourceConfig(
        'source-id: s\nfrom: {host: h, port: 1, user: u, password: ""}\nrelay-binlog-gtid: "nope"\n',
      ),
    /'relay-binlog-gtid' \(line 3\) is 'nope', which is not a GTID set/,
  );
});

test('a source file given as a task file, or a task file as a source file, says so', () => {
  configError(
    () => parseTaskConfig('source-id: s\nfrom: {host: h, port: 1, user: u, password: ""}\n', 'source1.yaml'),
    /^source1\.yaml: this is a source file \(it has source-id\), not a task file$/,
  );
  configError(
    () => parseSourceConfig(TASK, 'task.yaml'),
    /^task\.yaml: this is a task file \(it has mysql-instances\), not a source file$/,
  );
});

test('the example files in examples/ load as they are', async () => {
  const { readFile } = await import('node:fs/promises');
  const task = parseTaskConfig(await readFile('examples/task.yaml', 'utf8'), 'examples/task.yaml');
  const source = parseSourceConfig(await readFile('examples/source.yaml', 'utf8'), 'examples/source.yaml');
  assert.equal(task.name, 'my-task');
  assert.equal(source.sourceId, 'mysql-replica-01');
  assert.equal(subTaskConfigs(task, [source]).length, 1);
  const { readToml } = await import('../../src/cli/config-file.js');
  const master = await readToml(
    'examples/dm-master.toml',
    ['name', 'master-addr', 'advertise-addr', 'data-dir', 'log-level', 'log-file'],
    [],
  );
  assert.equal(master['master-addr'], '127.0.0.1:8261');
  const worker = await readToml(
    'examples/dm-worker.toml',
    ['name', 'worker-addr', 'advertise-addr', 'join', 'keepalive-ttl', 'relay-dir', 'log-level', 'log-file'],
    [],
  );
  assert.equal(worker.join, '127.0.0.1:8261');
});

test("a database's security (DM's keys) is its TLS; empty values ask for nothing; the CN list is refused", () => {
  const src = (sec: string) =>
    parseSourceConfig(
      `source-id: s\nfrom:\n  host: h\n  port: 1\n  user: u\n  password: ""\n  security:\n${sec}`,
    );
  assert.deepEqual(src('    ssl-ca: /etc/ca.pem\n    ssl-cert: c.pem\n    ssl-key: k.pem\n').from.tls, {
    caFile: '/etc/ca.pem',
    certFile: 'c.pem',
    keyFile: 'k.pem',
    ca: undefined,
    cert: undefined,
    key: undefined,
    verifyServerCert: true,
    where: 'from.security',
  });
  assert.equal(
    src('    ssl-ca-bytes: PEM\n    ssl-verify-server-cert: false\n').from.tls?.verifyServerCert,
    false,
  );
  assert.equal(
    src('    ssl-ca: ""\n    ssl-cert: ""\n').from.tls,
    undefined,
    "DM's get-config output: no TLS",
  );
  configError(
    () => src('    cert-allowed-cn: [dm]\n'),
    /'from\.security\.cert-allowed-cn' \(line \d+\) applies to the TLS of dm-master/,
  );
  configError(() => src('    ssl-capath: /x\n'), /ssl-capath/);
  const t = parseTaskConfig(
    TASK.replace(
      '  password: ""\n  session:',
      '  password: ""\n  security:\n    ssl-cert-bytes: "c"\n    ssl-key-bytes: "k"\n  session:',
    ),
  );
  assert.equal(t.targetDatabase.tls?.where, 'target-database.security');
});

test("a source file's filters join each subtask's rules after the task's; a task rule for the same tables wins", () => {
  const task = parseTaskConfig(TASK);
  const src = (id: string, extra: string) =>
    parseSourceConfig(`source-id: "${id}"\nfrom: {host: 127.0.0.1, user: root, password: ""}\n${extra}`);
  const s1 = src(
    'mysql-replica-01',
    `case-sensitive: true
filters:
  - {schema-pattern: "test_*", table-pattern: "t_*", events: [delete], action: Ignore}
  - {schema-pattern: other, events: [truncate table], action: Ignore}
`,
  );
  const [a, b] = subTaskConfigs(task, [s1, src('mysql-replica-02', '')]);
  assert.deepEqual(a.instance.filterRules, ['filter-rule-1', 'source:mysql-replica-01:1']);
  assert.equal(a.filters.get('source:mysql-replica-01:1')?.schemaPattern, 'other');
  assert.equal(a.caseSensitive, true);
  assert.match(
    a.warnings.join('\n'),
    /source mysql-replica-01: its filters\[0\] .* is overridden by the task's filter 'filter-rule-1', as in DM/,
  );
  assert.deepEqual(b.instance.filterRules, []);
  assert.equal(b.caseSensitive, false);
  // an unknown event: the rule is dropped with a warning, as DM does for a task's rules
  const odd = src('x', 'filters:\n  - {schema-pattern: d, events: [no such event], action: Ignore}\n');
  assert.match(odd.warnings.join('\n'), /no such event/);
});

test("ignore-checking-items takes DM's item names only: a typo would leave a check on", () => {
  assert.deepEqual(
    parseTaskConfig(
      TASK.replace('task-mode: all', 'task-mode: all\nignore-checking-items: [version, auto_increment_ID]'),
    ).ignoreCheckingItems,
    ['version', 'auto_increment_ID'],
  );
  const e = configError(
    () =>
      parseTaskConfig(TASK.replace('task-mode: all', 'task-mode: all\nignore-checking-items: [server-id]')),
    /'ignore-checking-items' \(line 4\) names 'server-id', which is not a checking item/,
  );
  assert.match(e.workaround, /Did you mean 'server_id'\? DM's items: all, dump_privilege/);
});

test("online-ddl is on by default with DM's gh-ost/pt-osc rules; given rules are anchored; a rule without one group is refused", () => {
  const t = parseTaskConfig(TASK.replace('online-ddl: true\n', ''));
  assert.equal(t.onlineDDL, true);
  assert.deepEqual(t.shadowTableRules, ['^_(.+)_(?:new|gho)$']);
  assert.deepEqual(t.trashTableRules, ['^_(.+)_(?:ghc|del|old)$']);
  const off = parseTaskConfig(TASK.replace('online-ddl: true', 'online-ddl: false'));
  assert.equal(off.onlineDDL, false);
  const scheme = parseTaskConfig(
    TASK.replace('online-ddl: true', 'online-ddl: false\nonline-ddl-scheme: gh-ost'),
  );
  assert.equal(scheme.onlineDDL, true);
  assert.ok(scheme.warnings.some((w) => /'online-ddl-scheme' is deprecated/.test(w)));
  const own = parseTaskConfig(
    TASK.replace(
      'online-ddl: true',
      'online-ddl: true\nshadow-table-rules: ["_(.+)_shadow"]\ntrash-table-rules: ["^_(.+)_trash$"]',
    ),
  );
  assert.deepEqual(own.shadowTableRules, ['^_(.+)_shadow$']);
  assert.deepEqual(own.trashTableRules, ['^_(.+)_trash$']);
  configError(
    () =>
      parseTaskConfig(TASK.replace('online-ddl: true', 'online-ddl: true\nshadow-table-rules: ["_x_new"]')),
    /'shadow-table-rules' \(line \d+\) \[0\] '_x_new' must have exactly one group \(the real table's name\), it has 0/,
  );
  configError(
    () => parseTaskConfig(TASK.replace('online-ddl: true', 'online-ddl: true\ntrash-table-rules: ["(a"]')),
    /'trash-table-rules' \(line \d+\) \[0\] '\(a' is not a regular expression/,
  );
  configError(
    () => parseTaskConfig(TASK.replace('online-ddl: true', 'online-ddl-scheme: lhm')),
    /'online-ddl-scheme'/,
  );
});

test("mydumpers extra-args: dumpling's --where, -T/--tables-list and -d/--no-data act, quoted as a shell; others refused", () => {
  assert.deepEqual(shellWords(`--where "id > 10 AND name = 'a b'" -T a.t1,b.t2 -d`), [
    '--where',
    "id > 10 AND name = 'a b'",
    '-T',
    'a.t1,b.t2',
    '-d',
  ]);
  assert.deepEqual(shellWords(`--where='x = "1"' a\\ b`), ['--where=x = "1"', 'a b']);
  assert.equal(shellWords(`--where "x`), undefined);
  const md = (extra: string, where = '') =>
    parseTaskConfig(
      TASK.replace('extra-args: "--consistency none"', `extra-args: ${JSON.stringify(extra)}${where}`),
    ).mysqlInstances[0].mydumper;
  const m = md(`--where "id > 10" --tables-list user.a,test1.t -d`);
  assert.equal(m.where, 'id > 10');
  assert.deepEqual(m.tablesList, [
    { db: 'user', table: 'a' },
    { db: 'test1', table: 't' },
  ]);
  assert.equal(m.noData, true);
  assert.equal(md('--where=id<5').where, 'id<5');
  assert.equal(md('').noData, false);
  configError(() => md('--where "a" ', '\n    where: "b"'), /has --where and the config has where: 'b'/);
  configError(() => md('-T nodot'), /-T 'nodot', which is not db.table/);
  configError(() => md('--where'), /--where without its value/);
  configError(
    () => md('-B db'),
    /has '-B', which is not supported.*takes dumpling's --where, -T\/--tables-list, -d\/--no-data/,
  );
  configError(() => md(`--where 'x`), /quote that is not closed/);
  const w = parseTaskConfig(
    TASK.replace('extra-args: "--consistency none"', 'extra-args: "-T user.a"'),
  ).warnings;
  assert.match(
    w.join('\n'),
    /-T: only the listed tables are copied; Sync still follows the block-allow list/,
  );
});

test("validators: DM's keys and defaults, validator-config-name per instance, each mistake named", () => {
  const base = `name: v
task-mode: incremental
target-database: {host: 127.0.0.1, port: 3306, user: root}
mysql-instances:
  - source-id: s1
    validator-config-name: full
  - source-id: s2
validators:
  full:
    mode: full
    worker-count: 2
    row-error-delay: 3s
    validate-interval: 500ms
    meta-flush-interval: 1m
    batch-query-size: 50
    max-pending-row-size: 64m
    max-pending-row-count: 1000
`;
  const cfg = parseTaskConfig(base);
  const [a, b] = cfg.mysqlInstances.map((i) => i.validator);
  assert.equal(a.mode, 'full');
  assert.equal(a.workerCount, 2);
  assert.equal(a.rowErrorDelay, 3);
  assert.equal(a.validateInterval, 0.5);
  assert.equal(a.checkInterval, 5);
  assert.equal(a.metaFlushInterval, 60);
  assert.equal(a.batchQuerySize, 50);
  assert.equal(a.maxPendingRowSize, 64 * 1024 * 1024);
  assert.equal(a.maxPendingRowCount, 1000);
  assert.equal(b.mode, 'none');
  assert.throws(() => parseTaskConfig(base.replace('mode: full', 'mode: slow')), /mode/);
  assert.throws(() => parseTaskConfig(base.replace('64m', 'lots')), /max-pending-row-size/);
  assert.throws(
    () => parseTaskConfig(base.replace('validator-config-name: full', 'validator-config-name: nope')),
    /nope/,
  );
  assert.throws(
    () => parseTaskConfig(base.replace('batch-query-size', 'batch-query-sise')),
    /batch-query-sise/,
  );
});

test("durations in Go's form, as DM writes them", async () => {
  const { parseDuration } = await import('../../src/task/config.js');
  assert.equal(parseDuration('30m0s'), 1800);
  assert.equal(parseDuration('1h2m3.5s'), 3723.5);
  assert.equal(parseDuration('500ms'), 0.5);
  assert.equal(parseDuration('60'), 60);
  assert.equal(parseDuration('0s'), 0);
  assert.equal(parseDuration('5 minutes'), undefined);
  assert.equal(parseDuration(''), undefined);
});

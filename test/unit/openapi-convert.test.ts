// DM's OpenAPI shapes to DM files and back, as DM's converter reads them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiSource, apiSubTaskStatus, apiTask, sourceFile, taskFile } from '../../src/api/openapi-convert.js';
import { parseSourceConfig, parseTaskConfig } from '../../src/task/config.js';
import type { QueryStatus } from '../../src/task/status.js';

const TASK = {
  name: 'task-1',
  task_mode: 'all',
  shard_mode: 'pessimistic',
  meta_schema: 'dm_meta',
  enhance_online_schema_change: true,
  on_duplicate: 'error',
  target_config: { host: '127.0.0.1', port: 4000, user: 'root', password: 'pw' },
  binlog_filter_rule: { 'no-drop': { ignore_event: ['drop table'], ignore_sql: ['^TRUNCATE'] } },
  table_migrate_rule: [
    {
      source: { source_name: 's1', schema: 'db-*', table: 'tb-*' },
      target: { schema: 'db', table: 'tb' },
      binlog_filter_rule: ['no-drop'],
    },
    { source: { source_name: 's1', schema: 'log', table: '' } },
    { source: { source_name: 's2', schema: 'db-*', table: 'tb-*' }, target: { schema: 'db', table: 'tb' } },
  ],
  source_config: {
    full_migrate_conf: { export_threads: 2, import_threads: 3, data_dir: '/tmp/d' },
    incr_migrate_conf: { repl_threads: 5, repl_batch: 50, safe_mode: true },
    source_conf: [
      { source_name: 's1', binlog_name: 'mysql-bin.000002', binlog_pos: 4 },
      { source_name: 's2' },
    ],
  },
};

test("an OpenAPI task becomes the task file DM's converter reads", () => {
  const t = parseTaskConfig(taskFile(TASK));
  assert.equal(t.name, 'task-1');
  assert.equal(t.shardMode, 'pessimistic');
  const [s1, s2] = t.mysqlInstances;
  assert.deepEqual(s1.meta, { binlogName: 'mysql-bin.000002', binlogPos: 4, binlogGtid: '' });
  assert.equal(s2.meta, undefined);
  assert.deepEqual(t.blockAllowList.get(s1.blockAllowList), {
    doDbs: ['log'],
    ignoreDbs: [],
    doTables: [{ dbName: 'db-*', tblName: 'tb-*' }],
    ignoreTables: [],
  });
  assert.deepEqual(
    s1.routeRules
      .map((n) => t.routes.get(n))
      .map((r) => [r!.schemaPattern, r!.tablePattern, r!.targetSchema, r!.targetTable]),
    [['db-*', 'tb-*', 'db', 'tb']],
  );
  assert.deepEqual(
    s1.filterRules.map((n) => t.filters.get(n)),
    [
      {
        schemaPattern: 'db-*',
        tablePattern: 'tb-*',
        events: ['drop table'],
        sqlPattern: ['^TRUNCATE'],
        action: 'Ignore',
      },
    ],
  );
  assert.deepEqual(
    [s1.mydumper.threads, s1.loader.poolSize, s1.loader.dir, s1.loader.onDuplicate],
    [2, 3, '/tmp/d', 'error'],
  );
  assert.deepEqual([s2.syncer.workerCount, s2.syncer.batch, s2.syncer.safeMode], [5, 50, true]);
  // and back: the same rules (each filter template under the name of its source's rule)
  const back = apiTask(t);
  const key = (r: { source: { source_name: string; schema: string } }) =>
    r.source.source_name + r.source.schema;
  const sorted = (rs: { source: { source_name: string; schema: string } }[]) =>
    [...rs].sort((a, b) => key(a).localeCompare(key(b)));
  const named = s1.filterRules[0];
  assert.deepEqual(
    sorted(back.table_migrate_rule),
    sorted(
      TASK.table_migrate_rule.map((r) =>
        r.binlog_filter_rule ? { ...r, binlog_filter_rule: [named] } : r.target ? r : { source: r.source },
      ),
    ),
  );
  assert.deepEqual(back.binlog_filter_rule, { [named]: TASK.binlog_filter_rule['no-drop'] });
  assert.equal(back.target_config.password, '******');
});

test('bad OpenAPI tasks and sources are refused naming the field', () => {
  assert.throws(
    () =>
      taskFile({
        ...TASK,
        table_migrate_rule: [{ source: TASK.table_migrate_rule[0].source, binlog_filter_rule: ['nope'] }],
      }),
    /names binlog_filter_rule 'nope', which is not defined/,
  );
  assert.throws(() => taskFile({ ...TASK, status_list: [] }), /status_list is an answer field/);
  assert.throws(
    () => sourceFile({ source_name: 's', host: 'h', port: 1, user: 'u', enable: false }),
    /enable false/,
  );
});

test('an OpenAPI source becomes a source file and back', () => {
  const s = {
    source_name: 'mysql-01',
    host: '127.0.0.1',
    port: 3306,
    user: 'root',
    password: 'x',
    enable_gtid: true,
    enable: true,
    flavor: 'mariadb',
    purge: { interval: 60, expires: 2, remain_space: 3 },
    relay_config: { enable_relay: true, relay_dir: '/r' },
  };
  const c = parseSourceConfig(sourceFile(s));
  assert.deepEqual(
    [c.sourceId, c.from.port, c.enableGtid, c.flavor, c.enableRelay, c.relayDir],
    ['mysql-01', 3306, true, 'mariadb', true, '/r'],
  );
  assert.deepEqual(c.purge, { interval: 60, expires: 2, remainSpace: 3 });
  const back = apiSource(c, ['t1']);
  assert.equal(back.password, '******');
  assert.deepEqual(back.task_name_list, ['t1']);
  assert.deepEqual(back.purge, s.purge);
});

test("query-status becomes DM's SubTaskStatus (numbers as numbers, snake_case)", () => {
  const q: QueryStatus = {
    result: true,
    msg: '',
    workers: [
      {
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
            unresolvedDDLLockID: '',
            sync: {
              totalEvents: '12',
              totalTps: '1',
              recentTps: '2',
              masterBinlog: '(a, 4)',
              synced: true,
              secondsBehindMaster: '0',
              blockingDDLs: [],
              unresolvedGroups: [
                { target: '`d`.`t`', DDLs: ['x'], firstPos: '(a, 9)', synced: ['a'], unsynced: ['b'] },
              ],
            },
          },
        ],
      },
    ],
  };
  const [st] = apiSubTaskStatus(q);
  assert.equal(st.source_name, 's1');
  assert.equal(st.worker_name, '127.0.0.1:8262');
  assert.equal(st.sync_status.total_events, 12);
  assert.equal(st.sync_status.synced, true);
  assert.deepEqual(st.sync_status.unresolved_groups, [
    { target: '`d`.`t`', ddl_list: ['x'], first_location: '(a, 9)', synced: ['a'], unsynced: ['b'] },
  ]);
});

// Routes and the binlog event filter (pure), and how routed names are written into DDL and into
// the dump's INSERT statements.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { routeStatement, tableRouter } from '../../src/rules/route.js';
import { eventFilter } from '../../src/rules/event-filter.js';
import {
  adjustRule,
  DEFAULT_SHADOW_RULES,
  DEFAULT_TRASH_RULES,
  OnlineTables,
} from '../../src/rules/online-ddl.js';
import { addExtraColumns, applyOnDuplicate } from '../../src/units/load/load.js';
import { parseTaskConfig } from '../../src/task/config.js';
import type { FilterRule } from '../../src/rules/event-filter.js';
import type { RouteRule } from '../../src/rules/route.js';

const route = (
  schemaPattern: string,
  tablePattern: string,
  targetSchema: string,
  targetTable = '',
): RouteRule => ({
  schemaPattern,
  tablePattern,
  targetSchema,
  targetTable,
});

test('routes: table rules win over schema rules; empty targets keep the name; no rule is identity', () => {
  const r = tableRouter([
    ['shards', route('shard_*', 't_*', 'merged', 't')],
    ['schema', route('shard_*', '', 'merged_db')],
    ['exact', route('app', 'users', 'app2')],
  ]);
  assert.deepEqual(r.route('shard_1', 't_01'), { db: 'merged', table: 't' });
  assert.deepEqual(r.route('SHARD_2', 'T_9'), { db: 'merged', table: 't' }, 'case-insensitive by default');
  assert.deepEqual(r.route('shard_1', 'other'), { db: 'merged_db', table: 'other' });
  assert.deepEqual(r.route('shard_1', ''), { db: 'merged_db', table: '' });
  assert.deepEqual(r.route('app', 'users'), { db: 'app2', table: 'users' });
  assert.deepEqual(r.route('app', 'orders'), { db: 'app', table: 'orders' });
  assert.equal(r.active, true);
  assert.equal(tableRouter([]).active, false);
  const cs = tableRouter([['x', route('A', '', 'b')]], true);
  assert.deepEqual(cs.route('a', 't'), { db: 'a', table: 't' });
});

test('routes: two matching rules of one level are an error naming them', () => {
  const r = tableRouter([
    ['r1', route('db*', 't', 'x')],
    ['r2', route('d*', 't', 'y')],
  ]);
  assert.throws(() => r.route('db1', 't'), /`db1`\.`t` matches 2 table route rules \(r1, r2\)/);
});

test('routed DDL: every named table and schema is rewritten, qualified', () => {
  const r = tableRouter([
    ['t', route('s*', 't*', 'm', 'tt')],
    ['d', route('s*', '', 'm')],
  ]);
  assert.equal(
    routeStatement('ALTER TABLE t1 ADD COLUMN c INT', 's1', r),
    'ALTER TABLE `m`.`tt` ADD COLUMN c INT',
  );
  assert.equal(
    routeStatement('/* x */ alter table `s2`.`t2` add index (a)', 'other', r),
    'alter table `m`.`tt` add index (a)',
  );
  assert.equal(
    routeStatement('CREATE TABLE IF NOT EXISTS `t3` (id INT) ENGINE=InnoDB', 's1', r),
    'CREATE TABLE IF NOT EXISTS `m`.`tt` (id INT) ENGINE=InnoDB',
  );
  assert.equal(routeStatement('DROP TABLE s1.t1, s1.u', 'x', r), 'DROP TABLE `m`.`tt`, `m`.`u`');
  assert.equal(routeStatement('RENAME TABLE u TO t5', 's1', r), 'RENAME TABLE `m`.`u` TO `m`.`tt`');
  assert.equal(routeStatement('TRUNCATE s1.t1', 'x', r), 'TRUNCATE `m`.`tt`');
  assert.equal(routeStatement('CREATE INDEX i ON t1 (a)', 's1', r), 'CREATE INDEX i ON `m`.`tt` (a)');
  assert.equal(
    routeStatement('CREATE DATABASE IF NOT EXISTS `s9` DEFAULT CHARSET utf8mb4', 'x', r),
    'CREATE DATABASE IF NOT EXISTS `m` DEFAULT CHARSET utf8mb4',
  );
  assert.equal(routeStatement('INSERT INTO t1 VALUES (1)', 's1', r), 'INSERT INTO t1 VALUES (1)');
});

test("the dump's INSERT is written into the routed table, with the on-duplicate policy", () => {
  const sql = Buffer.from('INSERT INTO `t_01` (`id`) VALUES (1)');
  assert.equal(
    applyOnDuplicate(sql, 'error', '`t_01`', '`t`').toString(),
    'INSERT INTO `t` (`id`) VALUES (1)',
  );
  assert.equal(
    applyOnDuplicate(sql, 'replace', '`t_01`', '`t`').toString(),
    'REPLACE INTO `t` (`id`) VALUES (1)',
  );
  assert.equal(
    applyOnDuplicate(sql, 'ignore', '`t_01`', '`t_01`').toString(),
    'INSERT IGNORE INTO `t_01` (`id`) VALUES (1)',
  );
  assert.equal(applyOnDuplicate(sql, 'error', '`t_01`', '`t_01`'), sql);
});

const filter = (
  schemaPattern: string,
  tablePattern: string,
  events: string[],
  action: FilterRule['action'],
  sqlPattern: string[] = [],
): FilterRule => ({ schemaPattern, tablePattern, events, sqlPattern, action });

test('event filter: Ignore on a match, Do rules drop what they do not match, Error stops', () => {
  const f = eventFilter([
    ['no-deletes', filter('shop', 'orders', ['delete'], 'Ignore')],
    ['no-drops', filter('shop', '', ['drop table', 'truncate table'], 'Ignore')],
    ['only-inserts', filter('log*', '', ['insert', 'all ddl'], 'Do')],
    ['no-alter-drop', filter('shop', '', [], 'Ignore', ['^ALTER\\s+TABLE\\s+\\S+\\s+DROP\\s+COLUMN'])],
    ['guard', filter('bank', '', ['drop database'], 'Error')],
  ]);
  assert.equal(f.action('shop', 'orders', 'delete'), 'Ignore');
  assert.equal(f.action('shop', 'orders', 'insert'), 'Do');
  assert.equal(f.action('shop', 'users', 'delete'), 'Do');
  assert.equal(f.action('shop', 'users', 'drop table', 'DROP TABLE users'), 'Ignore');
  assert.equal(f.action('shop', 'users', 'alter table', 'alter table users drop column x'), 'Ignore');
  assert.equal(f.action('shop', 'users', 'alter table', 'ALTER TABLE users ADD COLUMN x INT'), 'Do');
  assert.equal(f.action('logs', 'x', 'insert'), 'Do');
  assert.equal(f.action('logs', 'x', 'update'), 'Ignore');
  assert.equal(f.action('logs', 'x', 'create table', 'CREATE TABLE x (a INT)'), 'Do');
  assert.equal(f.action('bank', '', 'drop database', 'DROP DATABASE bank'), 'Error');
  assert.equal(f.action('other', 't', 'delete'), 'Do');
});

test('event filter config: unknown events and bad regexes are errors naming the rule', () => {
  const task = (events: string, sql = '') => `name: t
task-mode: all
target-database: {host: 127.0.0.1, user: root}
mysql-instances:
  - source-id: s1
    filter-rules: [f1]
filters:
  f1:
    schema-pattern: "db"
    events: ${events}
${sql}    action: Ignore
`;
  assert.equal(parseTaskConfig(task('["all dml", "truncate table"]')).filters.get('f1')!.events.length, 2);
  assert.throws(() => parseTaskConfig(task('["insrt"]')), /filter rule 'f1': unknown event 'insrt'/);
  assert.throws(
    () => parseTaskConfig(task('[]', '    sql-pattern: ["(unclosed"]\n')),
    /filter rule 'f1': sql-pattern "\(unclosed" is not a valid regular expression/,
  );
  assert.throws(
    () =>
      parseTaskConfig(
        task('[]').replace(
          'filters:',
          'routes:\n  r1:\n    schema-pattern: db\n    target-schema: x\n    extract-table: {table-regexp: "(", target-column: c}\nfilters:',
        ),
      ),
    /'routes\.r1\.extract-table\.table-regexp' \(line \d+\) is not a valid regular expression/,
  );
});

test("routes' extract-*: submatches of the table, schema and source names fill extra columns", () => {
  const r = tableRouter(
    [
      [
        'shards',
        {
          ...route('shard_*', 't_*', 'merged', 't'),
          extractTable: { regexp: 't_(.*)', column: 'c_table' },
          extractSchema: { regexp: 'shard_(\\d+)', column: 'c_schema' },
          extractSource: { regexp: '(.*)-(\\d+)', column: 'c_source' },
        },
      ],
    ],
    false,
    'mysql-01',
  );
  assert.deepEqual(r.extras('shard_7', 't_01'), [
    { column: 'c_table', value: '01' },
    { column: 'c_schema', value: '7' },
    { column: 'c_source', value: 'mysql01' },
  ]);
  assert.deepEqual(r.extras('other', 'x'), []);
  const sql = Buffer.from("INSERT INTO `t_01` (`id`,`v`) VALUES\n(1,'a'),\n(2,'b\\nc')");
  assert.equal(
    addExtraColumns(sql, [
      { column: 'c_table', value: '01' },
      { column: 'c_src', value: 'zoë' },
    ]).toString(),
    "INSERT INTO `t_01` (`id`,`v`,`c_table`,`c_src`) VALUES\n(1,'a','01','zoë'),\n(2,'b\\nc','01','zoë')",
  );
  assert.equal(addExtraColumns(sql, []), sql);
  assert.equal(
    addExtraColumns(Buffer.from('/*!40101 SET NAMES binary*/'), [{ column: 'c', value: 'x' }]).toString(),
    '/*!40101 SET NAMES binary*/',
  );
});

test('online DDL tables: shadow and trash by the rules, each with its real name', () => {
  const o = new OnlineTables(DEFAULT_SHADOW_RULES, DEFAULT_TRASH_RULES);
  assert.equal(o.kind('_orders_gho'), 'shadow');
  assert.equal(o.kind('_orders_new'), 'shadow');
  assert.equal(o.kind('_orders_ghc'), 'trash');
  assert.equal(o.kind('_orders_del'), 'trash');
  assert.equal(o.kind('_orders_old'), 'trash');
  assert.equal(o.kind('orders'), 'real');
  assert.equal(o.kind('orders_new'), 'real');
  assert.equal(o.realName('_orders_gho'), 'orders');
  assert.equal(o.realName('_my_orders_old'), 'my_orders');
  assert.equal(o.realName('orders'), 'orders');
  assert.deepEqual(adjustRule('_(.+)_tmp'), { source: '^_(.+)_tmp$' });
  assert.deepEqual(adjustRule('^(a)(b)$'), {
    problem: "must have exactly one group (the real table's name), it has 2",
  });
  assert.deepEqual(adjustRule('^(?:a)_(b)$'), { source: '^(?:a)_(b)$' });
});

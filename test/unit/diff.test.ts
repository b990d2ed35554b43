// check-data's pure parts: column representations, key ranges in index-friendly form, the
// checksum and fix statements, row comparison, and which tables a task's rules let it compare.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  boundariesSQL,
  boundarySQL,
  checksumSQL,
  columnKind,
  fixSQL,
  literalOf,
  rangeCond,
  rowsSQL,
  type TableShape,
} from '../../src/diff/sql.js';
import { compareRows, shown } from '../../src/diff/compare.js';
import { planTables } from '../../src/diff/plan.js';
import { parseTaskConfig, parseSourceConfig, subTaskConfigs } from '../../src/task/config.js';

const t: TableShape = {
  db: 'd',
  table: 't',
  columns: [
    { name: 'a', kind: 'text', convert: true },
    { name: 'b', kind: 'other' },
    { name: 'c', kind: 'binary' },
    { name: 'f', kind: 'float' },
    { name: 'bt', kind: 'bit' },
  ],
  key: ['a', 'b'],
};
const hex = (s: string) => Buffer.from(s).toString('hex').toUpperCase();

test('columns compare by kind; literals put back the exact value', () => {
  assert.deepEqual(
    [
      'varchar',
      'JSON',
      'enum',
      'blob',
      'varbinary',
      'geometry',
      'bit',
      'float',
      'double',
      'decimal',
      'datetime',
    ].map(columnKind),
    ['text', 'text', 'text', 'binary', 'binary', 'binary', 'bit', 'float', 'other', 'other', 'other'],
  );
  assert.equal(literalOf(t.columns[0], hex('é')), '_utf8mb4 0xC3A9');
  assert.equal(literalOf(t.columns[0], ''), "''");
  assert.equal(literalOf(t.columns[1], hex("1.5'")), "'1.5\\''");
  assert.equal(literalOf(t.columns[2], '00FF'), '0x00FF');
  assert.equal(literalOf(t.columns[4], hex('31')), '31');
  assert.equal(literalOf(t.columns[3], null), 'NULL');
  assert.match(
    checksumSQL(t, 'u', 'v', {}),
    /^SELECT COUNT\(\*\) AS n, COALESCE\(BIT_XOR\(CAST\(CRC32\(CONCAT_WS\(',', CONVERT\(`a` USING utf8mb4\), `b`, `c`, \(`f` \+ 0e0\), \(`bt` \+ 0\), CONCAT\(ISNULL\(`a`\), .*\)\)\) AS UNSIGNED\)\), 0\) AS x FROM `u`\.`v` WHERE 1$/,
  );
});

test('key ranges: (after, upto] in the form a range scan uses; ordered by the columns, not the hex aliases', () => {
  assert.match(boundarySQL(t, 'd', 't', {}, 9), /ORDER BY `d`\.`t`\.`a`, `d`\.`t`\.`b` LIMIT 1 OFFSET 9$/);
  assert.match(rowsSQL(t, 'd', 't', {}), /ORDER BY `d`\.`t`\.`a`, `d`\.`t`\.`b`$/);
  assert.match(boundariesSQL(t, 'd', 't', {}, 5), /WHERE dm_rn % 5 = 0 ORDER BY dm_rn$/);
  assert.equal(rangeCond(['id'], { after: ['5'], upto: ['10'] }), '`id` > 5 AND `id` <= 10');
  assert.equal(rangeCond(['a', 'b'], { after: ["'x'", '1'] }), "((`a` > 'x') OR (`a` = 'x' AND `b` > 1))");
  assert.equal(rangeCond(['a', 'b'], { upto: ["'y'", '2'] }), "((`a` < 'y') OR (`a` = 'y' AND `b` <= 2))");
  assert.equal(rangeCond(['id'], {}), '1');
});

test('rows compare by key: missing, extra, changed with its columns; fixes are REPLACE and DELETE', () => {
  const row = (a: string, b: string, c: string) => ({ a: hex(a), b: hex(b), c, f: null, bt: null });
  const up = [row('k', '1', '00'), row('k', '2', '01'), row('k', '3', '02')];
  const down = [row('k', '1', '00'), row('k', '2', 'FF'), row('k', '4', '03')];
  const d = compareRows(t, up, down);
  assert.deepEqual(
    d.map((x) => [x.kind, shown(x.key.b), x.columns?.join()]),
    [
      ['changed', '2', 'c'],
      ['missing', '3', undefined],
      ['extra', '4', undefined],
    ],
  );
  assert.equal(
    fixSQL(t, d[1].up, undefined),
    "REPLACE INTO `d`.`t` (`a`, `b`, `c`, `f`, `bt`) VALUES (_utf8mb4 0x6B, '3', 0x02, NULL, NULL);",
  );
  assert.equal(
    fixSQL(t, undefined, d[2].down),
    "DELETE FROM `d`.`t` WHERE `a` = _utf8mb4 0x6B AND `b` = '4' LIMIT 1;",
  );
  assert.equal(shown('00FF'), '0x00FF');
  assert.equal(shown(hex('héllo')), 'héllo');
});

test("the plan follows the task's routes and lists what its rules keep from a plain comparison", () => {
  const task = parseTaskConfig(`name: p
task-mode: all
target-database: {host: 127.0.0.1, port: 3306, user: root}
routes:
  shards: {schema-pattern: "s*", table-pattern: "t", target-schema: shop, target-table: t}
  ex: {schema-pattern: "s*", table-pattern: "x", target-schema: shop, target-table: x, extract-table: {table-regexp: "(.*)", target-column: c_table}}
filters:
  nodel: {schema-pattern: "s1", table-pattern: "keep", events: ["delete"], action: Ignore}
expression-filter:
  even: {schema: s2, table: odd, insert-value-expr: "id % 2 = 0"}
mysql-instances:
  - {source-id: a, route-rules: [shards, ex], filter-rules: [nodel]}
  - {source-id: b, route-rules: [shards, ex], expression-filters: [even]}
`);
  const sources = ['a', 'b'].map((id) =>
    parseSourceConfig(`source-id: ${id}\nfrom: {host: 127.0.0.1, port: 3306, user: root}\n`),
  );
  const cfgs = subTaskConfigs(task, sources);
  const tables = new Map([
    ['a', ['t', 'keep', 'x', 'plain'].map((table) => ({ db: 's1', table }))],
    ['b', ['t', 'odd', 'x'].map((table) => ({ db: 's2', table }))],
  ]);
  const plan = planTables(cfgs, tables);
  assert.deepEqual(
    plan.targets.map((x) => [`${x.db}.${x.table}`, x.shards.map((s) => `${s.source}:${s.db}.${s.table}`)]),
    [
      ['shop.t', ['a:s1.t', 'b:s2.t']],
      ['s1.plain', ['a:s1.plain']],
    ],
  );
  assert.deepEqual(plan.skipped.map((s) => s.table).sort(), ['s1.keep', 's2.odd', 'shop.x']);
  assert.match(plan.skipped.find((s) => s.table === 's1.keep')!.reason, /event filter drops row changes/);
  assert.match(plan.skipped.find((s) => s.table === 's2.odd')!.reason, /expression filter/);
  assert.match(plan.skipped.find((s) => s.table === 'shop.x')!.reason, /extract-\* columns/);
  assert.deepEqual(
    planTables(cfgs, tables, ['shop.t']).targets.map((x) => x.table),
    ['t'],
  );
});

test('cutover lists every reason to refuse: not syncing, validation error rows, pending locks, no Sync', async () => {
  const { refusals } = await import('../../src/master/cutover.js');
  const task = parseTaskConfig(`name: c
task-mode: all
target-database: {host: 127.0.0.1, port: 3306, user: root}
mysql-instances: [{source-id: a}, {source-id: b}]
`);
  const cfgs = subTaskConfigs(
    task,
    ['a', 'b'].map((id) =>
      parseSourceConfig(`source-id: ${id}\nfrom: {host: 127.0.0.1, port: 3306, user: root}\n`),
    ),
  );
  const st = (stage: string, unit: string, errors = 0) =>
    ({
      name: 'c',
      stage,
      unit,
      result: null,
      unresolvedDDLLockID: '',
      validation: { errorRowsStatus: `new/ignored/resolved: ${errors}/0/0` },
    }) as never;
  assert.deepEqual(
    refusals(
      cfgs,
      [
        ['a', st('Running', 'Sync')],
        ['b', st('Running', 'Sync')],
      ],
      [],
    ),
    [],
  );
  assert.deepEqual(
    refusals(
      cfgs,
      [
        ['a', st('Paused', 'Sync')],
        ['b', st('Running', 'Sync', 2)],
      ],
      ['c-`x`.`t`'],
    ),
    [
      'the subtask of source a is Paused in unit Sync',
      'validation of source b has 2 unprocessed error row(s): see validation show-error',
      'sharding DDL lock c-`x`.`t` is pending: see shard-ddl-lock',
    ],
  );
  assert.deepEqual(refusals(cfgs, [['a', 'source a has no dm-worker']], []), [
    'source a: source a has no dm-worker',
  ]);
  assert.match(refusals([{ ...cfgs[0], taskMode: 'full' }], [], [])[0], /task-mode full has no Sync/);
});

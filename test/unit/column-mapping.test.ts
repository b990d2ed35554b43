// DM v2.0's column-mappings: partition id as DM computes it, prefix/suffix, rule selection, the
// dumped INSERT rewrite, and the task file's errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ColumnMapping,
  ColumnMappingError,
  mapDumpedInsert,
  MAX_ORIGIN_ID,
  type ColumnMappingRule,
} from '../../src/rules/column-mapping.js';
import { parseTaskConfig } from '../../src/task/config.js';

const rule = (r: Partial<ColumnMappingRule>): ColumnMappingRule => ({
  schemaPattern: 'shop_*',
  tablePattern: 'order_*',
  sourceColumn: 'id',
  targetColumn: 'id',
  expression: 'partition id',
  arguments: ['1', 'shop', 'order', '_'],
  ...r,
});

test("partition id: [unused][4 instance][7 schema][8 table][44 id] bits, as DM's", () => {
  const m = new ColumnMapping([['p', rule({})]], false).forTable('shop_2', 'order_3')!;
  const want = (1n << 59n) | (2n << 52n) | (3n << 44n) | 5n;
  assert.equal(m.map(5), want);
  assert.equal(m.map(5n), want);
  assert.equal(m.map('5'), want.toString(), 'an id in a character column stays text');
  assert.throws(() => m.map(-1), /needs an id from 0 to/);
  assert.throws(() => m.map(MAX_ORIGIN_ID), /needs an id from 0 to 17592186044415/);
  assert.throws(() => m.map('x'), /needs an integer id in `shop_2`.`order_3`.id, not 'x'/);
  // an empty argument leaves its part out (and its bits to the others)
  const noInstance = new ColumnMapping([['p', rule({ arguments: ['', 'shop', '', '_'] })]], false);
  assert.equal(noInstance.forTable('shop_2', 'order_3')!.map(5), (2n << 56n) | 5n);
  // the name equal to the prefix is id 0; another name is an error naming it
  assert.throws(
    () => new ColumnMapping([['p', rule({})]], false).forTable('shop_x', 'order_1'),
    ColumnMappingError,
  );
  assert.throws(
    () => new ColumnMapping([['p', rule({})]], false).forTable('shop_200', 'order_1'),
    /below 128/,
  );
});

test('add prefix / add suffix; table rules win over schema rules; two of one level are an error', () => {
  const rules: [string, ColumnMappingRule][] = [
    [
      'pre',
      rule({ tablePattern: 'user*', targetColumn: 'name', expression: 'add prefix', arguments: ['s1:'] }),
    ],
    ['suf', rule({ tablePattern: '', targetColumn: 'name', expression: 'add suffix', arguments: ['@1'] })],
  ];
  const m = new ColumnMapping(rules, false);
  assert.equal(m.forTable('shop_1', 'users')!.map('bob'), 's1:bob');
  assert.deepEqual(
    m.forTable('shop_1', 'users')!.map(Buffer.from([0xe9])),
    Buffer.from([0x73, 0x31, 0x3a, 0xe9]),
  );
  assert.equal(m.forTable('shop_1', 'other')!.map('bob'), 'bob@1');
  assert.throws(() => m.forTable('shop_1', 'other')!.map(1), /needs a string/);
  assert.equal(m.forTable('else', 'users'), undefined);
  const two = new ColumnMapping([...rules, ['pre2', rules[0][1]]], false);
  assert.throws(() => two.forTable('shop_1', 'users'), /matches 2 column mapping rules \(pre, pre2\)/);
});

test("a dumped INSERT's mapped column is rewritten in every row, other values byte for byte", () => {
  const m = new ColumnMapping(
    [['p', rule({ targetColumn: 'name', expression: 'add prefix', arguments: ["x'"] })]],
    false,
  ).forTable('shop_1', 'order_1')!;
  const sql = Buffer.from(
    "INSERT INTO `order_1` (`id`,`name`,`b`) VALUES\n(1,'a,b\\'c',0x00FF),\n(2,NULL,NULL),\n(3,'\\\\',NULL);\n",
  );
  assert.equal(
    mapDumpedInsert(sql, m).toString(),
    "INSERT INTO `order_1` (`id`,`name`,`b`) VALUES\n(1,'x\\'a,b\\'c',0x00FF),\n(2,NULL,NULL),\n(3,'x\\'\\\\',NULL);\n",
  );
  const missing = new ColumnMapping([['p', rule({ targetColumn: 'nope' })]], false).forTable(
    'shop_1',
    'order_1',
  )!;
  assert.throws(
    () => mapDumpedInsert(sql, missing),
    /target-column 'nope' is not a column of the dumped table/,
  );
});

test('task file: column-mappings and column-mapping-rules are read; a bad rule names its problem', () => {
  const task = (rules: string) => `
name: t
task-mode: all
target-database: {host: 127.0.0.1, port: 3306, user: root, password: ''}
mysql-instances: [{source-id: s1, column-mapping-rules: [m]}]
column-mappings:
  m: {${rules}}
`;
  const t = parseTaskConfig(
    task(
      'schema-pattern: "shop_*", table-pattern: "o_*", expression: "partition id", source-column: id, target-column: id, arguments: ["1", "shop", "o", "_"]',
    ),
  );
  assert.equal(t.columnMappings.get('m')!.expression, 'partition id');
  assert.deepEqual(t.mysqlInstances[0].columnMappingRules, ['m']);
  assert.throws(
    () =>
      parseTaskConfig(task('schema-pattern: s, expression: "add prefix", target-column: c, arguments: []')),
    /'add prefix' takes one argument, not 0/,
  );
  assert.throws(
    () =>
      parseTaskConfig(
        task('schema-pattern: s, expression: "partition id", target-column: c, arguments: ["99", "", ""]'),
      ),
    /instance id '99' is not an integer 0-15/,
  );
  assert.throws(
    () =>
      parseTaskConfig(task('schema-pattern: s, expression: "add infix", target-column: c, arguments: [x]')),
    /expression/,
  );
  assert.throws(
    () => parseTaskConfig(task('schema-pattern: s, expression: "add prefix", arguments: [x]')),
    /has no target-column/,
  );
});

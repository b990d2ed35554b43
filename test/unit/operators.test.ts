// The operator's pending binlog operations and the SQL of dmctl's replace/inject arguments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BinlogOperators, operatorPosition } from '../../src/units/sync/operators.js';
import { sqlsOfArgs } from '../../src/cli/sql-args.js';

test('positions in every form DM and our errors write them name the same transaction', () => {
  const want = { file: 'mysql-bin.000003', pos: 3270 };
  assert.deepEqual(operatorPosition('mysql-bin.000003:3270'), want);
  assert.deepEqual(operatorPosition('(mysql-bin.000003, 3270)'), want);
  assert.deepEqual(operatorPosition('mysql-bin|000001.000003:3270'), want);
  assert.deepEqual(operatorPosition('mysql-bin|000002.000003:3270'), {
    file: 'mysql-bin|000002.000003',
    pos: 3270,
  });
  assert.throws(() => operatorPosition('mysql-bin.000003'), /invalid binlog position/);
});

test('operations: one per position, listed in binlog order, dropped once passed, taken once', () => {
  const o = new BinlogOperators();
  o.set({ file: 'b.000002', pos: 10 }, { op: 'skip', sqls: [] });
  o.set({ file: 'b.000001', pos: 900 }, { op: 'inject', sqls: ['X'] });
  o.set({ file: 'b.000001', pos: 900 }, { op: 'replace', sqls: ['Y'] }); // replaces the first
  assert.deepEqual(
    o.list().map((x) => `${x.binlogPos} ${x.op}`),
    ['(b.000001, 900) replace', '(b.000002, 10) skip'],
  );
  assert.deepEqual(o.list({ file: 'b.000001', pos: 901 }).length, 1);
  assert.deepEqual(o.at('(b.000001, 900)'), { op: 'replace', sqls: ['Y'] });
  o.done('(b.000001, 900)');
  assert.equal(o.at('(b.000001, 900)'), undefined);
  o.dropThrough({ file: 'b.000002', pos: 10 });
  assert.deepEqual(o.list(), []);
  assert.throws(() => o.revert({ file: 'b.000002', pos: 10 }), /no binlog operation at \(b.000002, 10\)/);
});

test('SQL arguments as DM reads them: joined, outer quotes stripped, split at ; outside quotes', () => {
  assert.deepEqual(sqlsOfArgs(['ALTER', 'TABLE', 'd.t', 'ADD', 'c', 'INT']), ['ALTER TABLE d.t ADD c INT']);
  assert.deepEqual(sqlsOfArgs(['"ALTER TABLE a ADD c INT; ALTER TABLE b DROP d;"']), [
    'ALTER TABLE a ADD c INT',
    'ALTER TABLE b DROP d',
  ]);
  assert.deepEqual(
    sqlsOfArgs(["ALTER TABLE a ADD c VARCHAR(9) DEFAULT ';x'", 'ALTER TABLE `b;c` ADD d INT']),
    ["ALTER TABLE a ADD c VARCHAR(9) DEFAULT ';x' ALTER TABLE `b;c` ADD d INT"],
  );
  assert.deepEqual(sqlsOfArgs(['ALTER TABLE a ADD c INT /* ; */; -- ;\nDROP TABLE x']), [
    'ALTER TABLE a ADD c INT /* ; */',
    '-- ;\nDROP TABLE x',
  ]);
  assert.throws(() => sqlsOfArgs(["ALTER TABLE a COMMENT 'x"]), /quote is not closed/);
  assert.throws(() => sqlsOfArgs([';;']), /no SQL statement given/);
});

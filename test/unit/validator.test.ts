// The validator's pure parts: what a row change expects of the target, its exact JSON, the check
// query and its verdicts, and pending rows that become error rows only after row-error-delay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkSQL,
  decodeExpectation,
  encodeExpectation,
  expectationsOf,
  identity,
  rowPk,
  verdicts,
  type Expectation,
} from '../../src/units/sync/validator/expect.js';
import { formatCounts, PendingRows } from '../../src/units/sync/validator/pending.js';
import type { TargetTable } from '../../src/units/sync/target-table.js';

const t: TargetTable = {
  quoted: '`d`.`t`',
  cols: [
    { name: 'id', idx: 0 },
    { name: 'v', idx: 1 },
    { name: 'b', idx: 2 },
  ],
  where: [{ name: 'id', idx: 0 }],
  hasKey: true,
  uniques: [[{ name: 'id', idx: 0 }]],
  id: 'd.t',
  unsigned: [],
  tsv: false,
  autoIncrement: false,
};
const src = { db: 'up', table: 't1' };
const dst = { db: 'd', table: 't' };

test('row changes become expectations: present with the new row, absent for a delete or a moved key', () => {
  const ins = expectationsOf({ t, op: 'insert', after: [1, 'a', Buffer.from([0, 255])] }, src, dst);
  assert.deepEqual(ins, [
    {
      src,
      dst,
      op: 'insert',
      key: [['id', 1]],
      row: [
        ['id', 1],
        ['v', 'a'],
        ['b', Buffer.from([0, 255])],
      ],
    },
  ]);
  const upd = expectationsOf(
    { t, op: 'update', before: [1, 'a', null], after: [1, 'b', undefined] },
    src,
    dst,
  );
  assert.deepEqual(upd, [
    {
      src,
      dst,
      op: 'update',
      key: [['id', 1]],
      row: [
        ['id', 1],
        ['v', 'b'],
      ],
    },
  ]);
  const moved = expectationsOf({ t, op: 'update', before: [1, 'a', null], after: [2, 'a', null] }, src, dst);
  assert.deepEqual(
    moved.map((e) => [e.op, rowPk(e), !!e.row]),
    [
      ['delete', '1', false],
      ['insert', '2', true],
    ],
  );
  const del = expectationsOf({ t, op: 'delete', before: [3, 'x', null] }, src, dst);
  assert.deepEqual(del, [{ src, dst, op: 'delete', key: [['id', 3]] }]);
  assert.deepEqual(
    expectationsOf({ t: { ...t, hasKey: false }, op: 'delete', before: [3, 'x', null] }, src, dst),
    [],
  );
});

test('expectations round-trip through JSON exactly (bigint, bytes, NULL, floats)', () => {
  const e: Expectation = {
    src,
    dst,
    op: 'update',
    key: [['id', 18446744073709551615n]],
    row: [
      ['id', 18446744073709551615n],
      ['b', Buffer.from('00ff10', 'hex')],
      ['n', null],
      ['f', 1.100000023841858],
      ['s', 'é\'"\\'],
    ],
  };
  assert.deepEqual(decodeExpectation(encodeExpectation(e)), e);
});

test('the check query asks per row whether its key exists and whether the whole row matches', () => {
  const es: Expectation[] = [
    {
      src,
      dst,
      op: 'insert',
      key: [['id', 1]],
      row: [
        ['id', 1],
        ['v', 'a'],
        ['b', null],
      ],
    },
    { src, dst, op: 'delete', key: [['id', 2]] },
  ];
  const o = { mode: 'full' as const, binaryCollation: 'utf8mb4_nopad_bin' };
  assert.equal(
    checkSQL(es, o),
    "SELECT EXISTS(SELECT 1 FROM `d`.`t` WHERE `id` = 1) AS k0, EXISTS(SELECT 1 FROM `d`.`t` WHERE `id` = 1 AND `id` <=> 1 AND `v` <=> 'a' COLLATE utf8mb4_nopad_bin AND `b` <=> NULL) AS r0, EXISTS(SELECT 1 FROM `d`.`t` WHERE `id` = 2) AS k1",
  );
  assert.deepEqual(verdicts(es, { k0: '1', r0: '1', k1: '0' }, o), [undefined, undefined]);
  assert.deepEqual(verdicts(es, { k0: '1', r0: '0', k1: '1' }, o), ['rowDifferent', 'deletedRowExists']);
  assert.deepEqual(verdicts(es, { k0: '0', r0: '0', k1: '0' }, o), ['rowNotExist', undefined]);
  const fast = { ...o, mode: 'fast' as const };
  assert.doesNotMatch(checkSQL(es, fast), /AS r0/);
  assert.deepEqual(verdicts(es, { k0: '1', k1: '0' }, fast), [undefined, undefined]);
});

test('pending rows: the latest change wins; a row fails for row-error-delay before it is an error', () => {
  const p = new PendingRows();
  const a: Expectation = { src, dst, op: 'insert', key: [['id', 1]], row: [['id', 1]] };
  const a2: Expectation = { ...a, op: 'update' };
  p.add(a);
  p.add(a2);
  assert.equal(p.size, 1);
  assert.equal(formatCounts(p.processed), 'insert/update/delete: 1/1/0');
  assert.equal(formatCounts(p.byOp()), 'insert/update/delete: 0/1/0');
  const [entry] = p.snapshot();
  assert.equal(identity(entry.e), identity(a));
  assert.equal(p.settle(entry, 'rowDifferent', 1000, 5000), undefined);
  assert.equal(p.settle(entry, 'rowDifferent', 5999, 5000), undefined);
  assert.equal(p.settle(entry, 'rowDifferent', 6000, 5000), entry);
  assert.equal(p.size, 0);
  assert.equal(p.bytes, 0);
  // a newer change while a check ran: the old verdict does not settle it
  p.add(a);
  const [old] = p.snapshot();
  p.add(a2);
  assert.equal(p.settle(old, undefined, 0, 0), undefined);
  assert.equal(p.size, 1);
  const [now] = p.snapshot();
  p.settle(now, undefined, 0, 0);
  assert.equal(p.size, 0);
});

test('pending rows of a transaction still being read are held: counted, not checked or saved, until released', () => {
  const p = new PendingRows();
  const row = (id: number, op: Expectation['op'] = 'insert'): Expectation => ({
    src,
    dst,
    op,
    key: [['id', id]],
    row: [['id', id]],
  });
  p.add(row(1)); // an earlier transaction's
  p.add(row(2), true, true);
  p.add(row(3), true, true);
  assert.equal(p.size, 3);
  // counted once the transaction is released (a restart before that reads it, and counts it, again)
  assert.equal(formatCounts(p.processed), 'insert/update/delete: 1/0/0');
  assert.deepEqual(
    p.snapshot().map((x) => identity(x.e)),
    [identity(row(1))],
  );
  // the open transaction changes a row of an earlier one: the new change wins, and is held
  p.add(row(1, 'update'), true, true);
  assert.deepEqual(p.snapshot(), []);
  p.release();
  assert.equal(formatCounts(p.processed), 'insert/update/delete: 3/1/0');
  assert.deepEqual(
    p
      .snapshot()
      .map((x) => identity(x.e))
      .sort(),
    [row(1), row(2), row(3)].map(identity).sort(),
  );
  // a held entry replaced by a later (released) change is not held either
  p.add(row(4), true, true);
  p.release();
  p.add(row(5), true, true);
  p.add(row(5, 'update'));
  assert.equal(p.snapshot().length, 5);
});

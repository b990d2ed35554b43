import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compareGtidSets,
  detectGtidFlavor,
  MariadbGtidSet,
  MysqlGtidSet,
  parseGtidSet,
  parseMariadbGtid,
} from '../../src/binlog/gtid.js';
import {
  comparePosition,
  formatPosition,
  parsePosition,
  splitBinlogName,
} from '../../src/binlog/position.js';

const U1 = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const U2 = '4e11fa47-71ca-11e1-9e33-c80aa9429562';

test('MySQL GTID set: parse merges and sorts, format is canonical', () => {
  const s = MysqlGtidSet.parse(` ${U2}:1-3, ${U1.toUpperCase()}:7:1-5:6 `);
  assert.equal(s.toString(), `${U1}:1-7,${U2}:1-3`);
  assert.equal(MysqlGtidSet.parse('').toString(), '');
  assert.ok(MysqlGtidSet.parse('').isEmpty());
});

test('MySQL GTID set: bad input names the problem', () => {
  assert.throws(() => MysqlGtidSet.parse('nope:1-2'), /bad server UUID 'nope'/);
  assert.throws(() => MysqlGtidSet.parse(`${U1}:5-2`), /bad interval '5-2'/);
  assert.throws(() => MysqlGtidSet.parse(`${U1}`), /has no interval/);
  assert.throws(() => MysqlGtidSet.parse(`${U1}:0`), /bad interval/);
});

test('MySQL GTID set: add, has, contains, merge, compare', () => {
  const s = MysqlGtidSet.parse(`${U1}:1-5`);
  s.add(U1, 6).add(U1, 9).add(U2, 1).add(U1, 3);
  assert.equal(s.toString(), `${U1}:1-6:9,${U2}:1`);
  assert.ok(s.has(U1, 9) && !s.has(U1, 8));
  s.add(U1, 7).add(U1, 8);
  assert.equal(s.toString(), `${U1}:1-9,${U2}:1`);
  const small = MysqlGtidSet.parse(`${U1}:2-4`);
  assert.ok(s.contains(small) && !small.contains(s));
  assert.equal(compareGtidSets(s, small), 1);
  assert.equal(compareGtidSets(small, s), -1);
  assert.equal(compareGtidSets(s, s.clone()), 0);
  assert.ok(Number.isNaN(compareGtidSets(MysqlGtidSet.parse(`${U1}:1`), MysqlGtidSet.parse(`${U2}:1`))));
  const m = MysqlGtidSet.parse(`${U1}:1-3`).merge(MysqlGtidSet.parse(`${U1}:4-8,${U2}:2`));
  assert.equal(m.toString(), `${U1}:1-8,${U2}:2`);
  assert.throws(
    () => m.merge(MariadbGtidSet.parse('0-1-2')),
    /cannot combine a mysql GTID set with a mariadb one/,
  );
});

test('MySQL GTID set: binary encoding has end-exclusive intervals', () => {
  const b = MysqlGtidSet.parse(`${U1}:1-5:7`).encode();
  assert.equal(b.readBigUInt64LE(0), 1n);
  assert.equal(b.subarray(8, 24).toString('hex'), U1.replace(/-/g, ''));
  assert.equal(b.readBigUInt64LE(24), 2n);
  assert.deepEqual(
    [b.readBigInt64LE(32), b.readBigInt64LE(40), b.readBigInt64LE(48), b.readBigInt64LE(56)],
    [1n, 6n, 7n, 8n],
  );
});

test('MariaDB GTID list: parse, format, contains, merge', () => {
  const s = MariadbGtidSet.parse('1-2-50,0-1-100');
  assert.equal(s.toString(), '0-1-100,1-2-50');
  assert.ok(s.contains(MariadbGtidSet.parse('0-1-99')));
  assert.ok(!s.contains(MariadbGtidSet.parse('0-1-101')));
  assert.ok(!s.contains(MariadbGtidSet.parse('2-1-1')));
  s.merge(MariadbGtidSet.parse('0-3-120,2-1-5,1-2-10'));
  assert.equal(s.toString(), '0-3-120,1-2-50,2-1-5');
  s.add({ domain: 1, server: 9, seq: 51 });
  assert.equal(s.toString(), '0-3-120,1-9-51,2-1-5');
  assert.equal(compareGtidSets(s, MariadbGtidSet.parse('0-1-1')), 1);
  assert.ok(MariadbGtidSet.parse('').isEmpty());
});

test('MariaDB GTID list: bad input', () => {
  assert.throws(() => MariadbGtidSet.parse('0-1'), /expected 'domain-server-sequence'/);
  assert.throws(() => MariadbGtidSet.parse('0-1-2,0-2-3'), /domain 0 appears twice/);
  assert.throws(() => parseMariadbGtid('0-99999999999-1'), /out of range/);
});

test('flavour detection and parseGtidSet', () => {
  assert.equal(detectGtidFlavor(`${U1}:1`), 'mysql');
  assert.equal(detectGtidFlavor('0-1-2'), 'mariadb');
  assert.equal(parseGtidSet('mariadb', '0-1-2').flavor, 'mariadb');
  assert.equal(parseGtidSet('mysql', `${U1}:1`).toString(), `${U1}:1`);
});

test('positions: parse, format, compare by file index', () => {
  assert.deepEqual(parsePosition('(mysql-bin.000001, 1234)'), { file: 'mysql-bin.000001', pos: 1234 });
  assert.deepEqual(parsePosition('mysql-bin.000002:4'), { file: 'mysql-bin.000002', pos: 4 });
  assert.throws(() => parsePosition('mysql-bin.000001'), /invalid binlog position/);
  assert.equal(formatPosition({ file: 'bin.000001', pos: 3234 }), '(bin.000001, 3234)');
  assert.ok(comparePosition({ file: 'b.000009', pos: 900 }, { file: 'b.000010', pos: 4 }) < 0);
  assert.ok(comparePosition({ file: 'b.000010', pos: 5 }, { file: 'b.000010', pos: 4 }) > 0);
  assert.equal(comparePosition({ file: 'b.000010', pos: 4 }, { file: 'b.000010', pos: 4 }), 0);
  assert.deepEqual(splitBinlogName('mysql-bin.000012'), { base: 'mysql-bin', index: 12 });
  assert.throws(() => splitBinlogName('nonumber'), /invalid binlog file name/);
});

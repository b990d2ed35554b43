// The one transaction-boundary rule (client, assembler, relay reader), both flavours.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TxnBoundary, txnControl } from '../../src/binlog/boundary.js';
import type { BinlogEvent, EventHeader } from '../../src/binlog/events.js';

const h: EventHeader = { timestamp: 0, typeCode: 0, serverId: 1, eventSize: 0, logPos: 1, flags: 0 };
const q = (query: string): BinlogEvent => ({
  kind: 'query',
  header: h,
  threadId: 0,
  execTime: 0,
  errorCode: 0,
  schema: 'd',
  query,
  statusVars: Buffer.alloc(0),
});
const mgtid = (standalone: boolean): BinlogEvent => ({
  kind: 'mariadb_gtid',
  header: h,
  gtid: { domain: 0, server: 1, seq: 1 },
  flags: 0,
  standalone,
});
const mysqlGtid: BinlogEvent = {
  kind: 'gtid',
  header: h,
  anonymous: false,
  commitFlag: 1,
  uuid: 'u',
  gno: 1,
};
const xid: BinlogEvent = { kind: 'xid', header: h, xid: 1n };
const other: BinlogEvent = { kind: 'other', header: h };

function steps(events: BinlogEvent[]): string[] {
  const b = new TxnBoundary();
  return events.map((e) => b.feed(e));
}

test('transaction control statements, with comments and any case', () => {
  assert.equal(txnControl('BEGIN'), 'begin');
  assert.equal(txnControl('  /* x */ start transaction'), 'begin');
  assert.equal(txnControl("XA START 'x'"), 'begin');
  assert.equal(txnControl('COMMIT'), 'commit');
  assert.equal(txnControl("XA END 'x'"), 'commit');
  assert.equal(txnControl("XA PREPARE 'x'"), 'commit');
  assert.equal(txnControl('rollback'), 'rollback');
  assert.equal(txnControl('CREATE TABLE t (id INT)'), undefined);
  assert.equal(txnControl('BEGINNING'), undefined);
  assert.equal(txnControl('SAVEPOINT a'), undefined);
});

test('MariaDB: GTID … XID; a standalone GTID with its one statement; events between transactions', () => {
  assert.deepEqual(steps([other, mgtid(false), q('BEGIN'), other, other, xid, other]), [
    'outside',
    'begin',
    'inside',
    'inside',
    'inside',
    'end',
    'outside',
  ]);
  assert.deepEqual(steps([mgtid(true), q('CREATE TABLE t (id INT)')]), ['begin', 'end']);
  assert.deepEqual(steps([mgtid(false), q('BEGIN'), q('INSERT INTO t VALUES (1)'), q('COMMIT')]), [
    'begin',
    'inside',
    'inside',
    'end',
  ]);
  assert.deepEqual(steps([mgtid(false), q('BEGIN'), other, q('ROLLBACK')]), [
    'begin',
    'inside',
    'inside',
    'end',
  ]);
});

test('MySQL: GTID then BEGIN … XID, or GTID then one DDL; no GTID: BEGIN … COMMIT, a lone statement', () => {
  assert.deepEqual(steps([mysqlGtid, q('BEGIN'), other, xid]), ['begin', 'inside', 'inside', 'end']);
  assert.deepEqual(steps([mysqlGtid, q('ALTER TABLE t ADD c INT')]), ['begin', 'end']);
  assert.deepEqual(steps([q('BEGIN'), other, q('COMMIT'), q('DROP TABLE t')]), [
    'begin',
    'inside',
    'end',
    'end',
  ]);
});

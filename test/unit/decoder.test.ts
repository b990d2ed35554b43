import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BinlogDecoder } from '../../src/binlog/decoder.js';
import { BinlogDecodeError } from '../../src/errors.js';
import type { BinlogEvent, RowsEvent, TableMapEvent } from '../../src/binlog/events.js';
import { crc32, crc32js, crcIntact } from '../../src/binlog/crc32.js';
import { decodeJson } from '../../src/binlog/json.js';
import {
  E,
  T,
  event,
  fde,
  image,
  lenenc,
  lenencStr,
  rowsEvent,
  tableMap,
  tlv,
  u16,
  u32,
  u48,
  u64,
  type ColSpec,
} from './fixtures.js';

function decoder(version?: string, checksum = true): BinlogDecoder {
  const d = new BinlogDecoder({ file: 'mysql-bin.000001' });
  d.decode(fde(version, checksum));
  return d;
}

function be(n: bigint, bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = bytes - 1; i >= 0; i--) {
    b[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return b;
}

for (const [name, f] of [
  ['crc32', crc32],
  ['crc32js', crc32js],
] as const) {
  test(`${name} matches the IEEE check value, over ranges and chained`, () => {
    assert.equal(f(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(f(Buffer.alloc(0)), 0);
    const b = Buffer.from('hello binlog world, sliced by eight');
    assert.equal(f(b, 10, b.length, f(b, 0, 10)), f(b));
    assert.equal(f(b, 3, 20), crc32js(b.subarray(3, 20)));
  });
}

test('FORMAT_DESCRIPTION: version, checksum on and off', () => {
  const d = new BinlogDecoder();
  const ev = d.decode(fde('10.11.19-MariaDB-log'));
  assert.equal(ev.kind, 'format_description');
  if (ev.kind !== 'format_description') return;
  assert.equal(ev.serverVersion, '10.11.19-MariaDB-log');
  assert.equal(ev.checksumAlg, 1);
  assert.equal(ev.postHeaderLengths[E.QUERY - 1], 13);
  assert.ok(d.mariadb);
  const off = new BinlogDecoder();
  const ev2 = off.decode(fde('8.0.36', false));
  assert.equal(ev2.kind === 'format_description' && ev2.checksumAlg, 0);
  // With checksum off, later events carry no CRC.
  const x = off.decode(event(E.XID, u64(7), { checksum: false }));
  assert.deepEqual(x.kind === 'xid' && x.xid, 7n);
});

test('ROTATE: real and artificial; file name is tracked', () => {
  const d = decoder();
  const fake = d.decode(
    event(E.ROTATE, Buffer.concat([u64(4), Buffer.from('mysql-bin.000007')]), {
      logPos: 0,
      timestamp: 0,
      flags: 0x20,
    }),
  );
  assert.deepEqual(fake.kind === 'rotate' && [fake.nextFile, fake.position, fake.artificial], [
    'mysql-bin.000007',
    4,
    true,
  ]);
  assert.equal(d.file, 'mysql-bin.000007');
  const real = d.decode(event(E.ROTATE, Buffer.concat([u64(4), Buffer.from('mysql-bin.000008')])));
  assert.equal(real.kind === 'rotate' && real.artificial, false);
});

test('QUERY, XID, STOP, HEARTBEAT, ANNOTATE_ROWS, ROWS_QUERY, BINLOG_CHECKPOINT', () => {
  const d = decoder();
  const status = Buffer.from([0x00, 0x00, 0x00, 0x00, 0x00]);
  const q = d.decode(
    event(
      E.QUERY,
      Buffer.concat([
        u32(42),
        u32(3),
        Buffer.of(4),
        u16(0),
        u16(status.length),
        status,
        Buffer.from('shop\0'),
        Buffer.from('ALTER TABLE t ADD c INT'),
      ]),
    ),
  );
  assert.ok(q.kind === 'query');
  if (q.kind === 'query') {
    assert.deepEqual(
      [q.threadId, q.execTime, q.schema, q.query, q.errorCode],
      [42, 3, 'shop', 'ALTER TABLE t ADD c INT', 0],
    );
  }
  const x = d.decode(event(E.XID, u64(123456789012345n)));
  assert.equal(x.kind === 'xid' && x.xid, 123456789012345n);
  assert.equal(d.decode(event(E.STOP, Buffer.alloc(0))).kind, 'stop');
  const hb = d.decode(event(E.HEARTBEAT, Buffer.from('mysql-bin.000001'), { timestamp: 0 }));
  assert.equal(hb.kind === 'heartbeat' && hb.file, 'mysql-bin.000001');
  const an = d.decode(event(E.MARIADB_ANNOTATE_ROWS, Buffer.from('INSERT INTO t VALUES (1)')));
  assert.equal(an.kind === 'rows_query' && an.query, 'INSERT INTO t VALUES (1)');
  const rq = d.decode(event(E.ROWS_QUERY, Buffer.concat([Buffer.of(5), Buffer.from('DELETE')])));
  assert.equal(rq.kind === 'rows_query' && rq.query, 'DELETE');
  const cp = d.decode(
    event(E.MARIADB_BINLOG_CHECKPOINT, Buffer.concat([u32(16), Buffer.from('mysql-bin.000001')])),
  );
  assert.equal(cp.kind === 'binlog_checkpoint' && cp.file, 'mysql-bin.000001');
});

test('MySQL GTID, ANONYMOUS_GTID and PREVIOUS_GTIDS', () => {
  const d = decoder('8.0.36');
  const uuid = Buffer.from('3e11fa4771ca11e19e33c80aa9429562', 'hex');
  const g = d.decode(
    event(E.GTID, Buffer.concat([Buffer.of(1), uuid, u64(77), Buffer.of(2), u64(10), u64(11)])),
  );
  assert.ok(g.kind === 'gtid');
  if (g.kind === 'gtid') {
    assert.deepEqual(
      [g.uuid, g.gno, g.lastCommitted, g.sequenceNumber, g.anonymous],
      ['3e11fa47-71ca-11e1-9e33-c80aa9429562', 77, 10, 11, false],
    );
  }
  const a = d.decode(event(E.ANONYMOUS_GTID, Buffer.concat([Buffer.of(1), Buffer.alloc(16), u64(0)])));
  assert.equal(a.kind === 'gtid' && a.anonymous, true);
  const p = d.decode(
    event(E.PREVIOUS_GTIDS, Buffer.concat([u64(1), uuid, u64(2), u64(1), u64(6), u64(8), u64(10)])),
  );
  assert.equal(
    p.kind === 'previous_gtids' && p.gtidSet.toString(),
    '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:8-9',
  );
});

test('MariaDB GTID (standalone, with commit id) and GTID_LIST', () => {
  const d = decoder();
  const g = d.decode(event(E.MARIADB_GTID, Buffer.concat([u64(55), u32(2), Buffer.of(1)]), { serverId: 9 }));
  assert.ok(g.kind === 'mariadb_gtid');
  if (g.kind === 'mariadb_gtid')
    assert.deepEqual([g.gtid, g.standalone], [{ domain: 2, server: 9, seq: 55 }, true]);
  const g2 = d.decode(event(E.MARIADB_GTID, Buffer.concat([u64(56), u32(0), Buffer.of(2 | 8), u64(999)])));
  assert.ok(g2.kind === 'mariadb_gtid' && g2.commitId === 999n && !g2.standalone);
  const l = d.decode(
    event(E.MARIADB_GTID_LIST, Buffer.concat([u32(2), u32(0), u32(1), u64(100), u32(1), u32(2), u64(5)])),
  );
  assert.deepEqual(l.kind === 'gtid_list' && l.gtids, [
    { domain: 0, server: 1, seq: 100 },
    { domain: 1, server: 2, seq: 5 },
  ]);
});

test('unknown event types decode as "other" and are skipped safely', () => {
  const d = decoder();
  const ev = d.decode(event(99, Buffer.from('whatever')));
  assert.equal(ev.kind, 'other');
  assert.equal(ev.header.typeCode, 99);
});

// ---------------------------------------------------------------- column types

interface Case {
  name: string;
  col: ColSpec;
  bytes: Buffer;
  expect: unknown;
  unsigned?: boolean;
  charset?: number;
}

function datetime2(y: number, mo: number, d: number, h: number, mi: number, s: number): bigint {
  const ym = BigInt(y * 13 + mo);
  const ymd = (ym << 5n) | BigInt(d);
  const hms = BigInt((h << 12) | (mi << 6) | s);
  return ((ymd << 17n) | hms) + 0x8000000000n;
}

const cases: Case[] = [
  { name: 'TINY', col: { type: T.TINY }, bytes: Buffer.of(0xff), expect: -1 },
  { name: 'TINY UNSIGNED', col: { type: T.TINY }, bytes: Buffer.of(0xff), expect: 255, unsigned: true },
  { name: 'SHORT', col: { type: T.SHORT }, bytes: u16(0x8000), expect: -32768 },
  { name: 'SHORT UNSIGNED', col: { type: T.SHORT }, bytes: u16(0xffff), expect: 65535, unsigned: true },
  { name: 'INT24', col: { type: T.INT24 }, bytes: Buffer.of(0xff, 0xff, 0xff), expect: -1 },
  {
    name: 'INT24 UNSIGNED',
    col: { type: T.INT24 },
    bytes: Buffer.of(0xff, 0xff, 0xff),
    expect: 16777215,
    unsigned: true,
  },
  { name: 'LONG', col: { type: T.LONG }, bytes: u32(0x80000000), expect: -2147483648 },
  {
    name: 'LONG UNSIGNED',
    col: { type: T.LONG },
    bytes: u32(0xffffffff),
    expect: 4294967295,
    unsigned: true,
  },
  {
    name: 'LONGLONG',
    col: { type: T.LONGLONG },
    bytes: u64(0x8000000000000000n),
    expect: -9223372036854775808n,
  },
  {
    name: 'LONGLONG UNSIGNED',
    col: { type: T.LONGLONG },
    bytes: u64(0xffffffffffffffffn),
    expect: 18446744073709551615n,
    unsigned: true,
  },
  {
    name: 'FLOAT',
    col: { type: T.FLOAT, meta: Buffer.of(4) },
    bytes: Buffer.from(new Float32Array([1.5]).buffer),
    expect: 1.5,
  },
  {
    name: 'DOUBLE',
    col: { type: T.DOUBLE, meta: Buffer.of(8) },
    bytes: Buffer.from(new Float64Array([-2.25e100]).buffer),
    expect: -2.25e100,
  },
  {
    name: 'DECIMAL(14,4) positive',
    col: { type: T.NEWDECIMAL, meta: Buffer.of(14, 4) },
    bytes: Buffer.from('810dfb38d204d2', 'hex'),
    expect: '1234567890.1234',
  },
  {
    name: 'DECIMAL(14,4) negative',
    col: { type: T.NEWDECIMAL, meta: Buffer.of(14, 4) },
    bytes: Buffer.from('7ef204c72dfb2d', 'hex'),
    expect: '-1234567890.1234',
  },
  {
    name: 'DECIMAL(5,2) small',
    col: { type: T.NEWDECIMAL, meta: Buffer.of(5, 2) },
    bytes: Buffer.of(0x80, 0x07, 0x05), // 7.05: intg 3 digits in 2 bytes, frac 2 digits in 1 byte
    expect: '7.05',
  },
  {
    name: 'DECIMAL(10,0) zero',
    col: { type: T.NEWDECIMAL, meta: Buffer.of(10, 0) },
    bytes: Buffer.of(0x80, 0, 0, 0, 0),
    expect: '0',
  },
  { name: 'YEAR', col: { type: T.YEAR }, bytes: Buffer.of(124), expect: 2024 },
  { name: 'YEAR zero', col: { type: T.YEAR }, bytes: Buffer.of(0), expect: 0 },
  {
    name: 'DATE',
    col: { type: T.DATE },
    bytes: u48((2024 << 9) | (2 << 5) | 29).subarray(0, 3),
    expect: '2024-02-29',
  },
  { name: 'DATE zero', col: { type: T.DATE }, bytes: Buffer.alloc(3), expect: '0000-00-00' },
  {
    name: 'TIME (old)',
    col: { type: T.TIME },
    bytes: Buffer.from(new Int32Array([-123456]).buffer).subarray(0, 3),
    expect: '-12:34:56',
  },
  {
    name: 'TIME2(0)',
    col: { type: T.TIME2, meta: Buffer.of(0) },
    bytes: be(BigInt((12 << 12) | (34 << 6) | 56) + 0x800000n, 3),
    expect: '12:34:56',
  },
  {
    name: 'TIME2(0) negative',
    col: { type: T.TIME2, meta: Buffer.of(0) },
    bytes: be(0x800000n - BigInt(1 << 12), 3),
    expect: '-01:00:00',
  },
  {
    name: 'TIME2(3)',
    col: { type: T.TIME2, meta: Buffer.of(3) },
    bytes: Buffer.concat([be(BigInt((838 << 12) | (59 << 6) | 59) + 0x800000n, 3), be(5000n, 2)]),
    expect: '838:59:59.500',
  },
  {
    name: 'TIME2(6)',
    col: { type: T.TIME2, meta: Buffer.of(6) },
    bytes: be(((BigInt((1 << 12) | (2 << 6) | 3) << 24n) | 4n) + 0x800000000000n, 6),
    expect: '01:02:03.000004',
  },
  {
    name: 'DATETIME (old)',
    col: { type: T.DATETIME },
    bytes: u64(20200102030405n),
    expect: '2020-01-02 03:04:05',
  },
  {
    name: 'DATETIME2(0)',
    col: { type: T.DATETIME2, meta: Buffer.of(0) },
    bytes: be(datetime2(2020, 1, 2, 3, 4, 5), 5),
    expect: '2020-01-02 03:04:05',
  },
  {
    name: 'DATETIME2(2)',
    col: { type: T.DATETIME2, meta: Buffer.of(2) },
    bytes: Buffer.concat([be(datetime2(9999, 12, 31, 23, 59, 59), 5), Buffer.of(99)]),
    expect: '9999-12-31 23:59:59.99',
  },
  {
    name: 'DATETIME2(6)',
    col: { type: T.DATETIME2, meta: Buffer.of(6) },
    bytes: Buffer.concat([be(datetime2(1000, 1, 1, 0, 0, 0), 5), be(123456n, 3)]),
    expect: '1000-01-01 00:00:00.123456',
  },
  {
    name: 'TIMESTAMP (old)',
    col: { type: T.TIMESTAMP },
    bytes: u32(1700000000),
    expect: '2023-11-14 22:13:20',
  },
  {
    name: 'TIMESTAMP2(2)',
    col: { type: T.TIMESTAMP2, meta: Buffer.of(2) },
    bytes: Buffer.concat([be(1700000000n, 4), Buffer.of(12)]),
    expect: '2023-11-14 22:13:20.12',
  },
  {
    name: 'TIMESTAMP2 zero',
    col: { type: T.TIMESTAMP2, meta: Buffer.of(0) },
    bytes: Buffer.alloc(4),
    expect: '0000-00-00 00:00:00',
  },
  {
    name: 'VARCHAR utf8mb4',
    col: { type: T.VARCHAR, meta: u16(80) },
    bytes: Buffer.concat([Buffer.of(9), Buffer.from('héé😀')]),
    expect: 'héé😀',
    charset: 45,
  },
  {
    name: 'VARCHAR(300) latin1 stays bytes',
    col: { type: T.VARCHAR, meta: u16(300) },
    bytes: Buffer.concat([u16(2), Buffer.of(0xe9, 0x41)]),
    expect: Buffer.of(0xe9, 0x41),
    charset: 8,
  },
  {
    name: 'VARCHAR without charset metadata stays bytes',
    col: { type: T.VARCHAR, meta: u16(10) },
    bytes: Buffer.concat([Buffer.of(2), Buffer.from('ab')]),
    expect: Buffer.from('ab'),
  },
  {
    name: 'CHAR(3) utf8mb4',
    col: { type: T.STRING, meta: Buffer.of(T.STRING, 12) },
    bytes: Buffer.concat([Buffer.of(2), Buffer.from('xy')]),
    expect: 'xy',
    charset: 45,
  },
  {
    name: 'CHAR(100) utf8mb4 (over 255 bytes: length folded into the type byte)',
    col: { type: T.STRING, meta: Buffer.of(0xfe ^ 0x10, 400 & 0xff) }, // 400 bytes: 0x190
    bytes: Buffer.concat([u16(3), Buffer.from('abc')]),
    expect: 'abc',
    charset: 45,
  },
  {
    name: 'BINARY(4) gets its zero padding back',
    col: { type: T.STRING, meta: Buffer.of(T.STRING, 4) },
    bytes: Buffer.concat([Buffer.of(2), Buffer.from('ab')]),
    expect: Buffer.from([0x61, 0x62, 0, 0]),
    charset: 63,
  },
  {
    name: 'ENUM (index without metadata)',
    col: { type: T.STRING, meta: Buffer.of(T.ENUM, 1) },
    bytes: Buffer.of(2),
    expect: 2,
  },
  {
    name: 'SET (bitmask without metadata)',
    col: { type: T.STRING, meta: Buffer.of(T.SET, 1) },
    bytes: Buffer.of(5),
    expect: 5,
  },
  {
    name: 'SET of 64 members',
    col: { type: T.STRING, meta: Buffer.of(T.SET, 8) },
    bytes: u64(0x8000000000000001n),
    expect: 0x8000000000000001n,
  },
  {
    name: 'BIT(10)',
    col: { type: T.BIT, meta: Buffer.of(2, 1) },
    bytes: Buffer.of(0x02, 0xaa),
    expect: Buffer.of(0x02, 0xaa),
  },
  {
    name: 'BIT(64)',
    col: { type: T.BIT, meta: Buffer.of(0, 8) },
    bytes: Buffer.alloc(8, 0xff),
    expect: Buffer.alloc(8, 0xff),
  },
  {
    name: 'BLOB',
    col: { type: T.BLOB, meta: Buffer.of(2) },
    bytes: Buffer.concat([u16(3), Buffer.of(0, 0xff, 0x27)]),
    expect: Buffer.of(0, 0xff, 0x27),
    charset: 63,
  },
  {
    name: 'TEXT utf8mb4 (LONGTEXT)',
    col: { type: T.BLOB, meta: Buffer.of(4) },
    bytes: Buffer.concat([u32(6), Buffer.from("it's\\n")]),
    expect: "it's\\n",
    charset: 46,
  },
  {
    name: 'GEOMETRY',
    col: { type: T.GEOMETRY, meta: Buffer.of(4) },
    bytes: Buffer.concat([u32(25), Buffer.alloc(4), Buffer.of(1, 1, 0, 0, 0), Buffer.alloc(16, 0)]),
    expect: Buffer.concat([Buffer.alloc(4), Buffer.of(1, 1, 0, 0, 0), Buffer.alloc(16, 0)]),
  },
  {
    name: 'JSON (MySQL binary)',
    col: { type: T.JSON, meta: Buffer.of(4) },
    bytes: (() => {
      const j = Buffer.from(
        '0001001600' + '0b000100' + '020c00' + '61' + '02000a00' + '050100' + '040100',
        'hex',
      );
      return Buffer.concat([u32(j.length), j]);
    })(),
    expect: '{"a": [1, true]}',
  },
  { name: 'NULL type', col: { type: T.NULL }, bytes: Buffer.alloc(0), expect: null },
];

for (const c of cases) {
  test(`column type ${c.name}`, () => {
    const d = decoder('8.0.36');
    const optional: Buffer[] = [];
    if (c.unsigned) optional.push(tlv(1, Buffer.of(0x80)));
    if (c.charset !== undefined) optional.push(tlv(3, lenenc(c.charset)));
    const tm = d.decode(tableMap(5, 'db', 't', [c.col], optional)) as TableMapEvent;
    assert.equal(tm.kind, 'table_map');
    const ev = d.decode(rowsEvent(E.WRITE_ROWS, 5, 1, [image([c.bytes])])) as RowsEvent;
    assert.equal(ev.kind, 'rows');
    assert.equal(ev.rows.length, 1);
    assert.deepEqual(ev.rows[0].after![0], c.expect);
  });
}

test('rowColumns: a before image decodes only the wanted columns, skipping the others by width', () => {
  // Every column type as a before image's skipped first column: the next column still decodes.
  for (const c of cases) {
    const d = new BinlogDecoder({ rowColumns: () => ({ before: [false, true] }) });
    const optional: Buffer[] = [];
    if (c.unsigned) optional.push(tlv(1, Buffer.of(0x80)));
    if (c.charset !== undefined) optional.push(tlv(3, lenenc(c.charset)));
    d.decode(fde('8.0.36'));
    d.decode(tableMap(5, 'db', 't', [c.col, { type: T.LONG }], optional));
    const del = d.decode(rowsEvent(E.DELETE_ROWS, 5, 2, [image([c.bytes, u32(42)])])) as RowsEvent;
    assert.deepEqual(del.rows, [{ before: [undefined, 42] }], c.name);
    const upd = d.decode(
      rowsEvent(E.UPDATE_ROWS, 5, 2, [image([c.bytes, u32(42)]), image([c.bytes, u32(43)])]),
    ) as RowsEvent;
    assert.deepEqual(upd.rows[0].before, [undefined, 42], c.name);
    assert.deepEqual(upd.rows[0].after, [c.expect, 43], c.name);
  }
  // the after image's columns the before image skipped: compared byte for byte (NULL = NULL)
  const d3 = new BinlogDecoder({ rowColumns: () => ({ before: [true, false, false, false] }) });
  d3.decode(fde());
  const str = { type: T.VARCHAR, meta: u16(40) };
  d3.decode(
    tableMap(
      2,
      'db',
      't',
      [{ type: T.LONG }, str, str, { type: T.LONG }],
      [tlv(3, Buffer.concat([lenenc(45), lenenc(45)]))],
    ),
  );
  const [same, moved] = [lenencStr('same'), lenencStr('moved')];
  const upd3 = d3.decode(
    rowsEvent(E.UPDATE_ROWS, 2, 4, [
      image([u32(1), same, lenencStr('old'), null]),
      image([u32(1), same, moved, null]),
    ]),
  ) as RowsEvent;
  assert.deepEqual(upd3.rows, [
    { before: [1, undefined, undefined, undefined], after: [1, 'same', 'moved', null], unchanged: 0b1010 },
  ]);
  // skip: no rows; no answer: everything, and asked again at the next event
  const asked: string[] = [];
  const answer: { now?: { skip: boolean } } = {};
  const d = new BinlogDecoder({
    rowColumns: (t) => {
      asked.push(t.table);
      return answer.now;
    },
  });
  d.decode(fde());
  d.decode(tableMap(1, 'db', 't', [{ type: T.LONG }]));
  const rows = () => (d.decode(rowsEvent(E.WRITE_ROWS, 1, 1, [image([u32(1)])])) as RowsEvent).rows;
  assert.deepEqual(rows(), [{ after: [1] }]);
  answer.now = { skip: true };
  assert.deepEqual(rows(), []);
  // the answer holds for the table map and its repetitions (the server writes one per statement)
  d.decode(tableMap(1, 'db', 't', [{ type: T.LONG }]));
  assert.deepEqual(rows(), []);
  assert.deepEqual(asked, ['t', 't']);
});

test('TABLE_MAP optional metadata: names, signedness, charsets, enum/set values, primary key, geometry', () => {
  const d = decoder('10.11.19-MariaDB-log');
  const cols: ColSpec[] = [
    { type: T.LONG, nullable: false },
    { type: T.YEAR },
    { type: T.LONGLONG },
    { type: T.VARCHAR, meta: u16(40) },
    { type: T.STRING, meta: Buffer.of(T.ENUM, 1) },
    { type: T.STRING, meta: Buffer.of(T.SET, 1) },
    { type: T.GEOMETRY, meta: Buffer.of(4) },
    { type: T.BLOB, meta: Buffer.of(2) },
  ];
  const names = Buffer.concat(['id', 'y', 'big', 'name', 'e', 's', 'g', 'b'].map(lenencStr));
  const optional = [
    // MariaDB's signedness bitmap covers YEAR too: id, y, big → 0b011 (y and big unsigned)
    tlv(1, Buffer.of(0b01100000)),
    tlv(2, Buffer.concat([lenenc(45), lenenc(1), lenenc(63)])), // default utf8mb4; 2nd char column (the blob) binary
    tlv(4, names),
    tlv(6, Buffer.concat([lenenc(2), lenencStr('x'), lenencStr('y')])),
    tlv(5, Buffer.concat([lenenc(3), lenencStr('p'), lenencStr('q'), lenencStr('r')])),
    tlv(7, lenenc(1)),
    tlv(8, lenenc(0)),
    tlv(10, lenenc(33)),
    tlv(99, Buffer.from('future')),
  ];
  const tm = d.decode(tableMap(70000, 'shop', 'items', cols, optional)) as TableMapEvent;
  assert.equal(tm.tableId, 70000);
  assert.deepEqual(
    tm.columns.map((c) => [c.name, c.unsigned, c.charset, c.nullable]),
    [
      ['id', false, undefined, false],
      ['y', true, undefined, true],
      ['big', true, undefined, true],
      ['name', false, 45, true],
      ['e', false, 33, true],
      ['s', false, 33, true],
      ['g', false, undefined, true],
      ['b', false, 63, true],
    ],
  );
  assert.deepEqual(tm.columns[4].enumValues, ['x', 'y']);
  assert.deepEqual(tm.columns[5].setValues, ['p', 'q', 'r']);
  assert.equal(tm.columns[6].geometryType, 1);
  assert.deepEqual(tm.primaryKey, [0]);
  const row = image([
    u32(1),
    Buffer.of(124),
    u64(5),
    Buffer.concat([Buffer.of(3), Buffer.from('abc')]),
    Buffer.of(2),
    Buffer.of(5),
    null,
    null,
  ]);
  const ev = d.decode(rowsEvent(E.WRITE_ROWS_V1, 70000, cols.length, [row])) as RowsEvent;
  assert.deepEqual(ev.rows[0].after, [1, 2024, 5n, 'abc', 'y', 'p,r', null, null]);
});

test('rows events v1 and v2: insert, update (two images), delete, several rows, NULLs', () => {
  for (const v2 of [false, true]) {
    const d = decoder();
    d.decode(tableMap(1, 'db', 't', [{ type: T.LONG }, { type: T.LONG }]));
    const W = v2 ? E.WRITE_ROWS : E.WRITE_ROWS_V1;
    const U = v2 ? E.UPDATE_ROWS : E.UPDATE_ROWS_V1;
    const D = v2 ? E.DELETE_ROWS : E.DELETE_ROWS_V1;
    const ins = d.decode(rowsEvent(W, 1, 2, [image([u32(1), u32(10)]), image([u32(2), null])])) as RowsEvent;
    assert.deepEqual(ins.rows, [{ after: [1, 10] }, { after: [2, null] }]);
    assert.equal(ins.action, 'insert');
    assert.equal(ins.table.table, 't');
    const upd = d.decode(
      rowsEvent(U, 1, 2, [image([u32(1), u32(10)]), image([u32(1), u32(11)])]),
    ) as RowsEvent;
    assert.deepEqual(upd.rows, [{ before: [1, 10], after: [1, 11] }]);
    const del = d.decode(rowsEvent(D, 1, 2, [image([u32(2), null])])) as RowsEvent;
    assert.deepEqual(del.rows, [{ before: [2, null] }]);
  }
});

test('skipRows leaves row images undecoded (the relay only needs the events)', () => {
  const d = new BinlogDecoder({ checksum: 'CRC32', skipRows: true });
  d.decode(tableMap(1, 'db', 't', [{ type: T.LONG }, { type: T.LONG }]));
  const ins = d.decode(rowsEvent(E.WRITE_ROWS, 1, 2, [image([u32(1), u32(10)])])) as RowsEvent;
  assert.equal(ins.kind, 'rows');
  assert.equal(ins.table.table, 't');
  assert.deepEqual(ins.rows, []);
});

test('partial row images (binlog_row_image=MINIMAL): absent columns are undefined', () => {
  const d = decoder();
  d.decode(tableMap(1, 'db', 't', [{ type: T.LONG }, { type: T.LONG }, { type: T.LONG }]));
  // before image: only column 0 (the key); after image: only column 2
  const upd = d.decode(
    rowsEvent(E.UPDATE_ROWS, 1, 3, [image([u32(7)]), image([u32(99)])], {
      present: Buffer.of(0b001),
      present2: Buffer.of(0b100),
    }),
  ) as RowsEvent;
  assert.deepEqual(upd.rows[0].before, [7, undefined, undefined]);
  assert.deepEqual(upd.rows[0].after, [undefined, undefined, 99]);
});

test('MySQL binary JSON: nested, strings, numbers, literals, large containers, opaque decimal', () => {
  // ["x", 1.5, -3, 4294967296, null, false, {"k": "v"}]
  const str = (s: string): Buffer => Buffer.concat([Buffer.of(s.length), Buffer.from(s)]);
  const obj = Buffer.concat([
    u16(1),
    u16(0),
    u16(11),
    u16(1),
    Buffer.of(0x0c),
    u16(12),
    Buffer.from('k'),
    str('v'),
  ]);
  obj.writeUInt16LE(obj.length, 2);
  const values: [number, Buffer | null, Buffer | null][] = [
    [0x0c, null, str('x')],
    [0x0b, null, Buffer.from(new Float64Array([1.5]).buffer)],
    [0x05, u16(0xfffd), null],
    [0x09, null, u64(4294967296)],
    [0x04, u16(0), null],
    [0x04, u16(2), null],
    [0x00, null, obj],
  ];
  const header = 4 + values.length * 3;
  let dataOff = header;
  const entries: Buffer[] = [];
  const data: Buffer[] = [];
  for (const [t, inline, ext] of values) {
    if (inline) entries.push(Buffer.concat([Buffer.of(t), inline]));
    else {
      entries.push(Buffer.concat([Buffer.of(t), u16(dataOff)]));
      data.push(ext!);
      dataOff += ext!.length;
    }
  }
  const arr = Buffer.concat([u16(values.length), u16(dataOff), ...entries, ...data]);
  assert.equal(
    decodeJson(Buffer.concat([Buffer.of(0x02), arr])),
    '["x", 1.5, -3, 4294967296, null, false, {"k": "v"}]',
  );
  // large array with one inlined int32
  const large = Buffer.concat([Buffer.of(0x03), u32(1), u32(13), Buffer.of(0x07), u32(0xffffffff)]);
  assert.equal(decodeJson(large), '[-1]');
  // opaque DECIMAL(5,2) 7.05
  const dec = Buffer.concat([Buffer.of(0x0f, 246, 5, 5, 2), Buffer.of(0x80, 0x07, 0x05)]);
  assert.equal(decodeJson(dec), '7.05');
  assert.equal(decodeJson(Buffer.of(0x04, 0x01)), 'true');
  assert.throws(() => decodeJson(Buffer.of(0x02, 5, 0)), /truncated JSON/);
});

// ---------------------------------------------------------------- malformed input

function expectDecodeError(fn: () => BinlogEvent, pattern: RegExp): BinlogDecodeError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof BinlogDecodeError, `expected BinlogDecodeError, got ${String(err)}`);
  assert.match(err.message, pattern);
  return err;
}

test('malformed: truncated event names file and position', () => {
  const d = decoder();
  const full = event(E.XID, u64(1), { logPos: 500 });
  const e = expectDecodeError(() => d.decode(full.subarray(0, full.length - 3)), /truncated or corrupt/);
  assert.equal(e.file, 'mysql-bin.000001');
  assert.equal(e.pos, 500 - full.length);
  expectDecodeError(() => d.decode(full.subarray(0, 10)), /header needs 19/);
});

test('malformed: bad checksum', () => {
  const d = decoder();
  const ev = event(E.XID, u64(1), { logPos: 800 });
  ev[20] ^= 0xff;
  const e = expectDecodeError(() => d.decode(ev), /checksum mismatch/);
  assert.match(e.message, /\(mysql-bin\.000001, 769\)/);
  assert.equal(e.eventType, E.XID);
  // verification can be turned off
  const lax = new BinlogDecoder({ verifyChecksum: false });
  lax.decode(fde());
  assert.equal(lax.decode(ev).kind, 'xid');
});

test('malformed: rows without table map, truncated row image, column count mismatch', () => {
  const d = decoder();
  expectDecodeError(
    () => d.decode(rowsEvent(E.WRITE_ROWS, 42, 1, [image([u32(1)])])),
    /without a preceding TABLE_MAP/,
  );
  d.decode(tableMap(1, 'db', 't', [{ type: T.LONG }, { type: T.VARCHAR, meta: u16(10) }]));
  expectDecodeError(
    () =>
      d.decode(
        rowsEvent(E.WRITE_ROWS, 1, 2, [image([u32(1), Buffer.concat([Buffer.of(9), Buffer.from('ab')])])]),
      ),
    /truncated value/,
  );
  expectDecodeError(
    () => d.decode(rowsEvent(E.WRITE_ROWS, 1, 3, [image([u32(1), u32(1), u32(1)])])),
    /has 3 columns but table map/,
  );
});

test('malformed: truncated body fields and unsupported features give typed errors', () => {
  const d = decoder();
  expectDecodeError(() => d.decode(event(E.XID, Buffer.of(1, 2))), /truncated/);
  expectDecodeError(() => d.decode(event(E.ROTATE, Buffer.of(1))), /truncated/);
  expectDecodeError(
    () => d.decode(event(E.MARIADB_WRITE_ROWS_COMPRESSED_V1, Buffer.alloc(10))),
    /log_bin_compress=OFF/,
  );
  expectDecodeError(
    () => d.decode(event(E.TRANSACTION_PAYLOAD, Buffer.alloc(10))),
    /binlog_transaction_compression=OFF/,
  );
  expectDecodeError(
    () => d.decode(event(E.PARTIAL_UPDATE_ROWS, Buffer.alloc(10))),
    /binlog_row_value_options/,
  );
  d.decode(tableMap(3, 'db', 't', [{ type: 200 }]));
  expectDecodeError(
    () => d.decode(rowsEvent(E.WRITE_ROWS, 3, 1, [image([Buffer.of(1)])])),
    /unsupported column type 200/,
  );
  expectDecodeError(
    () => d.decode(tableMap(4, 'db', 't', [{ type: T.VARCHAR, meta: u16(10) }]).subarray(0, 40)),
    /truncated or corrupt/,
  );
});

test('framesOnly decodes boundaries only: table maps, rows and annotations are bare events', () => {
  const d = new BinlogDecoder({ checksum: 'CRC32', framesOnly: true });
  d.decode(fde());
  const map = d.decode(tableMap(1, 'db', 't', [{ type: T.LONG }]));
  assert.deepEqual([map.kind, map.header.typeCode], ['other', E.TABLE_MAP]);
  // a row event of a table never mapped: nothing of it is read
  const ins = d.decode(rowsEvent(E.WRITE_ROWS, 9, 1, [image([u32(1)])]));
  assert.deepEqual([ins.kind, ins.header.eventSize > 19], ['other', true]);
  const xid = d.decode(event(E.XID, u64(7)));
  assert.equal(xid.kind, 'xid');
  // its checksum is still verified
  const bad = event(E.WRITE_ROWS, Buffer.alloc(12));
  bad[bad.length - 1] ^= 1;
  assert.throws(() => d.decode(bad), /checksum mismatch/);
});

test('skipAnnotations: row annotations come back bare, their checksum verified; other events as usual', () => {
  const d = new BinlogDecoder({ checksum: 'CRC32', skipAnnotations: true });
  d.decode(fde());
  const an = d.decode(event(E.MARIADB_ANNOTATE_ROWS, Buffer.from('INSERT INTO t VALUES (1)')));
  assert.deepEqual([an.kind, an.header.typeCode], ['other', E.MARIADB_ANNOTATE_ROWS]);
  assert.equal(d.decode(tableMap(1, 'db', 't', [{ type: T.LONG }])).kind, 'table_map');
  const bad = event(E.MARIADB_ANNOTATE_ROWS, Buffer.from('DELETE'));
  bad[bad.length - 1] ^= 1;
  assert.throws(() => d.decode(bad), /checksum mismatch/);
});

test('rowPart: an intact table map, row event or annotation needs no decoding (framesOnly only)', () => {
  const d = new BinlogDecoder({ checksum: 'CRC32', framesOnly: true });
  d.decode(fde());
  const map = tableMap(1, 'db', 't', [{ type: T.LONG }]);
  const rows = Buffer.concat([Buffer.of(0), rowsEvent(E.WRITE_ROWS, 9, 1, [image([u32(1)])])]);
  assert.ok(d.rowPart(map, 0, map.length));
  assert.ok(d.rowPart(rows, 1, rows.length)); // a packet: its OK byte, then the event
  // not a row part, a bad checksum, a size other than its header's: decode() tells what it is
  const xid = event(E.XID, u64(7));
  assert.ok(!d.rowPart(xid, 0, xid.length));
  const bad = Buffer.from(map);
  bad[bad.length - 1] ^= 1;
  assert.ok(!d.rowPart(bad, 0, bad.length));
  assert.throws(() => d.decode(bad), /checksum mismatch/);
  assert.ok(!d.rowPart(map, 0, map.length - 1));
  // a decoder that decodes rows decodes every row part
  const full = new BinlogDecoder({ checksum: 'CRC32' });
  full.decode(fde());
  assert.ok(!full.rowPart(map, 0, map.length));
});

test('crcIntact: bytes followed by their CRC, whole, behind a 0x00 byte, or inside a larger buffer; small and large', () => {
  for (const size of [20, 60, 100, 300, 5000]) {
    const data = Buffer.alloc(size);
    for (let i = 0; i < size; i++) data[i] = (i * 37 + size) & 0xff;
    const ev = Buffer.concat([data, u32(crc32(data))]);
    const packet = Buffer.concat([Buffer.of(0), ev]);
    const inside = Buffer.concat([Buffer.of(7, 0), ev, Buffer.of(9)]);
    assert.ok(crcIntact(ev, 0, ev.length));
    assert.ok(crcIntact(packet, 1, packet.length));
    assert.ok(crcIntact(inside, 2, 2 + ev.length));
    for (const [b, s, e] of [
      [ev, 0, ev.length],
      [packet, 1, packet.length],
      [inside, 2, 2 + ev.length],
    ] as const) {
      const bad = Buffer.from(b);
      bad[s + 3] ^= 0x10;
      assert.ok(!crcIntact(bad, s, e), `${size} bytes`);
    }
    // a packet whose first byte is not 0x00 is checked from `start`, not as a packet
    const odd = Buffer.concat([Buffer.of(1), ev]);
    assert.ok(crcIntact(odd, 1, odd.length));
  }
});

// Large transactions' inserts as LOAD DATA rows: which columns may go that way, how values are
// written, and how a chunk of row changes becomes round trips in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ColumnType as T } from '../../src/binlog/constants.js';
import type { ColumnInfo, TableMapEvent } from '../../src/binlog/events.js';
import { ByteBuf } from '../../src/mysql/tsv.js';
import { tsvColumn, tsvLoadSQL, tsvRows } from '../../src/units/sync/row-tsv.js';
import { streamSteps } from '../../src/units/sync/stream.js';
import { targetTable, type TargetTable } from '../../src/units/sync/target-table.js';
import type { RowChange } from '../../src/units/sync/dml.js';

const UTF8MB4 = 45;
const LATIN1 = 8;
const BINARY = 63;
const col = (type: number, more: Partial<ColumnInfo> = {}): ColumnInfo => ({
  type,
  mapType: type,
  meta: 0,
  nullable: true,
  unsigned: false,
  ...more,
});
const def = (type: string, collation: string | null = null) => ({ type, collation });

test('a column goes as LOAD DATA text only where the text means what the INSERT literal means', () => {
  // one type family on both sides
  assert.equal(tsvColumn(col(T.LONG), def('int(11)')), true);
  assert.equal(tsvColumn(col(T.LONGLONG), def('bigint(20) unsigned')), true);
  assert.equal(tsvColumn(col(T.DOUBLE), def('double')), true);
  assert.equal(tsvColumn(col(T.FLOAT), def('float')), true);
  assert.equal(tsvColumn(col(T.NEWDECIMAL), def('decimal(10,2)')), true);
  assert.equal(tsvColumn(col(T.DATETIME2), def('datetime(6)')), true);
  assert.equal(tsvColumn(col(T.TIMESTAMP2), def('timestamp')), true);
  assert.equal(tsvColumn(col(T.TIME2), def('time(3)')), true);
  assert.equal(tsvColumn(col(T.DATE), def('date')), true);
  // a number into a string column, a DATETIME into a TIMESTAMP: left to INSERT
  assert.equal(tsvColumn(col(T.DOUBLE), def('varchar(20)', 'utf8mb4_general_ci')), false);
  assert.equal(tsvColumn(col(T.DATETIME2), def('timestamp')), false);
  // strings: bytes go anywhere INSERT's hex literals go; UTF-8 text only into UTF-8 columns
  assert.equal(tsvColumn(col(T.VARCHAR), def('varchar(10)', 'latin1_swedish_ci')), true);
  assert.equal(tsvColumn(col(T.BLOB, { charset: BINARY }), def('blob')), true);
  assert.equal(tsvColumn(col(T.VARCHAR, { charset: LATIN1 }), def('varchar(10)', 'latin1_swedish_ci')), true);
  assert.equal(
    tsvColumn(col(T.VARCHAR, { charset: UTF8MB4 }), def('varchar(10)', 'utf8mb4_general_ci')),
    true,
  );
  assert.equal(tsvColumn(col(T.VARCHAR, { charset: UTF8MB4 }), def('text', 'utf8mb3_general_ci')), true);
  assert.equal(
    tsvColumn(col(T.VARCHAR, { charset: UTF8MB4 }), def('varchar(10)', 'latin1_swedish_ci')),
    false,
  );
  // ENUM and SET by name only (an index would be read as a member's name first)
  assert.equal(tsvColumn(col(T.ENUM), def("enum('2','1')", 'utf8mb4_general_ci')), false);
  assert.equal(
    tsvColumn(col(T.ENUM, { enumValues: ['2', '1'] }), def("enum('2','1')", 'utf8mb4_general_ci')),
    true,
  );
  assert.equal(tsvColumn(col(T.SET, { setValues: ['x'] }), def("set('x')", 'latin1_swedish_ci')), false);
  assert.equal(tsvColumn(col(T.SET, { setValues: ['x'] }), def("set('x')", 'utf8mb4_bin')), true);
  // text forms that differ from literals
  for (const [t, d] of [
    [T.BIT, 'bit(8)'],
    [T.YEAR, 'year(4)'],
    [T.JSON, 'json'],
    [T.GEOMETRY, 'geometry'],
    [T.LONG, 'bit(8)'],
    [T.LONG, 'year(4)'],
    [T.LONG, "enum('a')"],
  ] as const)
    assert.equal(tsvColumn(col(t), def(d)), false, d);
  // a route's extract column (a string) and an unknown target column
  assert.equal(tsvColumn(undefined, def('varchar(20)', 'utf8mb4_general_ci')), true);
  assert.equal(tsvColumn(undefined, def('int')), false);
  assert.equal(tsvColumn(col(T.LONG), undefined), false);
});

const table = (types: [string, ColumnInfo][], autoIncrement = false): TargetTable => {
  const map: TableMapEvent = {
    kind: 'table_map',
    header: { timestamp: 0, typeCode: 19, serverId: 1, eventSize: 0, logPos: 0, flags: 0 },
    tableId: 1,
    flags: 0,
    schema: 'd',
    table: 't',
    columns: types.map(([name, c]) => ({ ...c, name })),
  };
  return targetTable(
    map,
    {
      db: 'd',
      table: 't',
      columns: types.map(([name, c]) => ({
        name,
        generated: false,
        autoIncrement: autoIncrement && name === 'id',
        def: def(c.type === T.LONG ? 'int' : 'varchar(100)', 'utf8mb4_bin'),
      })),
      key: ['id'],
      uniqueKeys: [['id']],
    },
    'd',
    't',
  );
};

test('rows as LOAD DATA lines: NULL as \\N, separators and backslashes escaped, bytes as they are', () => {
  const t = table([
    ['id', col(T.LONG)],
    ['s', col(T.VARCHAR, { charset: UTF8MB4 })],
    ['b', col(T.VARCHAR)],
  ]);
  assert.equal(t.tsv, true);
  const out = new ByteBuf(4);
  const rows = [
    { after: [1, 'a\tb\nc\\d\\N é😀', Buffer.from([0x00, 0x09, 0x5c, 0xff])] },
    { after: [-0, null, Buffer.alloc(0)] },
    { after: [9007199254740993n as unknown as number, '', null] },
  ];
  assert.equal(tsvRows(t, rows, out), true);
  assert.deepEqual(
    out.view(),
    Buffer.concat([
      Buffer.from('1\ta\\tb\\nc\\\\d\\\\N é😀\t', 'utf8'),
      Buffer.from([0x00, 0x5c, 0x74, 0x5c, 0x5c, 0xff]),
      Buffer.from('\n-0\t\\N\t\n9007199254740993\t\t\\N\n', 'utf8'),
    ]),
  );
  // an image without a column (binlog_row_image=MINIMAL): nothing appended, INSERT instead
  const before = out.len;
  assert.equal(tsvRows(t, [{ after: [2, 'x', null] }, { after: [3, undefined, null] }], out), false);
  assert.equal(out.len, before);
  assert.equal(
    tsvLoadSQL(t, false),
    "LOAD DATA LOCAL INFILE 'dm-ts-rows' IGNORE INTO TABLE `d`.`t` CHARACTER SET binary FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (`id`,`s`,`b`)",
  );
  assert.match(tsvLoadSQL(t, true), /^LOAD DATA LOCAL INFILE 'dm-ts-rows' REPLACE INTO TABLE /);
});

test('a chunk becomes round trips in order: runs of 100+ inserts into a LOAD DATA table as rows', () => {
  const t = table([
    ['id', col(T.LONG)],
    ['v', col(T.VARCHAR)],
  ]);
  const other = table([
    ['id', col(T.LONG)],
    ['v', col(T.BIT)],
  ]);
  assert.equal(other.tsv, false);
  const ins = (tt: TargetTable, from: number, n: number): RowChange[] =>
    Array.from({ length: n }, (_, i) => ({ t: tt, op: 'insert', after: [from + i, Buffer.from('v')] }));
  const del: RowChange = { t, op: 'delete', before: [5, Buffer.from('v')] };
  const shape = (steps: ReturnType<typeof streamSteps>) =>
    steps.map((s) =>
      typeof s === 'string'
        ? s.split(' ').slice(0, 3).join(' ')
        : `LOAD ${s.rows.toString().split('\n').length - 1} rows`,
    );

  const del2: RowChange = { t, op: 'delete', before: [6, Buffer.from('v')] };
  const chunk = [
    del,
    ...ins(t, 1000, 150),
    ...ins(other, 1, 150),
    ...ins(t, 2000, 99),
    del2,
    ...ins(t, 3000, 100),
  ];
  assert.deepEqual(shape(streamSteps(chunk, false, false, true)), [
    'DELETE FROM `d`.`t`',
    'LOAD 150 rows',
    'INSERT INTO `d`.`t`', // the other table's 150, the 99 and a delete: statements, one round trip
    'LOAD 100 rows',
  ]);
  const steps = streamSteps(chunk, false, false, true);
  assert.match(steps[2] as string, /INSERT INTO `d`.`t` \(`id`,`v`\) VALUES \(1,0x76\)/);
  assert.match(steps[2] as string, /INSERT INTO `d`.`t` \(`id`,`v`\) VALUES \(2000,0x76\)/);
  assert.match(steps[2] as string, /DELETE FROM `d`.`t` WHERE `id` IN \(6\)$/);
  // safe mode: LOAD DATA … REPLACE; compact: the same split
  assert.match((streamSteps(chunk, true, false, true)[1] as { sql: string }).sql, / REPLACE INTO TABLE /);
  assert.deepEqual(shape(streamSteps(chunk, false, true, true)), shape(steps));
  // a session without LOAD DATA LOCAL: statements only
  assert.ok(streamSteps(chunk, false, false, false).every((s) => typeof s === 'string'));
  // rows lacking a column stay INSERTs
  const partial = ins(t, 1, 200);
  partial[7].after![1] = undefined;
  assert.ok(streamSteps(partial, false, false, true).every((s) => typeof s === 'string'));
});

test('a fed LOAD DATA takes chunks in order, one waiting at most; idle or failed, it takes no more', async () => {
  const { LoadFeed } = await import('../../src/mysql/load-feed.js');
  const ok = { affectedRows: 0, lastInsertId: 0, warnings: 0 };
  // a server that reads a chunk when told to
  const got: string[] = [];
  let take!: () => void;
  const load = async (_sql: string, data: AsyncIterable<Buffer>) => {
    for await (const b of data) {
      got.push(b.toString());
      await new Promise<void>((r) => (take = r));
    }
    return { ...ok, affectedRows: got.length };
  };
  const f = new LoadFeed(load, 'LOAD', Buffer.from('a'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(got, ['a']);
  assert.equal(await f.push(Buffer.from('b')), true); // queued while 'a' is written
  let third = false;
  const p = f.push(Buffer.from('c')).then((v) => (third = v));
  await new Promise((r) => setImmediate(r));
  assert.equal(third, false, 'waits while one chunk is queued');
  take();
  await p;
  assert.equal(third, true);
  take();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(got, ['a', 'b', 'c']);
  take();
  assert.equal((await f.finish()).affectedRows, 3);
  assert.equal(f.open, false);
  assert.equal(await f.push(Buffer.from('d')), false);

  // without rows for its idle time the statement ends by itself
  const idle = new LoadFeed(
    async (_s, data) => {
      for await (const b of data) void b;
      return ok;
    },
    'LOAD',
    Buffer.from('x'),
    20,
  );
  await idle.done;
  assert.equal(await idle.push(Buffer.from('y')), false);

  // nor past its age: the rows go in the next statement
  const drain = async (_s: string, data: AsyncIterable<Buffer>) => {
    for await (const b of data) void b;
    return ok;
  };
  const old = new LoadFeed(drain, 'LOAD', Buffer.from('x'), 60_000, 0);
  assert.equal(await old.push(Buffer.from('y')), false);
  await old.done;
  const young = new LoadFeed(drain, 'LOAD', Buffer.from('x'), 60_000, 60_000);
  assert.equal(await young.push(Buffer.from('y')), true);
  await young.finish();

  // a failed statement: the producer is told, and finish() gives the error
  let fail!: (e: Error) => void;
  const failing = new LoadFeed(() => new Promise((_r, j) => (fail = j)), 'LOAD', Buffer.from('x'));
  const waiting = failing.push(Buffer.from('y')).then(() => failing.push(Buffer.from('z')));
  fail(new Error('refused'));
  assert.equal(await waiting, false);
  await assert.rejects(failing.finish(), /refused/);
});

/** A target session recording what it is sent (statements by their first two words, LOAD DATA by
 * its line count); its LOAD DATA gives `warnings` listed as `listed`. */
function recordingSession(warnings = 0, listed: Record<string, string>[] = []) {
  const log: string[] = [];
  const conn = {
    flavor: 'mariadb' as const,
    exec: async (sql: string) => void log.push(sql.split(' ').slice(0, 2).join(' ')),
    query: async () => listed,
    close: () => undefined,
    loadLocal: async (_sql: string, data: AsyncIterable<Buffer>) => {
      let lines = 0;
      for await (const b of data) lines += b.toString().split('\n').length - 1;
      log.push(`LOAD ${lines}`);
      const info = `Records: ${lines}  Deleted: 0  Skipped: 0  Warnings: ${warnings}`;
      return { affectedRows: lines, lastInsertId: 0, warnings, info };
    },
  };
  return { conn, log };
}

const kv = table([
  ['id', col(T.LONG)],
  ['v', col(T.VARCHAR)],
]);
const inserts = (from: number, n: number): RowChange[] =>
  Array.from({ length: n }, (_, i) => ({ t: kv, op: 'insert', after: [from + i, Buffer.from('v')] }));

test("a large transaction's chunks: one LOAD DATA takes a table's rows across chunks, ended before the next statement", async () => {
  const { TxnStream } = await import('../../src/units/sync/stream.js');
  const { conn, log } = recordingSession();
  const s = new TxnStream(conn, false, false, true);
  await s.send(inserts(0, 150));
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(log, ['BEGIN'], 'the LOAD DATA waits for more rows');
  await s.send(inserts(1000, 150));
  await s.send([{ t: kv, op: 'delete', before: [5, Buffer.from('v')] }, ...inserts(2000, 120)]);
  assert.equal(await s.settle(), undefined);
  await s.commit('CHECKPOINT x');
  assert.deepEqual(log, ['BEGIN', 'LOAD 300', 'DELETE FROM', 'LOAD 120', 'CHECKPOINT x;\nCOMMIT']);

  // a table with an AUTO_INCREMENT column: a LOAD DATA per chunk (its AUTO-INC lock held only
  // while the statement runs)
  const auto = table(
    [
      ['id', col(T.LONG)],
      ['v', col(T.VARCHAR)],
    ],
    true,
  );
  assert.equal(auto.autoIncrement, true);
  const other = recordingSession();
  const a = new TxnStream(other.conn, false, false, true);
  const rows = (from: number) => inserts(from, 150).map((c) => ({ ...c, t: auto }));
  await a.send(rows(0));
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(other.log, ['BEGIN', 'LOAD 150'], 'ended before the next chunk comes');
  await a.send(rows(1000));
  await a.commit('CHECKPOINT y');
  assert.deepEqual(other.log, ['BEGIN', 'LOAD 150', 'LOAD 150', 'CHECKPOINT y;\nCOMMIT']);
});

test('a LOAD DATA whose warnings are refused fails the transaction with its own statement, before the next one', async () => {
  const { TxnStream } = await import('../../src/units/sync/stream.js');
  const { conn, log } = recordingSession(1, [
    { Level: 'Warning', Code: '1265', Message: "Data truncated for column 'v' at row 7" },
  ]);
  const s = new TxnStream(conn, false, false, true);
  await s.send(inserts(0, 150));
  await s.send([{ t: kv, op: 'delete', before: [5, Buffer.from('v')] }]);
  const failure = await s.settle();
  assert.match(String(failure?.error), /Error 1265 \(HY000\): Data truncated for column 'v' at row 7/);
  assert.match(failure!.sql!, /^LOAD DATA LOCAL INFILE 'dm-ts-rows' IGNORE INTO TABLE `d`\.`t` /);
  assert.deepEqual(log, ['BEGIN', 'LOAD 150'], 'nothing sent after the refused LOAD DATA');
  await s.rollback();
  assert.deepEqual(log, ['BEGIN', 'LOAD 150', 'ROLLBACK']);
});

test('LOAD DATA LOCAL only where @@local_infile is on, and not on TiDB (its LOAD DATA commits every 20 000 rows)', async () => {
  const { takesLoadDataLocal } = await import('../../src/mysql/tsv.js');
  const answering = (rows: Record<string, string | null>[] | Error) => ({
    flavor: 'mysql' as const,
    exec: async () => undefined,
    query: async () => {
      if (rows instanceof Error) throw rows;
      return rows;
    },
    close: () => undefined,
  });
  assert.equal(
    await takesLoadDataLocal(answering([{ v: '1', version: '10.11.19-MariaDB-0+deb12u1' }])),
    true,
  );
  assert.equal(await takesLoadDataLocal(answering([{ v: '1', version: '8.0.36' }])), true);
  assert.equal(await takesLoadDataLocal(answering([{ v: '0', version: '8.0.36' }])), false);
  assert.equal(await takesLoadDataLocal(answering([{ v: '1', version: '8.0.11-TiDB-v7.5.0' }])), false);
  assert.equal(
    await takesLoadDataLocal(answering(new Error("Unknown system variable 'local_infile'"))),
    false,
  );
});

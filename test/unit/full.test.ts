// Pure parts of Dump and Load: row encoding, chunking, file names, metadata, statement splitting,
// on-duplicate rewriting, the stage machine and block-allow lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeRow, valueKind, ValueKind } from '../../src/units/dump/rowsql.js';
import { ByteBuf } from '../../src/mysql/tsv.js';
import { chunkConditions, chunkCount } from '../../src/units/dump/chunks.js';
import { interleave } from '../../src/units/dump/dump.js';
import { addKeysSQL, splitSecondaryKeys } from '../../src/units/dump/keys.js';
import { DumpFeed } from '../../src/units/dump/feed.js';
import { FileQueue } from '../../src/units/load/queue.js';
import { dataFile, parseDumpFile, schemaCreateFile, tableSchemaFile } from '../../src/units/dump/files.js';
import { formatMetadata, parseMetadata } from '../../src/units/dump/metadata.js';
import { foreignDump } from '../../src/units/dump/ownership.js';
import { splitStatements } from '../../src/units/load/statements.js';
import { applyOnDuplicate } from '../../src/units/load/load.js';
import { percent, toProcessError, ExecSQLError } from '../../src/units/unit.js';
import { DMError, ERR } from '../../src/errors.js';
import { nextStage, transition, type Stage, type StageEvent } from '../../src/task/stage.js';
import { blockAllowFilter, namePattern } from '../../src/rules/balist.js';
import { ServerError } from '../../src/mysql/protocol.js';

/** A text-protocol row packet: length-encoded values, 0xfb for NULL. */
function row(...values: (Buffer | string | null)[]): Buffer {
  const parts: Buffer[] = [];
  for (const v of values) {
    if (v === null) parts.push(Buffer.of(0xfb));
    else {
      const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
      if (b.length < 251) parts.push(Buffer.of(b.length));
      else if (b.length < 65536) parts.push(Buffer.of(0xfc, b.length & 0xff, b.length >> 8));
      else parts.push(Buffer.of(0xfd, b.length & 0xff, (b.length >> 8) & 0xff, b.length >> 16));
      parts.push(b);
    }
  }
  return Buffer.concat(parts);
}

function encode(p: Buffer, kinds: ValueKind[]): Buffer {
  const out = new ByteBuf(16);
  encodeRow(p, kinds, out);
  return Buffer.from(out.view());
}

test('rows encode byte-exactly: numbers raw, strings escaped, BIT/GEOMETRY hex, NULL', () => {
  const R = ValueKind.Raw;
  const Q = ValueKind.Quoted;
  const H = ValueKind.Hex;
  assert.equal(encode(row('-12', '3.5e-7', null), [R, R, R]).toString(), '(-12,3.5e-7,NULL)');
  assert.equal(
    encode(row("it's", 'a\\b', 'x\ny\r\0\x1az', '"q"', ''), [Q, Q, Q, Q, Q]).toString(),
    "('it\\'s','a\\\\b','x\\ny\\r\\0\\Zz','\"q\"','')",
  );
  // Bytes of any charset pass through untouched (latin1 é, invalid UTF-8, emoji).
  const raw = encode(row(Buffer.from([0xe9, 0xff, 0xf0, 0x9f, 0x98, 0x80])), [Q]);
  assert.deepEqual(raw, Buffer.from([0x28, 0x27, 0xe9, 0xff, 0xf0, 0x9f, 0x98, 0x80, 0x27, 0x29]));
  assert.equal(encode(row(Buffer.from([0x01, 0xab]), Buffer.alloc(0)), [H, H]).toString(), "(0x01AB,'')");
  // Long values (2- and 3-byte lengths)
  const long = 'x'.repeat(70_000);
  assert.equal(encode(row(long, 'y'.repeat(300)), [Q, Q]).toString(), `('${long}','${'y'.repeat(300)}')`);
});

test('value kinds follow the wire type', () => {
  for (const t of [1, 2, 3, 4, 5, 8, 9, 13, 246]) assert.equal(valueKind({ type: t }), ValueKind.Raw);
  for (const t of [16, 255]) assert.equal(valueKind({ type: t }), ValueKind.Hex);
  for (const t of [7, 10, 11, 12, 15, 245, 247, 248, 252, 253, 254])
    assert.equal(valueKind({ type: t }), ValueKind.Quoted);
});

test('chunks cover the key range exactly once; small or keyless tables stay whole', () => {
  const o = { threads: 4, rows: 0, chunkBytes: 64 << 20 };
  assert.deepEqual(chunkConditions({ estimatedRows: 1e6, dataBytes: 1e9 }, o), [undefined]);
  assert.deepEqual(
    chunkConditions({ splitColumn: 'id', min: 1n, max: 100n, estimatedRows: 100, dataBytes: 1e4 }, o),
    [undefined],
  );
  const conds = chunkConditions(
    { splitColumn: 'id', min: 1n, max: 1_000_000n, estimatedRows: 1e6, dataBytes: 200e6 },
    o,
  );
  assert.equal(conds.length, 8);
  assert.equal(conds[0], '`id` < 125001');
  assert.equal(conds[1], '`id` >= 125001 AND `id` < 250001');
  assert.equal(conds[7], '`id` >= 875001');
  // Check coverage by evaluating the conditions over sample keys.
  const holds = (c: string, v: bigint) =>
    c.split(' AND ').every((p) => {
      const [, op, n] = /`id` (<|>=) (-?\d+)/.exec(p)!;
      return op === '<' ? v < BigInt(n) : v >= BigInt(n);
    });
  for (const v of [-5n, 1n, 125000n, 125001n, 999_999n, 1_000_000n, 5_000_000n]) {
    assert.equal(conds.filter((c) => holds(c!, v)).length, 1, `key ${v}`);
  }
  // rows option; bigint keys beyond 2^53; never more chunks than keys
  assert.equal(
    chunkCount(
      { splitColumn: 'id', min: 0n, max: 10n ** 19n, estimatedRows: 1000, dataBytes: 1 },
      { ...o, rows: 100 },
    ),
    10,
  );
  assert.equal(chunkCount({ splitColumn: 'id', min: 5n, max: 7n, estimatedRows: 3e6, dataBytes: 1e9 }, o), 3);
  // chunk-filesize 0 (DM: no size limit): parallel chunks by threads only, never one per byte
  assert.equal(
    chunkCount(
      { splitColumn: 'id', min: 0n, max: 10n ** 9n, estimatedRows: 3e6, dataBytes: 1e9 },
      { ...o, chunkBytes: 0 },
    ),
    o.threads * 2,
  );
  const big = chunkConditions(
    { splitColumn: 'id', min: -(2n ** 63n), max: 2n ** 63n - 1n, estimatedRows: 100, dataBytes: 1 },
    { ...o, rows: 50 },
  );
  assert.deepEqual(big, ['`id` < 0', '`id` >= 0']);
});

test('dump file names round-trip, whatever the names hold', () => {
  for (const [db, t] of [
    ['db', 'tbl'],
    ['odd db', 'a/b.c'],
    ['100%', 'x.y.z'],
    ['数据库', '表😀'],
  ]) {
    assert.deepEqual(parseDumpFile(schemaCreateFile(db)), { kind: 'schema-create', db });
    assert.deepEqual(parseDumpFile(tableSchemaFile(db, t)), { kind: 'table-schema', db, table: t });
    assert.deepEqual(parseDumpFile(dataFile(db, t, 12)), {
      kind: 'data',
      db,
      table: t,
      index: 12,
      format: 'sql',
    });
    assert.deepEqual(parseDumpFile(dataFile(db, t, 3, 'tsv')), {
      kind: 'data',
      db,
      table: t,
      index: 3,
      format: 'tsv',
    });
  }
  assert.equal(dataFile('db', 't', 1), 'db.t.000001.sql');
  assert.equal(tableSchemaFile('odd db', 'a/b.c'), 'odd db.a%2Fb%2Ec-schema.sql');
  assert.equal(parseDumpFile('metadata'), undefined);
});

test('metadata is written and read in mydumper format', () => {
  const m = {
    startedAt: new Date('2026-01-02T03:04:05Z'),
    finishedAt: new Date('2026-01-02T03:05:06Z'),
    binlogName: 'mysql-bin.000003',
    binlogPos: 1234,
    gtid: '0-1-100,1-2-5',
  };
  const text = formatMetadata(m);
  assert.match(
    text,
    /^Started dump at: 2026-01-02 03:04:05\nSHOW MASTER STATUS:\n\tLog: mysql-bin\.000003\n\tPos: 1234\n\tGTID:0-1-100,1-2-5\n\nFinished dump at: 2026-01-02 03:05:06\n$/,
  );
  assert.deepEqual(parseMetadata(text), m);
  assert.equal(parseMetadata(formatMetadata({ ...m, finishedAt: undefined })).finishedAt, undefined);
  // a MySQL GTID set wrapped over lines, as mydumper writes long sets
  const wrapped =
    'Started dump at: 2026-01-02 03:04:05\nSHOW MASTER STATUS:\n\tLog: b.1\n\tPos: 4\n\tGTID:a-b:1-5,\nc-d:1-9\n\nFinished dump at: 2026-01-02 03:04:06\n';
  assert.equal(parseMetadata(wrapped).gtid, 'a-b:1-5,c-d:1-9');
  assert.throws(() => parseMetadata('Started dump at: x\n'), /no SHOW MASTER STATUS/);
  // this project's run id and upstream, which mydumper's readers skip
  const ours = { ...m, dumpId: 'd1', upstream: '127.0.0.1:3306 0-1' };
  assert.deepEqual(parseMetadata(formatMetadata(ours)), ours);
});

test('a finished dump is resumed only by the run whose id the target recorded, from the same upstream', () => {
  const dir = { dumpId: 'd1', upstream: 'h:1 0-1' };
  assert.equal(foreignDump(dir, 'd1', 'h:1 0-1'), undefined);
  assert.match(foreignDump({}, 'd1', 'h:1 0-1')!, /no dump id/);
  assert.match(foreignDump(dir, undefined, 'h:1 0-1')!, /no record of dump d1/);
  assert.match(foreignDump(dir, 'd2', 'h:1 0-1')!, /records dump d2, the directory holds dump d1/);
  assert.match(foreignDump(dir, 'd1', 'h:2 0-7')!, /taken from h:1 0-1, the upstream now is h:2 0-7/);
});

test('statements split at lines ending with ";", keeping the unfinished tail', () => {
  const text =
    "/*!40101 SET NAMES binary*/;\nINSERT INTO `t` (`a`) VALUES\n(1),\n('x;y'),\n(2);\nINSERT INTO `t` (`a`) VALUES\n(3";
  const { statements, rest } = splitStatements(Buffer.from(text));
  assert.deepEqual(
    statements.map((s) => s.toString()),
    ['/*!40101 SET NAMES binary*/', "INSERT INTO `t` (`a`) VALUES\n(1),\n('x;y'),\n(2)"],
  );
  assert.equal(rest.toString(), 'INSERT INTO `t` (`a`) VALUES\n(3');
});

test('on-duplicate rewrites the INSERT head', () => {
  const sql = Buffer.from('INSERT INTO `t` VALUES (1)');
  assert.equal(applyOnDuplicate(sql, 'replace').toString(), 'REPLACE INTO `t` VALUES (1)');
  assert.equal(applyOnDuplicate(sql, 'ignore').toString(), 'INSERT IGNORE INTO `t` VALUES (1)');
  assert.equal(applyOnDuplicate(sql, 'error'), sql);
  const other = Buffer.from('/*!40101 SET NAMES binary*/');
  assert.equal(applyOnDuplicate(other, 'replace'), other);
});

test('progress and errors look like the seed', () => {
  assert.equal(percent(115, 452), '25.44 %');
  assert.equal(percent(0, 156), '0.00 %');
  assert.equal(percent(0, 0), '0.00 %');
  assert.equal(percent(452, 452), '100.00 %');
  const e = toProcessError(
    new ExecSQLError(
      new ServerError(1062, '23000', "Duplicate entry '1' for key 'PRIMARY'"),
      'file test.t1.sql',
      false,
    ),
  );
  assert.equal(e.Type, 'ExecSQL');
  assert.equal(e.msg, "Error 1062: Duplicate entry '1' for key 'PRIMARY'\nfile test.t1.sql");
  assert.equal(e.retryable, false);
  assert.equal(toProcessError(new Error('boom')).Type, 'UnknownError');
  // An error the upstream answered (a purged binlog) is the upstream's, not a failed SQL statement.
  const upstream = new DMError(ERR.binlogUnavailable, {
    message: 'the upstream cannot send its binlog',
    cause: new ServerError(1236, 'HY000', 'Could not find first log file name in binary log index file'),
  });
  assert.equal(toProcessError(upstream).Type, 'UpstreamError');
});

test('the stage machine allows exactly the seed transitions', () => {
  const allowed: [Stage, StageEvent, Stage][] = [
    ['New', 'run', 'Running'],
    ['New', 'error', 'Paused'],
    ['Running', 'error', 'Paused'],
    ['Running', 'pause', 'Paused'],
    ['Paused', 'resume', 'Running'],
    ['Running', 'stop', 'Stopped'],
    ['Paused', 'stop', 'Stopped'],
    ['Stopped', 'start', 'Running'],
    ['Running', 'finish', 'Finished'],
  ];
  const stages: Stage[] = ['New', 'Running', 'Paused', 'Stopped', 'Finished'];
  const events: StageEvent[] = ['run', 'error', 'pause', 'resume', 'stop', 'start', 'finish'];
  for (const s of stages) {
    for (const ev of events) {
      const want = allowed.find(([a, e]) => a === s && e === ev)?.[2];
      assert.equal(nextStage(s, ev), want, `${s} --${ev}-->`);
    }
  }
  assert.throws(
    () => transition('Stopped', 'resume'),
    /cannot resume a subtask in stage Stopped \(allowed: start\)/,
  );
  assert.throws(() => transition('Finished', 'pause'), /cannot pause a subtask in stage Finished$/);
});

test('block-allow lists: wildcards, regexes, do/ignore of schemas and tables, system schemas', () => {
  assert.ok(namePattern('t_*', false)('T_01'));
  assert.ok(!namePattern('t_*', true)('T_01'));
  assert.ok(namePattern('t_?', false)('t_1'));
  assert.ok(!namePattern('t_?', false)('t_12'));
  assert.ok(namePattern('shard_[0-3]', false)('shard_2'));
  assert.ok(!namePattern('shard_[!0-3]', false)('shard_2'));
  assert.ok(namePattern('~^test.*', false)('test_x'));
  assert.ok(!namePattern('a.b', false)('axb'));

  const none = blockAllowFilter(undefined);
  assert.ok(none.table('app', 't'));
  for (const db of ['mysql', 'information_schema', 'performance_schema', 'sys'])
    assert.ok(!none.table(db, 'x'));

  const f = blockAllowFilter({
    doDbs: ['~^test.*', 'user'],
    ignoreDbs: [],
    doTables: [{ dbName: '~^test.*', tblName: '~^t.*' }],
    ignoreTables: [{ dbName: 'user', tblName: 'log' }],
  });
  assert.ok(f.table('test_1', 't_1'));
  assert.ok(!f.table('test_1', 'x'), 'do-tables restricts tables of test_*');
  assert.ok(f.table('user', 'info'), 'user is in do-dbs and do-tables names none of its tables');
  assert.ok(!f.table('user', 'log'), 'ignore-tables');
  assert.ok(!f.table('other', 't_1'), 'not in do-dbs');

  // schemas migrated even when empty: only those selected whole
  assert.ok(f.wholeSchema('user'));
  assert.ok(!f.wholeSchema('test_1'), 'do-tables narrows test_*');
  assert.ok(!f.wholeSchema('other'));
  assert.ok(none.wholeSchema('app') && !none.wholeSchema('mysql'));
  const onlyTables = blockAllowFilter({
    doDbs: [],
    ignoreDbs: [],
    doTables: [{ dbName: 'a', tblName: 't' }],
    ignoreTables: [],
  });
  assert.ok(!onlyTables.wholeSchema('a') && !onlyTables.wholeSchema('b'));

  const ig = blockAllowFilter({ doDbs: [], ignoreDbs: ['tmp*'], doTables: [], ignoreTables: [] });
  assert.ok(!ig.schema('tmp1'));
  assert.ok(ig.table('app', 'x'));
});

test("query-status errors carry DM v2's ErrLevel, Message and RawCause beside the seed's Type and msg", () => {
  const e = toProcessError(
    new DMError(ERR.execSQL, {
      message: "Error 1062: Duplicate entry '1'",
      cause: new ServerError(1062, '23000', "Duplicate entry '1' for key 'PRIMARY'"),
    }),
  );
  assert.equal(e.Type, 'ExecSQL');
  assert.equal(e.msg, "Error 1062: Duplicate entry '1'");
  assert.equal(e.Message, e.msg);
  assert.equal(e.ErrCode, 10006);
  assert.equal(e.ErrClass, 'database');
  assert.equal(e.ErrLevel, 'high');
  assert.match(e.RawCause!, /Duplicate entry '1' for key 'PRIMARY'/);
  assert.equal(toProcessError(new Error('boom')).RawCause, '');
});

test('rows for LOAD DATA: NULL as \\N, bytes as they are with tab, newline and backslash escaped', async () => {
  const { encodeTsvRow } = await import('../../src/units/dump/rowsql.js');
  const { loadDataSQL } = await import('../../src/units/load/load-data.js');
  const lenenc = (b: Buffer) => Buffer.concat([Buffer.from([b.length]), b]);
  const packet = Buffer.concat([
    lenenc(Buffer.from('42')),
    Buffer.from([0xfb]),
    lenenc(Buffer.from('a\tb\nc\\d\r\0é', 'utf8')),
    lenenc(Buffer.from([0xff, 0x00, 0x5c])),
    lenenc(Buffer.alloc(0)),
  ]);
  const out = new ByteBuf(16);
  encodeTsvRow(packet, 5, out);
  assert.equal(
    out.view().toString('latin1'),
    Buffer.concat([
      Buffer.from('42\t\\N\ta\\tb\\nc\\\\d\r\0', 'latin1'),
      Buffer.from('é', 'utf8'),
      Buffer.from('\t', 'latin1'),
      Buffer.from([0xff, 0x00, 0x5c, 0x5c]),
      Buffer.from('\t\n', 'latin1'),
    ]).toString('latin1'),
  );
  assert.equal(
    loadDataSQL('`t`', '(`a`,`b`)', 'ignore', [{ column: 'c_src', value: "s'1" }]),
    "LOAD DATA LOCAL INFILE 'dm-ts-load' IGNORE INTO TABLE `t` CHARACTER SET binary FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (`a`,`b`) SET `c_src` = 's\\'1'",
  );
  assert.match(loadDataSQL('`t`', '(`a`)', 'replace', []), /' REPLACE INTO TABLE `t` /);
});

test('dump chunks interleave tables: the first chunk of each, then the second of each', () => {
  assert.deepEqual(interleave([['a1', 'a2', 'a3'], ['b1'], [], ['c1', 'c2']]), [
    'a1',
    'b1',
    'c1',
    'a2',
    'c2',
    'a3',
  ]);
  assert.deepEqual(interleave([]), []);
});

test('a dump feed: schemas, then each complete file once, then the end; a failed dump hands out nothing more', async () => {
  const f = new DumpFeed();
  const ready = f.schemasReady();
  f.schemas();
  assert.equal(await ready, true);
  const first = f.take();
  f.file('a.t.000001.tsv');
  f.file('a.t.000002.tsv');
  assert.deepEqual(await first, ['a.t.000001.tsv', 'a.t.000002.tsv']);
  f.file('a.t.000003.tsv');
  f.end(true);
  assert.deepEqual(await f.take(), ['a.t.000003.tsv'], 'files completed before the end still count');
  assert.equal(await f.take(), undefined);
  assert.equal(f.finished, true);

  const failed = new DumpFeed();
  failed.schemas();
  failed.file('a.t.000001.tsv');
  failed.end(false);
  failed.end(true); // the first end counts
  assert.equal(await failed.take(), undefined);
  assert.equal(failed.finished, false);
  const early = new DumpFeed();
  early.end(false);
  assert.equal(await early.schemasReady(), false, 'the dump failed before its schemas');
});

test('the file queue: biggest first, files that come later slot in, a busy table waits, the end once closed', async () => {
  const ac = new AbortController();
  const q = new FileQueue(
    [
      { filename: 'a', size: 1 },
      { filename: 'b', size: 5 },
    ],
    true,
  );
  assert.equal((await q.take(() => true, ac.signal))?.filename, 'b');
  q.add([{ filename: 'c', size: 3 }]);
  assert.equal(
    (await q.take((f) => f.filename !== 'c', ac.signal))?.filename,
    'a',
    'c is busy: a comes first',
  );
  const later = q.take((f) => f.filename === 'd', ac.signal);
  q.add([{ filename: 'd', size: 2 }]);
  assert.equal((await later)?.filename, 'd', 'a file that comes later wakes a waiting worker');
  q.close();
  assert.equal((await q.take(() => true, ac.signal))?.filename, 'c');
  assert.equal(await q.take(() => true, ac.signal), undefined);
  const open = new FileQueue<{ filename: string; size: number }>([], true);
  const waiting = open.take(() => true, ac.signal);
  ac.abort();
  assert.equal(await waiting, undefined, 'an abort ends the wait');
});

test("a large table's plain secondary keys move after its rows; UNIQUE, FULLTEXT and tables with foreign keys or partitions keep theirs", () => {
  const lines = [
    'CREATE TABLE `t` (',
    '  `id` int(11) NOT NULL AUTO_INCREMENT,',
    '  `k` int(11) NOT NULL DEFAULT 0,',
    "  `c` char(10) DEFAULT 'KEY `x`',",
    '  PRIMARY KEY (`id`),',
    '  UNIQUE KEY `u` (`c`),',
    "  KEY `k_1` (`k`) USING BTREE COMMENT 'x,y',",
    '  KEY `odd ,name` (`c`(3) DESC),',
    '  FULLTEXT KEY `ft` (`c`)',
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='a, KEY b'",
  ];
  const create = lines.join('\n');
  const s = splitSecondaryKeys(create)!;
  assert.deepEqual(s.keys, ["KEY `k_1` (`k`) USING BTREE COMMENT 'x,y'", 'KEY `odd ,name` (`c`(3) DESC)']);
  assert.equal(s.table, lines.filter((l) => !/^ {2}KEY /.test(l)).join('\n'));
  assert.equal(
    addKeysSQL('`t`', s.keys),
    "ALTER TABLE `t` ADD KEY `k_1` (`k`) USING BTREE COMMENT 'x,y', ADD KEY `odd ,name` (`c`(3) DESC)",
  );
  // the last definition a key: the one before it loses its comma
  assert.equal(
    splitSecondaryKeys(
      'CREATE TABLE `t` (\n  `id` int,\n  PRIMARY KEY (`id`),\n  KEY `k` (`id`)\n) ENGINE=InnoDB',
    )?.table,
    'CREATE TABLE `t` (\n  `id` int,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB',
  );
  assert.equal(
    splitSecondaryKeys('CREATE TABLE `t` (\n  `id` int,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB'),
    undefined,
  );
  const fk =
    'CREATE TABLE `c` (\n  `p` int,\n  KEY `p` (`p`),\n  CONSTRAINT `f` FOREIGN KEY (`p`) REFERENCES `p` (`id`)\n) ENGINE=InnoDB';
  assert.equal(splitSecondaryKeys(fk), undefined);
  const part =
    'CREATE TABLE `t` (\n  `id` int,\n  KEY `k` (`id`)\n) ENGINE=InnoDB\n PARTITION BY HASH (`id`)\nPARTITIONS 4';
  assert.equal(splitSecondaryKeys(part), undefined);
});

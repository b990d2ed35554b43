// Sync's run driven by canned binlog events against a recording target: DML batches, a DDL
// barrier, a filtered table, a shard-held transaction, recovery from the recorded checkpoint
// after a crash, and an operator's binlog skip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { parseSourceConfig, parseTaskConfig, subTaskConfig } from '../../src/task/config.js';
import { ServerError, ConnectionLost } from '../../src/mysql/protocol.js';
import { SyncUnit } from '../../src/units/sync/sync.js';
import { STREAM_AT } from '../../src/units/sync/stream.js';
import type { ShardCoordinator } from '../../src/units/sync/shard.js';
import { BinlogScript, fakeEdges, RecordingTarget } from '../harness/sync-fakes.js';

const log = pino({ level: 'silent' });

function config(
  extra = '',
  instance = '',
  syncer = '{ worker-count: 2, batch: 3, safe-mode-duration: "0s" }',
) {
  const task = parseTaskConfig(`name: t
task-mode: incremental
target-database: { host: 127.0.0.1, port: 3306, user: root, password: "" }
mysql-instances:
  - source-id: s1
    meta: { binlog-name: mysql-bin.000001, binlog-pos: 4 }
    block-allow-list: bal
    syncer-config-name: g
${instance}
block-allow-list:
  bal:
    do-dbs: ["d", "e"]
    ignore-tables: [{ db-name: d, tbl-name: skipped }]
syncers:
  g: ${syncer}
${extra}`);
  const source = parseSourceConfig(
    'source-id: s1\nfrom: { host: 127.0.0.1, port: 3306, user: root, password: "" }',
  );
  return subTaskConfig(task, source);
}

interface Rig {
  script: BinlogScript;
  target: RecordingTarget;
  unit: SyncUnit;
  starts: { file: string; pos: number }[];
}

function rig(
  script: BinlogScript,
  target = new RecordingTarget(),
  cfg = config(),
  coordinator?: ShardCoordinator,
  streamAt = STREAM_AT,
): Rig {
  for (const t of ['d.t', 'd.u', 'e.t']) target.tables.set(t, ['id']);
  const edges = fakeEdges(
    target,
    () => script.events,
    () => script.at,
  );
  const unit = new SyncUnit(cfg, { hint: async () => undefined, log, edges, coordinator, streamAt });
  return { script, target, unit, starts: edges.starts };
}

/** Runs the unit until it has applied everything the script holds (or stopped by itself). */
async function runToEnd(r: Rig): Promise<Awaited<ReturnType<SyncUnit['process']>>> {
  const ac = new AbortController();
  const done = r.unit.process(ac.signal);
  let result: Awaited<ReturnType<SyncUnit['process']>> | undefined;
  void done.then((x) => (result = x));
  for (let i = 0; i < 500 && !result; i++) {
    if (r.unit.status().synced === true) break;
    await new Promise((res) => setTimeout(res, 10));
  }
  ac.abort();
  return done;
}

function ids(n: number, from = 1): number[] {
  return Array.from({ length: n }, (_, i) => from + i);
}

test('DML: every row applied once, batched several upstream transactions per target commit, checkpoint at the end', async () => {
  const s = new BinlogScript();
  for (let i = 0; i < 20; i++) s.insert({ 'd.t': [i * 2 + 1, i * 2 + 2], 'd.u': [i + 1] });
  const target = new RecordingTarget();
  target.latencyMs = 5; // a target that takes its time: transactions queue up and share commits
  const r = rig(s, target);
  const res = await runToEnd(r);
  assert.deepEqual(res.errors, []);
  assert.deepEqual(
    r.target.inserted('d', 't').sort((a, b) => a - b),
    ids(40),
  );
  assert.deepEqual(
    r.target.inserted('d', 'u').sort((a, b) => a - b),
    ids(20),
  );
  // batch 3: a target statement carries rows of up to three upstream transactions
  assert.ok(r.target.log.length < 40, `${r.target.log.length} statements for 40 table changes`);
  const st = r.unit.status();
  assert.equal(st.syncerBinlog, `(${s.file}, ${s.pos})`);
  assert.equal(st.synced, true);
  // DM v2's fields beside the seed's: 60 row changes of replicated tables, read from the upstream
  assert.equal(st.totalRows, '60');
  assert.match(String(st.recentRps), /^\d+$/);
  assert.equal(st.binlogType, 'remote');
  assert.ok(Number(st.ioTotalBytes) > 0, 'ioTotalBytes counts the binlog bytes read');
  // the checkpoint rows (each applier's, written with its commits) say all of it is applied:
  // a new process applies nothing again
  const statements = target.log.length;
  await runToEnd(rig(s, target));
  assert.equal(target.log.length, statements);
});

test('the reader takes turns with the appliers: a buffered backlog does not hold the first commit until all of it is read', async () => {
  const s = new BinlogScript();
  for (let i = 0; i < 4000; i++) s.insert({ 'd.t': [i + 1] });
  const target = new RecordingTarget();
  target.latencyMs = 1; // a reply is a timer: it runs only when the reader lets other callbacks in
  // (DM's defaults: transactions in flight up to worker-count x batch, more than the backlog)
  const r = rig(s, target, config('', '', '{ worker-count: 16, batch: 1000, safe-mode-duration: "0s" }'));
  let readAtFirstInsert: number | undefined;
  target.refuse = (sql) => {
    if (sql.startsWith('INSERT INTO `d`.`t`')) readAtFirstInsert ??= Number(r.unit.status().totalEvents);
    return undefined;
  };
  const res = await runToEnd(r);
  assert.deepEqual(res.errors, []);
  assert.equal(r.target.inserted('d', 't').length, 4000);
  assert.ok(
    readAtFirstInsert! < s.events.length / 2,
    `the first INSERT ran after ${readAtFirstInsert} of ${s.events.length} events were read`,
  );
});

test('a filtered table is not applied, and its transactions still move the checkpoint', async () => {
  const s = new BinlogScript();
  s.insert({ 'd.t': [1] });
  s.insert({ 'd.skipped': [2] });
  s.insert({ 'other.t': [3] });
  const r = rig(s);
  await runToEnd(r);
  assert.deepEqual(r.target.inserted('d', 't'), [1]);
  assert.equal(r.target.log.filter((x) => /skipped|`other`/.test(x)).length, 0);
  assert.equal(r.unit.status().syncerBinlog, `(${s.file}, ${s.pos})`);
});

test('a DDL is a barrier: everything before it is committed first, everything after comes after', async () => {
  const s = new BinlogScript();
  for (let i = 1; i <= 10; i++) s.insert({ 'd.t': [i] });
  s.ddl('d', 'ALTER TABLE t ADD COLUMN w INT');
  for (let i = 11; i <= 20; i++) s.insert({ 'd.t': [i] });
  const r = rig(s);
  await runToEnd(r);
  const at = r.target.log.findIndex((x) => /^ALTER TABLE t ADD COLUMN w INT$/.test(x));
  assert.ok(at > 0, 'the DDL was applied');
  const before = new RecordingTarget();
  before.log.push(...r.target.log.slice(0, at));
  const after = new RecordingTarget();
  after.log.push(...r.target.log.slice(at + 1));
  assert.deepEqual(
    before.inserted('d', 't').sort((a, b) => a - b),
    ids(10),
  );
  assert.deepEqual(
    after.inserted('d', 't').sort((a, b) => a - b),
    ids(10, 11),
  );
});

test('crash: a commit lost with the connection, then a new process resumes from the recorded checkpoint, nothing twice', async () => {
  const s = new BinlogScript();
  for (let i = 1; i <= 30; i++) s.insert({ 'd.t': [i], 'e.t': [i] });
  const target = new RecordingTarget();
  let commits = 0;
  target.refuse = (sql) =>
    /_syncer_checkpoint/.test(sql) && ++commits === 5
      ? new ConnectionLost('connection closed by the server')
      : undefined;
  const first = rig(s, target);
  const res = await runToEnd(first);
  assert.equal(res.errors[0]?.retryable, true, JSON.stringify(res.errors));
  const partial = target.inserted('d', 't').length;
  assert.ok(partial > 0 && partial < 30, `${partial} applied before the crash`);
  target.refuse = undefined;
  const second = rig(s, target); // a new process: nothing but the target's checkpoint survives
  await runToEnd(second);
  assert.deepEqual(
    target.inserted('d', 't').sort((a, b) => a - b),
    ids(30),
  );
  assert.deepEqual(
    target.inserted('e', 't').sort((a, b) => a - b),
    ids(30),
  );
  assert.ok(second.starts[0].pos > 4, 'resumed from the checkpoint, not from meta');
});

/** A rig whose Sync applies a transaction as it is read once it holds 10 rows. */
function streamRig(s: BinlogScript, target = new RecordingTarget()): Rig {
  return rig(s, target, config(), undefined, { rows: 10, bytes: 1 << 30 });
}

test('a large transaction is applied as it is read, in one target transaction committed with the checkpoint; nothing twice', async () => {
  const s = new BinlogScript();
  for (let i = 1; i <= 5; i++) s.insert({ 'd.t': [i] });
  s.insert({ 'd.t': ids(100, 1000), 'e.t': ids(30, 1000) }, 4);
  for (let i = 6; i <= 10; i++) s.insert({ 'd.t': [i] });
  const target = new RecordingTarget();
  target.latencyMs = 2;
  const r = streamRig(s, target);
  const res = await runToEnd(r);
  assert.deepEqual(res.errors, []);
  assert.deepEqual(
    target.inserted('d', 't').sort((a, b) => a - b),
    [...ids(10), ...ids(100, 1000)],
  );
  assert.deepEqual(target.inserted('e', 't'), ids(30, 1000));
  // in binlog order: the five before it committed first, the five after it after it
  const order = target.inserted('d', 't');
  assert.deepEqual(order.slice(0, 5).sort(), ids(5));
  assert.deepEqual(order.slice(5, 105), ids(100, 1000));
  const plain = new RecordingTarget();
  await runToEnd(rig(s, plain));
  assert.deepEqual(plain.inserted('d', 't').sort(), target.inserted('d', 't').sort());
  assert.equal(target.sessions, plain.sessions + 1, 'one session more: the stream');
  assert.equal(r.unit.status().syncerBinlog, `(${s.file}, ${s.pos})`);
  assert.equal(r.unit.status().synced, true);
  assert.equal(r.unit.status().totalRows, '140');
  const statements = target.log.length;
  await runToEnd(streamRig(s, target));
  assert.equal(target.log.length, statements, 'a new process applies nothing again');
});

test('a large transaction is held whole while an operator decision is pending (it may be for it)', async () => {
  const s = new BinlogScript();
  s.insert({ 'd.t': ids(100, 1000) }, 5);
  const later = s.insert({ 'd.t': [1] });
  const target = new RecordingTarget();
  const r = streamRig(s, target);
  r.unit.handleError('skip', [], later.replace(/^\((.*), (\d+)\)$/, '$1:$2'));
  await runToEnd(r);
  assert.deepEqual(target.inserted('d', 't'), ids(100, 1000));
  const plain = new RecordingTarget();
  await runToEnd(rig(s, plain));
  assert.equal(target.sessions, plain.sessions, 'no session of its own: not streamed');
});

/** Row 1, a transaction of 100 rows (1000…1099, 5 in a rows event), row 2; the large one's end. */
function aroundBig(): { s: BinlogScript; big: string } {
  const s = new BinlogScript();
  s.insert({ 'd.t': [1] });
  const big = s.insert({ 'd.t': ids(100, 1000) }, 5);
  s.insert({ 'd.t': [2] });
  return { s, big };
}

test('a large transaction cut off mid-way (the connection is lost) applies none of its rows; the next process applies it once', async () => {
  const { s, big } = aroundBig();
  const target = new RecordingTarget();
  target.refuse = (sql) =>
    /\(1050,'v1050'\)/.test(sql) ? new ConnectionLost('connection closed by the server') : undefined;
  const first = streamRig(s, target);
  const res = await runToEnd(first);
  assert.equal(res.errors[0]?.retryable, true, JSON.stringify(res.errors));
  assert.match(
    res.errors[0]?.msg ?? '',
    new RegExp(`binlog ${big.replace(/[()]/g, '\\$&')}`),
    'named by its end',
  );
  assert.deepEqual(target.inserted('d', 't'), [1], 'nothing of it is committed');
  target.refuse = undefined;
  await runToEnd(streamRig(s, target));
  assert.deepEqual(target.inserted('d', 't'), [1, ...ids(100, 1000), 2]);
});

test('a large transaction the target refuses is skippable: the failure names its end, binlog skip drops all of it', async () => {
  const { s, big } = aroundBig();
  const target = new RecordingTarget();
  target.refuse = (sql) =>
    /\(1050,'v1050'\)/.test(sql) ? new ServerError(1062, '23000', "Duplicate entry '1050'") : undefined;
  const r = streamRig(s, target);
  const res = await runToEnd(r);
  assert.match(res.errors[0]?.msg ?? '', /Duplicate entry '1050'/);
  assert.equal(r.unit.handleError('skip'), big);
  await runToEnd(r);
  assert.deepEqual(target.inserted('d', 't'), [1, 2]);
  assert.equal(r.unit.status().syncerBinlog, `(${s.file}, ${s.pos})`);
});

test('operator skip: the refused transaction is skipped on resume, the rest applied', async () => {
  const s = new BinlogScript();
  s.insert({ 'd.t': [1] });
  const bad = s.insert({ 'd.t': [2] });
  s.insert({ 'd.t': [3] });
  const target = new RecordingTarget();
  target.refuse = (sql) =>
    /^INSERT INTO `d`.`t`.*\(2,'v2'\)/.test(sql)
      ? new ServerError(1062, '23000', "Duplicate entry '2'")
      : undefined;
  const r = rig(s, target);
  const res = await runToEnd(r);
  assert.match(res.errors[0]?.msg ?? '', /Duplicate entry/);
  assert.equal(res.errors[0]?.retryable, false);
  assert.equal(r.unit.handleError('skip'), bad);
  await runToEnd(r);
  assert.deepEqual(target.inserted('d', 't').sort(), [1, 3]);
  assert.equal(r.unit.status().syncerBinlog, `(${s.file}, ${s.pos})`);
});

test('operator skip: a transaction that fails before the target (its table is missing there) is skippable', async () => {
  const s = new BinlogScript();
  s.insert({ 'd.t': [1] });
  const bad = s.insert({ 'd.gone': [2] });
  s.insert({ 'd.t': [3] });
  const r = rig(s, new RecordingTarget());
  const target = r.target;
  const res = await runToEnd(r);
  assert.match(res.errors[0]?.msg ?? '', /`d`.`gone` does not exist on the target/);
  assert.equal(r.unit.handleError('skip'), bad, 'the failed event is known');
  await runToEnd(r);
  assert.deepEqual(target.inserted('d', 't').sort(), [1, 3]);
});

test('operator inject, revert and list: SQL runs before the event at -b; a reverted skip applies nothing', async () => {
  const s = new BinlogScript();
  s.insert({ 'd.t': [1] });
  const second = s.insert({ 'd.t': [2] });
  const third = s.insert({ 'd.t': [3] });
  const target = new RecordingTarget();
  const r = rig(s, target);
  const at = (p: string) => p.replace(/^\((.*), (\d+)\)$/, '$1:$2');
  assert.equal(r.unit.handleError('inject', ['CREATE TABLE d.side (id INT)'], at(second)), second);
  assert.equal(r.unit.handleError('skip', [], at(third)), third);
  assert.deepEqual(JSON.parse(r.unit.handleError('list')), [
    { binlogPos: second, op: 'inject', sqls: ['CREATE TABLE d.side (id INT)'] },
    { binlogPos: third, op: 'skip', sqls: [] },
  ]);
  r.unit.handleError('revert', [], at(third));
  assert.throws(() => r.unit.handleError('revert', [], at(third)), /no binlog operation at/);
  assert.throws(() => r.unit.handleError('inject', [], at(third)), /needs the SQL to run first/);
  await runToEnd(r);
  assert.deepEqual(target.inserted('d', 't').sort(), [1, 2, 3]);
  const side = target.log.indexOf('CREATE TABLE d.side (id INT)');
  assert.ok(side >= 0, 'the injected statement ran');
  assert.ok(side < target.log.findIndex((x) => /\(2,'v2'\)/.test(x)), 'before the event it was injected at');
  assert.deepEqual(JSON.parse(r.unit.handleError('list')), [], 'nothing pending once applied');
});

test('shard: transactions of a table whose DDL waits on the lock are held back; the rest flows', async () => {
  const s = new BinlogScript();
  s.insert({ 'd.t': [1], 'd.u': [1] });
  s.ddl('d', 'ALTER TABLE t ADD COLUMN w INT');
  s.insert({ 'd.t': [2] }); // held: d.t waits on the lock
  s.insert({ 'd.u': [2] });
  const reports: string[] = [];
  const coordinator: ShardCoordinator = {
    register: async () => undefined,
    report: async (x) => (reports.push(x.table), 'wait'),
    optimistic: async () => 'skip',
    executed: async () => undefined,
    skipped: async () => undefined,
  };
  const cfg = config(
    `routes:
  merge: { schema-pattern: d, table-pattern: "*", target-schema: m, target-table: all }
shard-mode: pessimistic`,
    '    route-rules: [merge]',
  );
  const target = new RecordingTarget();
  target.tables.set('m.all', ['id']);
  const r = rig(s, target, cfg, coordinator);
  // the upstream's table list makes d.t and d.u one shard group
  const upstream = r.unit['c'].edges.upstream;
  r.unit['c'].edges.upstream = async () => {
    const u = await upstream();
    return {
      ...u,
      query: async (sql: string) =>
        /information_schema.TABLES/.test(sql)
          ? [
              { s: 'd', t: 't' },
              { s: 'd', t: 'u' },
            ]
          : u.query(sql),
    };
  };
  const ac = new AbortController();
  const done = r.unit.process(ac.signal);
  for (let i = 0; i < 300 && target.inserted('m', 'all').length < 3; i++)
    await new Promise((x) => setTimeout(x, 10));
  await new Promise((x) => setTimeout(x, 100));
  ac.abort();
  await done;
  assert.deepEqual(reports, ['`d`.`t`']);
  // 1 (t), 1 (u) before the DDL; u's 2 after it; t's 2 held back
  assert.deepEqual(target.inserted('m', 'all').sort(), [1, 1, 2]);
  assert.equal(target.log.filter((x) => /ALTER/.test(x)).length, 0, 'the DDL waits for the lock');
  const st = r.unit.status() as { unresolvedGroups: { target: string }[]; synced: boolean };
  assert.equal(st.unresolvedGroups[0]?.target, '`m`.`all`');
  assert.equal(st.synced, false);
  assert.equal(r.unit.lockId(), 't-`m`.`all`');
});

/** gh-ost's statements for `ALTER TABLE d.t ADD COLUMN c INT`, as it writes them. */
function ghostStart(s: BinlogScript): void {
  s.ddl('d', 'drop /* gh-ost */ table if exists `d`.`_t_gho`');
  s.ddl(
    'd',
    'create /* gh-ost */ table `d`.`_t_ghc` (id bigint auto_increment, hint varchar(64), primary key(id))',
  );
  s.ddl('d', 'create /* gh-ost */ table `d`.`_t_gho` like `d`.`t`');
  s.ddl('d', 'alter /* gh-ost */ table `d`.`_t_gho` add column c int');
  s.insert({ 'd._t_ghc': [1] });
  s.insert({ 'd._t_gho': [1, 2] }); // the row copy
  s.insert({ 'd.t': [3], 'd._t_gho': [3] }); // a change applied to both
}

function ghostCutOver(s: BinlogScript): void {
  s.ddl('d', 'create /* gh-ost */ table `d`.`_t_del` (id int)'); // gh-ost's sentry table
  s.ddl('d', 'drop /* gh-ost */ table if exists `d`.`_t_del`');
  s.ddl('d', 'rename /* gh-ost */ table `d`.`t` to `d`.`_t_del`, `d`.`_t_gho` to `d`.`t`');
  s.ddl('d', 'drop /* gh-ost */ table if exists `d`.`_t_ghc`');
  s.insert({ 'd.t': [4] });
}

const onlineNames = /_t_(gho|ghc|del)/;

test('online DDL (gh-ost): shadow and trash tables never reach the target; the ALTER runs once, on the real table, at the swap', async () => {
  const s = new BinlogScript();
  ghostStart(s);
  ghostCutOver(s);
  const r = rig(s);
  const res = await runToEnd(r);
  assert.deepEqual(res.errors, []);
  assert.deepEqual(
    r.target.log.filter((x) => onlineNames.test(x)),
    [],
  );
  assert.deepEqual(
    r.target.log.filter((x) => /^alter/i.test(x)),
    ['alter /* gh-ost */ table `d`.`t` add column c int'],
  );
  assert.deepEqual(r.target.inserted('d', 't'), [3, 4]);
  assert.equal(r.target.online.size, 0, 'the record ends with the swap');
});

test('online DDL: the recorded ALTER outlives a crash between it and the swap (the record is in the meta schema)', async () => {
  const s = new BinlogScript();
  ghostStart(s);
  const target = new RecordingTarget();
  await runToEnd(rig(s, target));
  assert.deepEqual([...target.online.keys()], ['d._t_gho']);
  assert.deepEqual(JSON.parse(target.online.get('d._t_gho')!), {
    schema: 'd',
    table: 't',
    ddls: ['alter /* gh-ost */ table `d`.`_t_gho` add column c int'],
  });
  ghostCutOver(s);
  await runToEnd(rig(s, target)); // a new process: only the target's meta schema remains
  assert.deepEqual(
    target.log.filter((x) => /^alter/i.test(x)),
    ['alter /* gh-ost */ table `d`.`t` add column c int'],
  );
  assert.deepEqual(target.inserted('d', 't'), [3, 4]);
  assert.equal(target.online.size, 0);
});

test('online DDL: pt-osc with two ALTERs joined, a swap nobody recorded is an error at the RENAME, and online-ddl: false replicates the tables as they are', async () => {
  const s = new BinlogScript();
  s.ddl('d', 'CREATE TABLE `d`.`_t_new` (id INT PRIMARY KEY, v VARCHAR(20))');
  s.ddl('d', 'ALTER TABLE `d`.`_t_new` ADD COLUMN c INT');
  s.ddl('d', 'ALTER TABLE `d`.`_t_new` ADD KEY k (c)');
  s.insert({ 'd._t_new': [1] });
  s.ddl('d', 'RENAME TABLE `d`.`t` TO `d`.`_t_old`, `d`.`_t_new` TO `d`.`t`');
  s.ddl('d', 'DROP TABLE IF EXISTS `d`.`_t_old`');
  const r = rig(s);
  assert.deepEqual((await runToEnd(r)).errors, []);
  assert.deepEqual(
    r.target.log.filter((x) => /_t_(new|old)|ALTER/.test(x)),
    ['ALTER TABLE `d`.`t` ADD COLUMN c INT, ADD KEY k (c)'],
  );

  const late = new BinlogScript();
  late.ddl('d', 'RENAME TABLE `d`.`t` TO `d`.`_t_old`, `d`.`_t_new` TO `d`.`t`');
  const failed = await runToEnd(rig(late));
  assert.equal(failed.errors[0]?.ErrCode, 36046);
  assert.match(
    String(failed.errors[0]?.Message),
    /no ALTER of it was seen: the online schema change began before the task's start/,
  );

  const off = new BinlogScript();
  off.ddl('d', 'CREATE TABLE `d`.`_t_new` (id INT PRIMARY KEY, v VARCHAR(20))');
  off.insert({ 'd._t_new': [7] });
  const o = rig(off, new RecordingTarget(), config('online-ddl: false'));
  o.target.tables.set('d._t_new', ['id']);
  await runToEnd(o);
  assert.deepEqual(o.target.inserted('d', '_t_new'), [7]);
});

test('online DDL: a swap whose ALTER the target refuses pauses at the RENAME; binlog replace runs the operator SQL instead and ends the record', async () => {
  const s = new BinlogScript();
  ghostStart(s);
  const swap = s.ddl('d', 'rename /* gh-ost */ table `d`.`t` to `d`.`_t_del`, `d`.`_t_gho` to `d`.`t`');
  s.insert({ 'd.t': [4] });
  const target = new RecordingTarget();
  target.refuse = (sql) =>
    /^alter .*`d`\.`t` add column c int$/i.test(sql)
      ? new ServerError(1118, '42000', 'Row size too large')
      : undefined;
  const r = rig(s, target);
  const res = await runToEnd(r);
  assert.match(res.errors[0]?.msg ?? '', /Row size too large/);
  assert.equal(r.unit.handleError('replace', ['ALTER TABLE `d`.`t` ADD COLUMN c TEXT']), swap);
  await runToEnd(r);
  assert.deepEqual(
    target.log.filter((x) => /^alter/i.test(x)),
    ['ALTER TABLE `d`.`t` ADD COLUMN c TEXT'],
  );
  assert.deepEqual(target.inserted('d', 't'), [3, 4]);
  assert.equal(target.online.size, 0);
});

// The relay unit against real MariaDB servers: relay files equal the upstream's byte for byte
// (through FLUSH LOGS, a large transaction, DDL, an upstream restart), Sync reads the relay (a
// paused relay holds it back), purging never removes what a subtask needs, and a torn tail after
// a crash is cut off and relayed again.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readdir, readFile, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { masterStatus, server, type MariaDBSandbox } from '../harness/index.js';
import { MARIADB_DEFAULTS, type BinlogProfile } from '../../src/sandbox/mariadb.js';
import { sourceYaml, taskYaml, writeTemp } from '../harness/task.js';
import { assertRelayEqualsUpstream, reached } from '../harness/relay.js';
import { assertTablesEqual } from '../harness/run.js';
import { oltpWriteOnly, sysbenchTables } from '../../src/sandbox/workload.js';
import {
  parseSourceConfig,
  parseTaskConfig,
  subTaskConfigs,
  type SourceConfig,
} from '../../src/task/config.js';
import { SubTask } from '../../src/worker/subtask.js';
import { RelayUnit } from '../../src/units/relay/relay.js';
import type { SubTaskStatus } from '../../src/task/status.js';
import type { BinlogPosition } from '../../src/binlog/position.js';

const quiet = pino({ level: process.env.TEST_LOG ?? 'silent' });

function relaySource(up: MariaDBSandbox, dir: string, extra = ''): SourceConfig {
  return parseSourceConfig(`${sourceYaml('src', up)}enable-relay: true\nrelay-dir: "${dir}"\n${extra}`);
}

function startRelay(
  src: SourceConfig,
  dir: string,
  neededStart?: () => Promise<BinlogPosition | undefined>,
): RelayUnit {
  const r = new RelayUnit(src, { dir, log: quiet, autoResumeMs: 300, neededStart });
  running.add(r);
  r.start();
  return r;
}

const running = new Set<RelayUnit>();

/** A relay directory for the test; when the test ends its relays stop first, then it goes (a
 * relay still writing its meta would keep the directory from being removed). */
async function relayRoot(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dm-ts-relay-'));
  after(async () => {
    for (const r of running) await r.close();
    running.clear();
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

async function until<T>(
  what: string | (() => string),
  f: () => Promise<T | undefined> | T | undefined,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline)
      assert.fail(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until the relay has written everything the upstream has. */
async function relayCaughtUp(up: MariaDBSandbox, relay: RelayUnit): Promise<void> {
  const m = await masterStatus(up);
  const want = `(${m.file}, ${m.pos})`;
  await until(
    () => `relay at ${want} (${JSON.stringify(relay.status())})`,
    () => {
      const st = relay.status();
      if (st.stage === 'Paused' && st.result?.errors.some((e) => !e.retryable))
        assert.fail(JSON.stringify(st.result));
      return reached(st.relayBinlog, want);
    },
  );
}

async function syncCaughtUp(up: MariaDBSandbox, st: SubTask): Promise<SubTaskStatus> {
  const m = await masterStatus(up);
  const want = `(${m.file}, ${m.pos})`;
  return until(
    () => `sync at ${want} (${JSON.stringify(st.status())})`,
    () => {
      const s = st.status();
      if (s.stage === 'Paused' && s.result?.errors.some((e) => !e.retryable))
        assert.fail(JSON.stringify(s.result));
      return reached((s.sync as { syncerBinlog?: string } | undefined)?.syncerBinlog, want) ? s : undefined;
    },
  );
}

/** sb.sbtest1..2 (2000 rows) on `up`, a relay of it, and a running `all` subtask into `down`
 * that reads the relay. */
async function relayedSubtask(
  up: MariaDBSandbox,
  down: MariaDBSandbox,
): Promise<{ relayDir: string; relay: RelayUnit; st: SubTask }> {
  const f = await writeTemp({});
  const relayDir = await relayRoot();
  await sysbenchTables(up, 'sb', 2, 2000);
  const src = relaySource(up, relayDir);
  const task = parseTaskConfig(
    taskYaml({ name: 'relayed', mode: 'all', target: down, sources: ['src'], dir: f.dir }),
  );
  const [cfg] = subTaskConfigs(task, [src]);
  const holder: { st?: SubTask } = {};
  const relay = startRelay(src, relayDir, () => holder.st!.plannedSyncStart());
  const st = new SubTask(cfg, { log: quiet, autoResumeMs: 300, relay });
  holder.st = st;
  after(async () => {
    if (st.stage === 'Running' || st.stage === 'Paused') await st.stop();
  });
  st.start();
  return { relayDir, relay, st };
}

test('relay: files equal the upstream through FLUSH LOGS, a large transaction, DDL and an upstream restart; Sync reads them', async () => {
  const [up, down] = await Promise.all([server(), server()]);
  const { relayDir, relay, st } = await relayedSubtask(up, down);

  // Writes, with FLUSH LOGS between rounds, a 20 MB transaction and DDL.
  for (let round = 0; round < 3; round++) {
    await oltpWriteOnly(up, 'sb', { tables: 2, rows: 2000, txns: 150, concurrency: 4 });
    await up.exec('FLUSH BINARY LOGS');
  }
  await up.exec(
    "CREATE TABLE sb.big (id INT PRIMARY KEY, v LONGTEXT); INSERT INTO sb.big SELECT seq, REPEAT('x', 20000) FROM seq_1_to_1000",
    'mysql',
  );
  await up.exec('ALTER TABLE sb.sbtest2 ADD COLUMN extra INT NOT NULL DEFAULT 7');
  await oltpWriteOnly(up, 'sb', { tables: 2, rows: 2000, txns: 100, concurrency: 2 });

  await relayCaughtUp(up, relay);
  const rs = relay.status();
  assert.equal(rs.relaySubDir, `0-${up.serverId}.000001`);
  assert.equal(rs.relayCatchUpMaster, true);
  assert.equal(rs.stage, 'Running');
  assert.equal(rs.result, null);
  assert.equal(rs.relayBinlogGtid, (await masterStatus(up)).gtid);
  assert.deepEqual(Object.keys(rs).sort(), [
    'masterBinlog',
    'masterBinlogGtid',
    'relayBinlog',
    'relayBinlogGtid',
    'relayCatchUpMaster',
    'relaySubDir',
    'result',
    'stage',
  ]);
  assert.equal((await readFile(join(relayDir, 'server-uuid.index'), 'utf8')).trim(), rs.relaySubDir);
  assert.ok((await assertRelayEqualsUpstream(up, join(relayDir, rs.relaySubDir))) >= 4);
  await syncCaughtUp(up, st);
  await assertTablesEqual(up, down, ['sb.sbtest1', 'sb.sbtest2', 'sb.big']);

  // Sync reads the relay: with the relay paused, new upstream writes do not reach the target.
  await relay.pause();
  assert.equal(relay.status().stage, 'Paused');
  await up.exec('INSERT INTO sb.big VALUES (5001, "while the relay is paused")');
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(await down.exec('SELECT id FROM sb.big WHERE id = 5001'), []);
  assert.equal(relay.status().relayCatchUpMaster, false);
  relay.resume();
  await relayCaughtUp(up, relay);
  await syncCaughtUp(up, st);
  await assertTablesEqual(up, down, ['sb.big']);

  // The upstream restarts mid-stream (a new binlog file): the relay follows, nothing lost or repeated.
  const ac = new AbortController();
  const load = oltpWriteOnly(up, 'sb', {
    tables: 2,
    rows: 2000,
    txns: 0,
    concurrency: 2,
    signal: ac.signal,
  }).catch(() => 0);
  await new Promise((r) => setTimeout(r, 500));
  await up.restart();
  await new Promise((r) => setTimeout(r, 300));
  ac.abort();
  await load;
  await oltpWriteOnly(up, 'sb', { tables: 2, rows: 2000, txns: 100, concurrency: 2 });
  await relayCaughtUp(up, relay);
  await assertRelayEqualsUpstream(up, join(relayDir, rs.relaySubDir));
  await syncCaughtUp(up, st);
  await assertTablesEqual(up, down, ['sb.sbtest1', 'sb.sbtest2', 'sb.big']);

  // Purging: never the file being written, never what the subtask still needs.
  const files = (await readdir(join(relayDir, rs.relaySubDir))).filter((x) => /\.\d+$/.test(x)).sort();
  await assert.rejects(relay.purge('mysql-bin.999999'), /the relay writes/);
  // Sync read the relay's files: DM v2's binlogType says so
  assert.equal((st.status().sync as { binlogType: string }).binlogType, 'local');
  await st.pause();
  const needed = (st.status().sync as { syncerBinlog: string }).syncerBinlog.replace(/^\((\S+),.*$/, '$1');
  await up.exec('FLUSH BINARY LOGS');
  await up.exec('INSERT INTO sb.big VALUES (5002, "after flush")');
  await up.exec('FLUSH BINARY LOGS');
  await relayCaughtUp(up, relay);
  const newest = (await masterStatus(up)).file;
  await assert.rejects(
    relay.purge(newest),
    new RegExp(`still needs ${rs.relaySubDir}/${needed.replace(/\./g, '\\.')}`),
  );
  const gone = await relay.purge(needed);
  assert.deepEqual(
    gone,
    files.filter((x) => x < needed).map((x) => `${rs.relaySubDir}/${x}`),
  );
  st.resume();
  await syncCaughtUp(up, st);
  await assertTablesEqual(up, down, ['sb.big']);
});

// The pull decodes only boundaries and checks checksums on its own thread: the same copy, byte for
// byte, from servers as users run them (no row metadata, GTID strict off; and no checksums).
for (const [title, binlog] of [
  ["MariaDB's defaults", MARIADB_DEFAULTS],
  ['binlog_checksum=NONE, no annotations', { ...MARIADB_DEFAULTS, checksum: 'NONE', annotate: false }],
] as [string, BinlogProfile][]) {
  test(`relay at ${title}: files equal the upstream's, Sync reads them, tables equal`, async () => {
    const [up, down] = await Promise.all([server({ binlog }), server()]);
    const { relayDir, relay, st } = await relayedSubtask(up, down);
    await oltpWriteOnly(up, 'sb', { tables: 2, rows: 2000, txns: 150, concurrency: 4 });
    await up.exec('FLUSH BINARY LOGS');
    await up.exec(
      "CREATE TABLE sb.big (id INT PRIMARY KEY, v LONGTEXT); INSERT INTO sb.big SELECT seq, REPEAT('x', 20000) FROM seq_1_to_500",
      'mysql',
    );
    await oltpWriteOnly(up, 'sb', { tables: 2, rows: 2000, txns: 100, concurrency: 2 });
    await relayCaughtUp(up, relay);
    assert.equal(relay.status().result, null);
    assert.equal(relay.status().relayBinlogGtid, (await masterStatus(up)).gtid);
    assert.ok((await assertRelayEqualsUpstream(up, join(relayDir, relay.status().relaySubDir))) >= 2);
    await syncCaughtUp(up, st);
    assert.equal((st.status().sync as { binlogType: string }).binlogType, 'local');
    await assertTablesEqual(up, down, ['sb.sbtest1', 'sb.sbtest2', 'sb.big']);
  });
}

test('relay: a torn tail after a crash is cut off at restart and relayed again; a relay restart continues its files', async () => {
  const up = await server();
  const relayDir = await relayRoot();
  await up.exec('CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY, v TEXT)');
  const src = relaySource(up, relayDir, 'relay-binlog-name: "mysql-bin.000001"\n');
  let relay = startRelay(src, relayDir);
  for (let i = 0; i < 50; i++) await up.exec(`INSERT INTO d.t VALUES (${i}, REPEAT('a', ${i * 10}))`);
  await relayCaughtUp(up, relay);
  const sub = relay.status().relaySubDir;
  await relay.close();
  const { file } = await masterStatus(up);
  const path = join(relayDir, sub, file);
  const size = (await stat(path)).size;
  // A crash mid-write: half an event beyond the meta.
  await appendFile(path, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]));
  for (let i = 50; i < 100; i++) await up.exec(`INSERT INTO d.t VALUES (${i}, 'after the crash')`);
  relay = startRelay(src, relayDir);
  await relayCaughtUp(up, relay);
  assert.ok((await stat(path)).size > size);
  assert.equal(relay.status().relaySubDir, sub, 'the same sub-directory for the same server');
  await assertRelayEqualsUpstream(up, join(relayDir, sub));
  const meta = await readFile(join(relayDir, sub, 'relay.meta'), 'utf8');
  const m = await masterStatus(up);
  await until('meta written', async () =>
    (await readFile(join(relayDir, sub, 'relay.meta'), 'utf8')).includes(`binlog-pos = ${m.pos}`),
  );
  assert.match(meta, /binlog-name = "mysql-bin\.\d+"/);

  // A system crash can leave the file shorter than its meta: the file is relayed again from its start.
  await relay.close();
  await truncate(path, 200);
  await up.exec("INSERT INTO d.t VALUES (1000, 'after the cut')");
  relay = startRelay(src, relayDir);
  await relayCaughtUp(up, relay);
  await assertRelayEqualsUpstream(up, join(relayDir, sub));
  assert.equal(relay.status().relayBinlogGtid, (await masterStatus(up)).gtid);
});

test('relay: the upstream server changes (a failover to a replica): a new sub-directory, Sync goes on without duplicates', async () => {
  const [a, b, down] = await Promise.all([server(), server(), server()]);
  await sysbenchTables(a, 'sb', 2, 1000);
  await b.exec(`CHANGE MASTER TO master_host = '127.0.0.1', master_port = ${a.port}, master_user = 'root',
      master_password = '', master_use_gtid = slave_pos`);
  await b.exec('START SLAVE');
  const f = await writeTemp({});
  const relayDir = await relayRoot();
  const task = parseTaskConfig(
    taskYaml({ name: 'fo', mode: 'all', target: down, sources: ['src'], dir: f.dir }),
  );
  const run = (up: MariaDBSandbox) => {
    const src = relaySource(up, relayDir);
    const holder: { st?: SubTask } = {};
    const relay = startRelay(src, relayDir, () => holder.st!.plannedSyncStart());
    const st = new SubTask(subTaskConfigs(task, [src])[0], { log: quiet, autoResumeMs: 300, relay });
    holder.st = st;
    after(async () => {
      if (st.stage === 'Running' || st.stage === 'Paused') await st.stop();
    });
    st.start();
    return { relay, st };
  };
  const replicaCaughtUp = async () => {
    const want = (await masterStatus(a)).gtid;
    await until('the replica caught up', async () => {
      const [r] = (await b.exec('SELECT @@gtid_slave_pos p')) as { p: string }[];
      return r.p === want;
    });
  };

  const first = run(a);
  await oltpWriteOnly(a, 'sb', { tables: 2, rows: 1000, txns: 200, concurrency: 2 });
  await a.exec('CREATE TABLE sb.ddl_before (id INT PRIMARY KEY); INSERT INTO sb.ddl_before VALUES (1)');
  await relayCaughtUp(a, first.relay);
  await syncCaughtUp(a, first.st);
  await replicaCaughtUp();
  const oldSub = first.relay.status().relaySubDir;
  await first.st.stop();
  await first.relay.close();

  // Failover: the replica becomes the upstream (same source, another server).
  await b.exec('STOP SLAVE');
  const second = run(b);
  await oltpWriteOnly(b, 'sb', { tables: 2, rows: 1000, txns: 200, concurrency: 2 });
  await b.exec('INSERT INTO sb.ddl_before VALUES (2)');
  await relayCaughtUp(b, second.relay);
  const st = await syncCaughtUp(b, second.st);
  const newSub = second.relay.status().relaySubDir;
  assert.equal(oldSub, `0-${a.serverId}.000001`);
  assert.equal(newSub, `0-${b.serverId}.000002`);
  assert.deepEqual(
    (await readFile(join(relayDir, 'server-uuid.index'), 'utf8')).split('\n').filter(Boolean),
    [oldSub, newSub],
  );
  assert.match((st.sync as { syncerBinlog: string }).syncerBinlog, /^\(mysql-bin\|000002\.\d+, \d+\)$/);
  await assertRelayEqualsUpstream(b, join(relayDir, newSub));
  await assertTablesEqual(b, down, ['sb.sbtest1', 'sb.sbtest2', 'sb.ddl_before']);

  // A restart of Sync in the new sub-directory continues from its relay-named checkpoint.
  await second.st.pause();
  await b.exec('INSERT INTO sb.ddl_before VALUES (3)');
  second.st.resume();
  await syncCaughtUp(b, second.st);
  await assertTablesEqual(b, down, ['sb.ddl_before']);
});

test('relay: the automatic purge (remain-space) removes old files but never the active one or a needed one', async () => {
  const up = await server();
  const relayDir = await relayRoot();
  await up.exec('CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY)');
  // More free space wanted than any disk has: everything that may go, goes, once a second.
  const src = relaySource(
    up,
    relayDir,
    'relay-binlog-name: "mysql-bin.000001"\npurge:\n  interval: 1\n  expires: 0\n  remain-space: 100000000\n',
  );
  let needed: BinlogPosition | undefined = { file: 'mysql-bin.000002', pos: 4 };
  const relay = startRelay(src, relayDir, async () => needed);
  for (let i = 0; i < 4; i++) {
    await up.exec(`INSERT INTO d.t VALUES (${i})`);
    await up.exec('FLUSH BINARY LOGS');
  }
  await relayCaughtUp(up, relay);
  const sub = join(relayDir, relay.status().relaySubDir);
  const names = async () => (await readdir(sub)).filter((x) => /\.\d+$/.test(x)).sort();
  await until('purged up to the needed file', async () => (await names())[0] === 'mysql-bin.000002');
  await new Promise((r) => setTimeout(r, 1200));
  assert.deepEqual(await names(), [
    'mysql-bin.000002',
    'mysql-bin.000003',
    'mysql-bin.000004',
    'mysql-bin.000005',
  ]);
  needed = undefined;
  await until('purged up to the active file', async () => (await names()).join() === 'mysql-bin.000005');
});

test('relay: a purged upstream binlog pauses the relay with the error and its fix, without retrying', async () => {
  const up = await server();
  const relayDir = await relayRoot();
  // A file the upstream does not have (any more): what the relay meets after a PURGE BINARY LOGS.
  const relay = startRelay(relaySource(up, relayDir, 'relay-binlog-name: "mysql-bin.999999"\n'), relayDir);
  await until(
    () => `the relay paused: ${JSON.stringify(relay.status())}`,
    () => relay.status().stage === 'Paused',
    10_000,
  );
  const e = relay.status().result!.errors[0];
  assert.equal(e.ErrCode, 11202);
  assert.equal(e.retryable, false);
  assert.match(e.msg, /mysql-bin\.999999/);
  assert.match(e.Workaround, /purged/);
  assert.equal(e.Type, 'UpstreamError');
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(relay.status().stage, 'Paused', 'not retried');
});

test('relay: relay-binlog-gtid starts at the newest upstream file that begins within that GTID set', async () => {
  const up = await server();
  const relayDir = await relayRoot();
  await up.exec('CREATE DATABASE g; CREATE TABLE g.t (id INT PRIMARY KEY)');
  await up.exec('INSERT INTO g.t VALUES (1)');
  await up.exec('FLUSH BINARY LOGS');
  await up.exec('INSERT INTO g.t VALUES (2)');
  const [{ g }] = (await up.exec('SELECT @@gtid_binlog_pos g')) as { g: string }[];
  await up.exec('INSERT INTO g.t VALUES (3)');
  await up.exec('FLUSH BINARY LOGS');
  await up.exec('INSERT INTO g.t VALUES (4)');
  const relay = startRelay(relaySource(up, relayDir, `relay-binlog-gtid: "${g}"\n`), relayDir);
  await relayCaughtUp(up, relay);
  const sub = join(relayDir, relay.status().relaySubDir);
  assert.deepEqual((await readdir(sub)).filter((x) => /\.\d+$/.test(x)).sort(), [
    'mysql-bin.000002',
    'mysql-bin.000003',
  ]);
  await assertRelayEqualsUpstream(up, sub);
  assert.equal(relay.status().relayBinlogGtid, (await masterStatus(up)).gtid);
});

// dmctl check-data end to end, while Sync runs under write load: two upstream shards merged into
// one target table and a table of many column types, small chunks; five differences planted on
// the target by hand are found exactly (missing, extra, changed with its columns), nothing the
// load has in flight is reported, the statements are written; --fix repairs them and a second
// run finds none; a paused subtask is refused with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { server, masterStatus, type MariaDBSandbox } from '../harness/index.js';
import { sourceYaml, writeTemp } from '../harness/task.js';
import { daemon, dmctl, waitFor, type Proc } from '../harness/cluster.js';
import { call } from '../../src/api/http.js';
import type { QueryStatus } from '../../src/task/status.js';

let up1: MariaDBSandbox, up2: MariaDBSandbox, down: MariaDBSandbox;
let files: Record<string, string> & { dir: string };
let master: Proc;

/** The waits of this file allow 90 s (a dump and load of two sources come first). */
const waitLong = <T>(what: string, f: () => Promise<T | undefined | false>) => waitFor(what, f, 90_000);

const status = () => call<QueryStatus>(master.addr, 'GET', '/apis/v1alpha1/status/merge');

async function caughtUp(): Promise<void> {
  const want = new Map<string, string>();
  for (const [id, s] of [
    ['s1', up1],
    ['s2', up2],
  ] as const) {
    const m = await masterStatus(s);
    want.set(id, `(${m.file}, ${m.pos})`);
  }
  await waitLong('caught up', async () =>
    (await status()).workers.every(
      (w) =>
        (w.subTaskStatus[0]?.sync as { syncerBinlog?: string } | undefined)?.syncerBinlog ===
        want.get(w.source!),
    ),
  );
}

interface Report {
  state: string;
  differences: number;
  fixed: number;
  sqlFile: string;
  peakRssBytes: number;
  msg: string;
  tables: Array<{
    table: string;
    shards: string[];
    rows: number;
    chunks: number;
    differences: number;
    reported: Array<{ kind: string; key: Record<string, string>; columns?: string[]; sql: string }>;
  }>;
}

/** Writes to both upstreams until stopped: rows the check must not report. */
function load(): () => Promise<void> {
  let on = true;
  const loop = (async () => {
    for (let i = 0; on; i++) {
      await up1.exec(
        `INSERT INTO s1.t (id, v) VALUES (${20000 + i}, 'load'); UPDATE s1.t SET v = 'busy${i}' WHERE id = ${1000 + (i % 500)}`,
      );
      await up2.exec(`UPDATE s2.t SET v = 'busy${i}' WHERE id = ${101000 + (i % 500)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return async () => {
    on = false;
    await loop;
  };
}

{
  [up1, up2, down] = await Promise.all([server(), server(), server()]);
  await up1.exec(`CREATE DATABASE s1;
    CREATE TABLE s1.t (id INT PRIMARY KEY, v VARCHAR(40));
    INSERT INTO s1.t SELECT seq, CONCAT('a', seq) FROM mysql.seq_1_to_10000;
    CREATE TABLE s1.a (k VARCHAR(20) NOT NULL, id INT NOT NULL, v VARCHAR(40) CHARACTER SET latin1, n DECIMAL(12,3),
      f FLOAT, d DATETIME(6), ts TIMESTAMP NULL, b VARBINARY(16), j JSON, bt BIT(7), e ENUM('x','y'), PRIMARY KEY (k, id));
    INSERT INTO s1.a SELECT CONCAT('k', seq % 3), seq, CONCAT('é', seq), seq / 7, seq / 9, '2024-02-03 04:05:06.789012',
      '2024-01-01 00:00:00', UNHEX(MD5(seq)), JSON_OBJECT('n', seq), seq % 128, 'y' FROM mysql.seq_1_to_6000;`);
  await up2.exec(`CREATE DATABASE s2; CREATE TABLE s2.t (id INT PRIMARY KEY, v VARCHAR(40));
    INSERT INTO s2.t SELECT 100000 + seq, CONCAT('b', seq) FROM mysql.seq_1_to_10000;`);
  const dir = (await writeTemp({})).dir;
  const t = down.connectionOptions();
  files = await writeTemp({
    's1.yaml': sourceYaml('s1', up1),
    's2.yaml': sourceYaml('s2', up2),
    'task.yaml': `name: merge
task-mode: all
shard-mode: pessimistic
target-database: {host: "${t.host}", port: ${t.port}, user: "${t.user}", password: "${t.password}"}
routes:
  shards: {schema-pattern: "s*", table-pattern: "t", target-schema: shop, target-table: t}
  one: {schema-pattern: "s1", target-schema: shop}
block-allow-list:
  bal: {do-dbs: ["s1", "s2"]}
mysql-instances:
  - {source-id: s1, block-allow-list: bal, route-rules: [shards, one], loader: {dir: "${join(dir, 'd1')}"}}
  - {source-id: s2, block-allow-list: bal, route-rules: [shards, one], loader: {dir: "${join(dir, 'd2')}"}}
`,
  });
  master = await daemon('dm-master', [
    '--name',
    'm',
    '--master-addr',
    '127.0.0.1:0',
    '--data-dir',
    join(files.dir, 'm'),
  ]);
  for (const w of ['w1', 'w2'])
    await daemon(
      'dm-worker',
      ['--name', w, '--worker-addr', '127.0.0.1:0', '--join', master.addr],
      files.dir,
    );
  const r = await dmctl(master.addr, 'operate-source', 'create', files['s1.yaml'], files['s2.yaml']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const s = await dmctl(master.addr, 'start-task', files['task.yaml']);
  assert.equal(s.code, 0, s.stdout + s.stderr);
  await waitLong('both subtasks in Sync', async () => {
    const q = await status();
    return (
      q.workers.length === 2 &&
      q.workers.every((w) => w.subTaskStatus[0]?.unit === 'Sync' && w.subTaskStatus[0].stage === 'Running')
    );
  });
  await caughtUp();
}

test('check-data under load finds exactly the planted differences, writes their SQL, --fix repairs them', async () => {
  await down.exec(`UPDATE shop.t SET v = 'hand' WHERE id = 5; DELETE FROM shop.t WHERE id = 100005;
    INSERT INTO shop.t VALUES (500000, 'extra'); UPDATE shop.a SET n = n + 1, bt = 0 WHERE k = 'k1' AND id = 7;
    DELETE FROM shop.a WHERE k = 'k2' AND id = 8;`);
  const stop = load();
  let first;
  try {
    first = await dmctl(master.addr, 'check-data', 'merge', '--chunk-size', '1000', '--threads', '3');
  } finally {
    await stop();
  }
  assert.equal(first.code, 1, first.stdout + first.stderr);
  const r1 = first.json as unknown as Report;
  assert.equal(r1.state, 'finished', r1.msg);
  assert.match(first.stderr, /check-data: table \d\/2 `shop`\.`[at]`: \d+ chunks, \d+ rows/);
  const found = r1.tables
    .flatMap((t) => t.reported.map((d) => [t.table, d.kind, JSON.stringify(d.key), (d.columns ?? []).join()]))
    .sort();
  assert.deepEqual(found, [
    ['`shop`.`a`', 'changed', '{"k":"k1","id":"7"}', 'n,bt'],
    ['`shop`.`a`', 'missing', '{"k":"k2","id":"8"}', ''],
    ['`shop`.`t`', 'changed', '{"id":"5"}', 'v'],
    ['`shop`.`t`', 'extra', '{"id":"500000"}', ''],
    ['`shop`.`t`', 'missing', '{"id":"100005"}', ''],
  ]);
  assert.equal(r1.differences, 5);
  const merged = r1.tables.find((t) => t.table === '`shop`.`t`')!;
  assert.deepEqual(merged.shards, ['s1:`s1`.`t`', 's2:`s2`.`t`']);
  assert.ok(merged.chunks >= 20, `chunks ${merged.chunks}`);
  const sql = (await readFile(r1.sqlFile, 'utf8')).trim().split('\n');
  assert.equal(sql.length, 5);
  assert.ok(
    sql.some((s) => /^DELETE FROM `shop`\.`t` WHERE `id` = '500000' LIMIT 1;$/.test(s)),
    sql.join('\n'),
  );
  assert.ok(r1.peakRssBytes > 0);

  const fix = await dmctl(master.addr, 'check-data', 'merge', '--fix', '--chunk-size', '1000');
  const r2 = fix.json as unknown as Report;
  assert.equal(r2.differences, 5, fix.stdout);
  assert.equal(r2.fixed, 5, fix.stdout);
  assert.equal(fix.code, 0, fix.stdout + fix.stderr);
  const again = await dmctl(master.addr, 'check-data', 'merge');
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.equal((again.json as unknown as Report).differences, 0);
  // the types' literals put back exactly what the upstream holds
  await caughtUp();
  const [a] = (await up1.exec('CHECKSUM TABLE s1.a')) as Array<{ Checksum: number }>;
  const [b] = (await down.exec('CHECKSUM TABLE shop.a')) as Array<{ Checksum: number }>;
  assert.equal(String(b.Checksum), String(a.Checksum));
});

test('check-data names its mistakes and refuses a paused subtask with the reason', async () => {
  const one = await dmctl(master.addr, 'check-data', 'merge', '--table', 'shop.a');
  assert.equal(one.code, 0, one.stdout);
  assert.deepEqual(
    (one.json as unknown as Report).tables.map((t) => t.table),
    ['`shop`.`a`'],
  );
  const nope = await dmctl(master.addr, 'check-data', 'merge', '--table', 'shop.nope');
  assert.equal(nope.code, 1);
  assert.match(nope.stdout, /replicates no table to shop\.nope/);
  const bad = await dmctl(master.addr, 'check-data', 'merge', '--table', 'nodot');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /should be db\.table/);
  const src = await dmctl(master.addr, 'check-data', 'merge', '-s', 's9');
  assert.equal(src.code, 1);
  assert.match(src.stdout, /no subtask on source\(s\) s9/);

  const p = await dmctl(master.addr, 'pause-task', 'merge');
  assert.equal(p.code, 0, p.stdout);
  await up1.exec(`UPDATE s1.t SET v = 'after-pause' WHERE id = 1`);
  const paused = await dmctl(master.addr, 'check-data', 'merge', '--table', 'shop.t');
  assert.equal(paused.code, 1);
  assert.match(paused.stdout, /the subtask of source s1 is Paused/);
  await dmctl(master.addr, 'resume-task', 'merge');
});

test('cutover is refused while a subtask is paused, with every reason', async () => {
  await dmctl(master.addr, 'pause-task', 'merge');
  const r = await dmctl(master.addr, 'cutover', 'merge');
  assert.equal(r.code, 1);
  assert.match(r.stdout, /cutover of task 'merge' refused: .*the subtask of source s1 is Paused/);
  assert.match(r.stdout, /the subtask of source s2 is Paused/);
  await dmctl(master.addr, 'resume-task', 'merge');
  await waitLong('Sync running again', async () =>
    (await status()).workers.every((w) => w.subTaskStatus[0]?.stage === 'Running'),
  );
});

test('cutover under load with --lock-upstream: the application stops at read-only, the target ends equal', async () => {
  // The application writes as a user without SUPER: read_only stops it.
  for (const s of [up1, up2])
    await s.exec(`CREATE USER app@'127.0.0.1'; GRANT SELECT, INSERT, UPDATE ON *.* TO app@'127.0.0.1'`);
  const mysql = await import('mysql2/promise');
  const app = await Promise.all(
    [up1, up2].map((s) =>
      mysql.createConnection({ host: '127.0.0.1', port: s.port, user: 'app', multipleStatements: true }),
    ),
  );
  let stopped = 0;
  let on = true;
  const writes = (async () => {
    for (let i = 0; on; i++) {
      try {
        await app[0].query(
          `INSERT INTO s1.t (id, v) VALUES (${40000 + i}, 'app'); UPDATE s1.a SET n = n + 1 WHERE id = ${1 + (i % 100)}`,
        );
        await app[1].query(`UPDATE s2.t SET v = 'app${i}' WHERE id = ${102000 + (i % 300)}`);
      } catch (e) {
        if (!/read-only|read_only/i.test((e as Error).message)) throw e;
        stopped++;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  })();
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const r = await dmctl(master.addr, 'cutover', 'merge', '--lock-upstream', '--wait', '120');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const report = (
      r.json as {
        report: {
          verdict: string;
          final: Array<{ source: string; binlog: string; gtid: string; readOnly: boolean }>;
          checkedTables: string[];
        };
      }
    ).report;
    assert.equal(report.verdict, 'equal');
    assert.deepEqual(
      report.final.map((f) => [f.source, f.readOnly]),
      [
        ['s1', true],
        ['s2', true],
      ],
    );
    for (const f of report.final) {
      assert.match(f.binlog, /^\(mysql-bin\.\d+, \d+\)$/);
      assert.match(f.gtid, /^\d+-\d+-\d+/);
    }
    assert.match(r.stderr, /cutover: waiting for source s\d's subtask to apply/);
    assert.ok(stopped > 0, 'the application was stopped by read_only');
    // and the target is equal indeed
    const again = await dmctl(master.addr, 'check-data', 'merge');
    assert.equal(again.code, 0, again.stdout);
  } finally {
    on = false;
    await writes;
    for (const s of [up1, up2]) await s.exec('SET GLOBAL read_only = OFF');
    await Promise.all(app.map((c) => c.end()));
  }
});

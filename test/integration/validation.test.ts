// DM's continuous validation end to end: dm-master, a dm-worker and dmctl as processes, a real
// upstream and target. An `all` task with a `full` validator validates every row change of many
// column types without a false error; rows changed on the target by hand (a column updated, a row
// deleted, a row inserted that the upstream deleted) become exactly those error rows within
// row-error-delay; resolve-error / clear-error work; a worker killed by SIGKILL while rows are
// pending comes back with its pending and error rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { server, masterStatus, type MariaDBSandbox } from '../harness/index.js';
import { sourceYaml, taskYaml, writeTemp } from '../harness/task.js';
import { daemon, dmctl, waitFor, type Proc } from '../harness/cluster.js';
import { call } from '../../src/api/http.js';
import { MARIADB_DEFAULTS } from '../../src/sandbox/mariadb.js';
import type { QueryStatus } from '../../src/task/status.js';

let up: MariaDBSandbox, down: MariaDBSandbox;
let files: Record<string, string> & { dir: string };
let master: Proc;
let worker: Proc;

const status = () => call<QueryStatus>(master.addr, 'GET', '/apis/v1alpha1/status/v');

interface VStatus {
  stage: string;
  mode: string;
  processedRowsStatus: string;
  pendingRowsStatus: string;
  errorRowsStatus: string;
  validatorBinlog: string;
  result: unknown;
}

async function vstatus(): Promise<{ validators: VStatus[]; tableStatuses: Array<Record<string, string>> }> {
  const r = await dmctl(master.addr, 'validation', 'status', 'v');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return r.json as never;
}

async function caughtUp(): Promise<void> {
  const m = await masterStatus(up);
  await waitFor('Sync caught up', async () => {
    const st = (await status()).workers[0]?.subTaskStatus[0];
    return (st?.sync as { syncerBinlog?: string } | undefined)?.syncerBinlog === `(${m.file}, ${m.pos})`;
  });
}

function startWorker(): Promise<Proc> {
  return daemon(
    'dm-worker',
    ['--name', 'w1', '--worker-addr', '127.0.0.1:0', '--join', master.addr, '--keepalive-ttl', '2'],
    files.dir,
  ).then((p) => (worker = p));
}

{
  // the upstream at MariaDB's defaults: no row metadata in the binlog (the validator maps rows by position)
  [up, down] = await Promise.all([server({ binlog: MARIADB_DEFAULTS }), server()]);
  await up.exec(`CREATE DATABASE shop;
    CREATE TABLE shop.t (id INT PRIMARY KEY, v VARCHAR(40) CHARACTER SET latin1, n DECIMAL(10,2), f FLOAT, dbl DOUBLE,
      d DATETIME(3), ts TIMESTAMP NULL, b VARBINARY(16), j JSON, e ENUM('a','b','c'), s SET('x','y'), bt BIT(5),
      u BIGINT UNSIGNED, tx TEXT CHARACTER SET utf8mb4);
    INSERT INTO shop.t SELECT seq, CONCAT('r', seq), seq / 3, seq / 7, seq / 11, '2024-01-02 03:04:05.678',
      '2024-05-06 07:08:09', UNHEX(MD5(seq)), JSON_OBJECT('k', seq), 'b', 'x,y', seq % 32, 18446744073709551615 - seq,
      CONCAT('héllo ', seq) FROM mysql.seq_1_to_200;
    CREATE TABLE shop.big (id INT PRIMARY KEY, v VARCHAR(20));`);
  const dir = (await writeTemp({})).dir;
  files = await writeTemp({
    's1.yaml': sourceYaml('s1', up),
    'task.yaml': taskYaml({
      name: 'v',
      mode: 'all',
      target: down,
      sources: ['s1'],
      dir: join(dir, 'dump'),
      instance: 'validator-config-name: strict',
      extra: `validators:
  strict:
    mode: full
    worker-count: 2
    validate-interval: 500ms
    check-interval: 200ms
    row-error-delay: 6s
    meta-flush-interval: 500ms
    batch-query-size: 7
`,
    }),
  });
  master = await daemon('dm-master', [
    '--name',
    'm',
    '--master-addr',
    '127.0.0.1:0',
    '--data-dir',
    join(files.dir, 'm'),
  ]);
  await startWorker();
  const r = await dmctl(master.addr, 'operate-source', 'create', files['s1.yaml']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
}

test('a full validator validates every change of many column types without a false error', async () => {
  const r = await dmctl(master.addr, 'start-task', files['task.yaml']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  await waitFor('Sync runs with its validator', async () => {
    const st = (await status()).workers[0]?.subTaskStatus[0];
    return st?.unit === 'Sync' && (st.validation as { stage?: string } | undefined)?.stage === 'Running';
  });
  await up.exec(`UPDATE shop.t SET v = CONCAT('ü', v), n = n + 1.25, f = f * 2, dbl = dbl / 3, d = NOW(3), ts = NOW(),
      b = UNHEX('00FF00'), j = JSON_SET(j, '$.x', 'y'), e = 'c', s = 'y', bt = 31, u = u - 1, tx = CONCAT(tx, ' ✓')
      WHERE id <= 60;
    DELETE FROM shop.t WHERE id BETWEEN 61 AND 80;
    INSERT INTO shop.t (id, v, n, f, dbl, b, tx) VALUES (1001, 'new  ', -3.5, 1.1, 2.2, '', 'trailing  '),
      (1002, NULL, NULL, NULL, NULL, NULL, NULL);
    UPDATE shop.t SET id = id + 5000 WHERE id BETWEEN 81 AND 85;
    INSERT INTO shop.big SELECT seq, CONCAT('b', seq) FROM mysql.seq_1_to_25000;`); // one large transaction: Sync and the validator take it as they read it
  await caughtUp();
  const s = await waitFor('every change validated', async () => {
    const v = (await vstatus()).validators[0];
    return (
      v.pendingRowsStatus === 'insert/update/delete: 0/0/0' &&
      /^insert\/update\/delete: [1-9]/.test(v.processedRowsStatus) &&
      v
    );
  });
  assert.equal(s.mode, 'full');
  assert.equal(s.stage, 'Running');
  assert.equal(s.errorRowsStatus, 'new/ignored/resolved: 0/0/0', JSON.stringify(s));
  // DM's fields, in query-status too
  const q = (await status()).workers[0].subTaskStatus[0].validation as Record<string, unknown>;
  for (const f of [
    'task',
    'source',
    'mode',
    'stage',
    'validatorBinlog',
    'validatorBinlogGtid',
    'result',
    'processedRowsStatus',
    'pendingRowsStatus',
    'errorRowsStatus',
    'cutoverBinlogPos',
    'cutoverBinlogGtid',
  ])
    assert.ok(f in q, f);
  const tables = (await vstatus()).tableStatuses;
  assert.deepEqual(tables.map((t) => [t.srcTable, t.dstTable, t.stage]).sort(), [
    ['`shop`.`big`', '`shop`.`big`', 'Running'],
    ['`shop`.`t`', '`shop`.`t`', 'Running'],
  ]);
});

test('rows changed on the target by hand become exactly those error rows; resolve and clear them', async () => {
  const stop = await dmctl(master.addr, 'validation', 'stop', 'v');
  assert.equal(stop.code, 0, stop.stdout);
  // The upstream changes three rows, Sync applies them, then an operator changes the target.
  await up.exec(`UPDATE shop.t SET v = 'up5' WHERE id = 5; UPDATE shop.t SET v = 'up10' WHERE id = 10;
    DELETE FROM shop.t WHERE id = 20; UPDATE shop.t SET v = 'fine' WHERE id = 30;`);
  await caughtUp();
  await down.exec(`UPDATE shop.t SET v = 'hand' WHERE id = 5; DELETE FROM shop.t WHERE id = 10;
    INSERT INTO shop.t (id, v) VALUES (20, 'extra');`);
  const started = Date.now();
  const again = await dmctl(master.addr, 'validation', 'start', 'v');
  assert.equal(again.code, 0, again.stdout);
  const errs = await waitFor('three error rows', async () => {
    const r = await dmctl(master.addr, 'validation', 'show-error', 'v');
    const e = r.json.error as Array<Record<string, string>> | undefined;
    return e && e.length >= 3 && e;
  });
  assert.ok(
    Date.now() - started < 6000 + 10_000,
    `within row-error-delay + 10 s (${Date.now() - started} ms)`,
  );
  assert.deepEqual(
    errs.map((e) => [JSON.parse(e.srcData).id, e.errorType, e.status, e.srcTable, e.dstTable]).sort(),
    [
      [10, 'Expected rows not exist', 'NewErr', '`shop`.`t`', '`shop`.`t`'],
      [20, 'Deleted rows exist', 'NewErr', '`shop`.`t`', '`shop`.`t`'],
      [5, 'Column data not matched', 'NewErr', '`shop`.`t`', '`shop`.`t`'],
    ].sort(),
  );
  const changed = errs.find((e) => JSON.parse(e.srcData).id === 5)!;
  assert.equal(JSON.parse(changed.srcData).v, 'up5');
  assert.equal(JSON.parse(changed.dstData).v, 'hand');
  assert.equal((await vstatus()).validators[0].errorRowsStatus, 'new/ignored/resolved: 3/0/0');

  // DM's checks of the arguments
  const both = await dmctl(master.addr, 'validation', 'resolve-error', 'v', '1', '--all');
  assert.equal(both.code, 1);
  assert.match(both.stderr, /either `--all` or `error-id` should be set/);
  const nope = await dmctl(master.addr, 'validation', 'resolve-error', 'v', '999999');
  assert.equal(nope.code, 1);
  assert.match(nope.stdout, /no validation error row 999999/);
  const mode = await dmctl(master.addr, 'validation', 'start', 'v', '--mode', 'fast');
  assert.equal(mode.code, 1);
  assert.match(mode.stdout, /--mode and --start-time apply only to a first start/);

  const resolve = await dmctl(master.addr, 'validation', 'resolve-error', 'v', changed.id);
  assert.equal(resolve.code, 0, resolve.stdout);
  const ignore = await dmctl(master.addr, 'validation', 'ignore-error', 'v', '--all');
  assert.equal(ignore.code, 0, ignore.stdout);
  assert.equal((await vstatus()).validators[0].errorRowsStatus, 'new/ignored/resolved: 0/3/0');
  const unprocessed = await dmctl(master.addr, 'validation', 'show-error', 'v');
  assert.deepEqual(unprocessed.json.error ?? [], []);
  const clear = await dmctl(master.addr, 'validation', 'clear-error', 'v', '--all');
  assert.equal(clear.code, 0, clear.stdout);
  const all = await dmctl(master.addr, 'validation', 'show-error', '--error', 'all', 'v');
  assert.deepEqual(all.json.error ?? [], []);
});

test('a worker killed by SIGKILL keeps the pending and error rows', async () => {
  await dmctl(master.addr, 'validation', 'stop', 'v');
  await up.exec(`UPDATE shop.t SET v = 'up40' WHERE id = 40; UPDATE shop.t SET v = 'up41' WHERE id = 41;`);
  await caughtUp();
  await down.exec(`UPDATE shop.t SET v = 'hand40' WHERE id = 40`);
  await dmctl(master.addr, 'validation', 'start', 'v');
  // Row 40 fails its checks and waits out row-error-delay (6 s), saved as pending: kill now.
  await waitFor('row 40 pending and saved', async () => {
    const rows = (await down.exec(
      "SELECT COUNT(*) n FROM dm_meta.v_validator_pending_change WHERE source = 's1' AND row_pk = '40'",
    )) as Array<{ n: number }>;
    return Number(rows[0].n) === 1;
  });
  await worker.kill('SIGKILL');
  await startWorker();
  const pending = await waitFor('pending row back after the restart', async () => {
    const v = (await vstatus()).validators[0];
    return v && /insert\/update\/delete: 0\/1\/0/.test(v.pendingRowsStatus) && v;
  });
  assert.match(pending.pendingRowsStatus, /0\/1\/0/);
  const errs = await waitFor('row 40 an error row', async () => {
    const r = await dmctl(master.addr, 'validation', 'show-error', 'v');
    const e = r.json.error as Array<Record<string, string>> | undefined;
    return e && e.length === 1 && e;
  });
  assert.equal(JSON.parse(errs[0].srcData).id, 40);
  assert.equal(JSON.parse(errs[0].dstData).v, 'hand40');
  const v = (await vstatus()).validators[0];
  assert.equal(v.pendingRowsStatus, 'insert/update/delete: 0/0/0');
  assert.equal(v.errorRowsStatus, 'new/ignored/resolved: 1/0/0');
});

test('validation start --mode fast --start-time on a task whose validator has mode none; update sets the cut-over point', async () => {
  const t = down.connectionOptions();
  const dir = (await writeTemp({})).dir;
  const more = await writeTemp({
    'vf.yaml': `name: vf
task-mode: all
target-database: {host: "${t.host}", port: ${t.port}, user: "${t.user}", password: "${t.password}"}
routes:
  r: {schema-pattern: shop, target-schema: shopf}
block-allow-list:
  b: {do-dbs: [shop]}
validators:
  quick: {mode: none, row-error-delay: 2s, validate-interval: 500ms, check-interval: 200ms}
mysql-instances:
  - {source-id: s1, block-allow-list: b, route-rules: [r], validator-config-name: quick, loader: {dir: "${join(dir, 'vf')}"}}
`,
  });
  const s = await dmctl(master.addr, 'start-task', more['vf.yaml']);
  assert.equal(s.code, 0, s.stdout + s.stderr);
  const vfStatus = () => call<QueryStatus>(master.addr, 'GET', '/apis/v1alpha1/status/vf');
  await waitFor('vf in Sync', async () => (await vfStatus()).workers[0]?.subTaskStatus[0]?.unit === 'Sync');
  // mode none: no validation shown until it is started
  assert.equal((await vfStatus()).workers[0].subTaskStatus[0].validation, undefined);
  const from = new Date(Date.now() - 1000).toISOString().slice(0, 19) + '+00:00';
  await new Promise((r) => setTimeout(r, 1100));
  await up.exec(`UPDATE shop.t SET v = 'fast50' WHERE id = 50; DELETE FROM shop.t WHERE id = 51;`);
  const m = await masterStatus(up);
  await waitFor('vf caught up', async () => {
    const st = (await vfStatus()).workers[0].subTaskStatus[0];
    return (st.sync as { syncerBinlog?: string }).syncerBinlog === `(${m.file}, ${m.pos})`;
  });
  await down.exec(
    `DELETE FROM shopf.t WHERE id = 50; UPDATE shopf.t SET v = 'ignored by fast' WHERE id = 52`,
  );
  const bad = await dmctl(master.addr, 'validation', 'start', 'vf', '--mode', 'slow');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /mode should be either `full` or `fast`, current is `slow`/);
  const both = await dmctl(master.addr, 'validation', 'start', 'vf', '--all-task');
  assert.equal(both.code, 1);
  assert.match(both.stderr, /either `task-name` or `all-task` should be set/);
  const start = await dmctl(master.addr, 'validation', 'start', 'vf', '--mode', 'fast', '--start-time', from);
  assert.equal(start.code, 0, start.stdout + start.stderr);
  const upd = await dmctl(
    master.addr,
    'validation',
    'update',
    'vf',
    '--cutover-binlog-pos',
    `(${m.file}, ${m.pos + 1_000_000})`,
  );
  assert.equal(upd.code, 0, upd.stdout + upd.stderr);
  const st = await waitFor(
    'vf validated in fast mode',
    async () => {
      const r = await dmctl(master.addr, 'validation', 'status', 'vf');
      const v = (r.json.validators as VStatus[] | undefined)?.[0];
      return (
        v &&
        v.mode === 'fast' &&
        /^new\/ignored\/resolved: 1\//.test(v.errorRowsStatus) &&
        (r.json as Record<string, unknown>)
      );
    },
    40_000,
  );
  const v = (st.validators as Array<VStatus & { cutoverBinlogPos: string }>)[0];
  assert.equal(v.cutoverBinlogPos, `(${m.file}, ${m.pos + 1_000_000})`);
  const errs = await dmctl(master.addr, 'validation', 'show-error', 'vf');
  const e = errs.json.error as Array<Record<string, string>>;
  assert.deepEqual(
    e.map((x) => [JSON.parse(x.srcData).id, x.errorType, x.dstTable]),
    [[50, 'Expected rows not exist', '`shopf`.`t`']],
  );
  const stopAll = await dmctl(master.addr, 'validation', 'stop', '--all-task');
  assert.equal(stopAll.code, 0, stopAll.stdout);
  const after = await vstatus();
  assert.equal(after.validators[0].stage, 'Stopped');
});

// The upstream mariadbd SIGKILLed twice while Sync tails it under write load (relay off, then on),
// at MariaDB's default binlog settings: a crash-closed binlog file has no ROTATE at its end, so
// Sync must follow the server's artificial ROTATE to the next file. Then the worker is SIGKILLed,
// and the task stopped and started again: every table equal, synced, no error, nothing twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { masterStatus, server, type MariaDBSandbox } from '../harness/index.js';
import { MARIADB_DEFAULTS } from '../../src/sandbox/mariadb.js';
import { sourceYaml, taskYaml, writeTemp } from '../harness/task.js';
import { daemon, dmctl, startMaster, type Proc } from '../harness/cluster.js';
import { assertTablesEqual } from '../harness/run.js';
import { call } from '../../src/api/http.js';
import type { QueryStatus, WorkerStatus } from '../../src/task/status.js';

/** Writes until aborted; a statement failing while the server is down is tried again later. */
async function writer(up: MariaDBSandbox, id: number, signal: AbortSignal): Promise<number> {
  let n = 0;
  while (!signal.aborted) {
    try {
      const c = await up.connect('app');
      try {
        while (!signal.aborted) {
          await c.query('BEGIN');
          await c.query('INSERT INTO t (w, v) VALUES (?, ?)', [id, 'x'.repeat(n % 50)]);
          await c.query('UPDATE counters SET n = n + 1 WHERE id = ?', [1 + (n % 20)]);
          await c.query('COMMIT');
          n++;
        }
      } finally {
        await c.end().catch(() => undefined);
      }
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return n;
}

for (const relay of [false, true]) {
  test(`upstream SIGKILLed twice under load (relay ${relay ? 'on' : 'off'}), then the worker, then stop/start-task: tables equal, synced`, async () => {
    const [up, down] = await Promise.all([server({ binlog: MARIADB_DEFAULTS }), server()]);
    await up.exec(`CREATE DATABASE app;
      CREATE TABLE app.t (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, w INT, v VARCHAR(60));
      CREATE TABLE app.counters (id INT PRIMARY KEY, n INT UNSIGNED NOT NULL);
      INSERT INTO app.counters SELECT seq, 0 FROM mysql.seq_1_to_20`);
    const f = await writeTemp({});
    const files = await writeTemp({
      'source.yaml': `${sourceYaml('s1', up)}${relay ? `enable-relay: true\nrelay-dir: "${join(f.dir, 'relay')}"\n` : ''}`,
      'task.yaml': taskYaml({ name: 'crash', mode: 'all', target: down, sources: ['s1'], dir: f.dir }),
    });
    const master = await startMaster(f.dir);
    const startWorker = (): Promise<Proc> =>
      daemon(
        'dm-worker',
        ['--name', 'w1', '--worker-addr', '127.0.0.1:0', '--join', master.addr, '--keepalive-ttl', '2'],
        f.dir,
      );
    let worker = await startWorker();
    assert.equal((await dmctl(master.addr, 'operate-source', 'create', files['source.yaml'])).code, 0);
    const started = await dmctl(master.addr, 'start-task', files['task.yaml']);
    assert.equal(started.code, 0, started.stdout);

    const status = async (): Promise<WorkerStatus | undefined> =>
      (await call<QueryStatus>(master.addr, 'GET', '/apis/v1alpha1/status/crash').catch(() => undefined))
        ?.workers[0];
    /** Waits until Sync is exactly where the upstream is, and says so. */
    const caughtUp = async (): Promise<void> => {
      let last: WorkerStatus | undefined;
      for (const deadline = Date.now() + 120_000; Date.now() < deadline;) {
        const m = await masterStatus(up);
        last = await status();
        const st = last?.subTaskStatus[0];
        if (st?.stage === 'Paused' && st.result?.errors.some((e) => !e.retryable))
          assert.fail(JSON.stringify(st.result));
        const sync = st?.sync as
          { syncerBinlog?: string; masterBinlog?: string; synced?: boolean } | undefined;
        const at = `(${m.file}, ${m.pos})`;
        if (st?.stage === 'Running' && sync?.syncerBinlog === at && sync.masterBinlog === at && sync.synced)
          return;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.fail(
        `not caught up: ${JSON.stringify(last)} upstream ${JSON.stringify(await masterStatus(up))}`,
      );
    };
    await caughtUp();

    const stop = new AbortController();
    const writers = [1, 2].map((id) => writer(up, id, stop.signal));
    for (let k = 0; k < 2; k++) {
      await new Promise((r) => setTimeout(r, 1500));
      await up.kill();
      await new Promise((r) => setTimeout(r, 300));
      await up.start();
    }
    await new Promise((r) => setTimeout(r, 1000));
    stop.abort();
    const written = (await Promise.all(writers)).reduce((a, b) => a + b, 0);
    assert.ok(written > 20, `${written} transactions written`);
    await caughtUp();
    const tables = ['`app`.`t`', '`app`.`counters`'];
    await assertTablesEqual(up, down, tables);

    // a worker crash, then stop-task and start-task: from the checkpoint, nothing applied twice
    await worker.kill('SIGKILL');
    worker = await startWorker();
    await up.exec("INSERT INTO app.t (w, v) VALUES (9, 'after worker restart')");
    await caughtUp();
    assert.equal((await dmctl(master.addr, 'stop-task', 'crash')).code, 0);
    await up.exec("INSERT INTO app.t (w, v) VALUES (9, 'while stopped')");
    const again = await dmctl(master.addr, 'start-task', files['task.yaml']);
    assert.equal(again.code, 0, again.stdout);
    await caughtUp();
    await assertTablesEqual(up, down, tables);
    await worker.kill();
    await master.kill();
  });
}

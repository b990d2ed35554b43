// Pessimistic sharding DDL through the control plane: the lock lives in dm-master, the shards'
// workers are separate processes. The lock is listed by shard-ddl-lock; the owner's worker is
// SIGKILLed while the lock is pending, the last shard's DDL arrives meanwhile, and after the
// restarts (and a master restart) the lock is still resolved correctly: the column once, every
// row of every shard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { masterStatus, server } from '../harness/index.js';
import { sourceYaml, writeTemp } from '../harness/task.js';
import { daemon, dmctl, startMaster, type Proc } from '../harness/cluster.js';
import { ALTER, rows, seedShards, shardTask, totalUpstream, writeShards } from '../harness/shards.js';
import { call } from '../../src/api/http.js';
import type { QueryStatus, SubTaskStatus } from '../../src/task/status.js';

test('sharding DDL lock in the master survives a SIGKILLed owner worker', async () => {
  const ups = await Promise.all([server(), server()]);
  const down = await server();
  await seedShards(ups);
  const f = await writeTemp({ 's1.yaml': sourceYaml('s1', ups[0]), 's2.yaml': sourceYaml('s2', ups[1]) });
  const files = await writeTemp({ 'task.yaml': shardTask(down, f.dir, ['s1', 's2']) });
  let master = await startMaster(f.dir);
  const workers: Record<string, Proc> = {};
  const worker = async (name: string) =>
    (workers[name] = await daemon(
      'dm-worker',
      ['--name', name, '--worker-addr', '127.0.0.1:0', '--join', master.addr, '--keepalive-ttl', '2'],
      f.dir,
    ));
  await Promise.all([worker('w1'), worker('w2')]);
  assert.equal((await dmctl(master.addr, 'operate-source', 'create', f['s1.yaml'])).code, 0);
  assert.equal((await dmctl(master.addr, 'operate-source', 'create', f['s2.yaml'])).code, 0);
  const start = await dmctl(master.addr, 'start-task', files['task.yaml']);
  assert.equal(start.code, 0, start.stdout);

  const bySource = async (): Promise<Record<string, SubTaskStatus | undefined>> => {
    const q = await call<QueryStatus>(master.addr, 'GET', '/apis/v1alpha1/status/shard');
    return Object.fromEntries(q.workers.map((w) => [w.source!, w.subTaskStatus[0]]));
  };
  const until = async (what: string, ok: (s: Record<string, SubTaskStatus | undefined>) => boolean) => {
    for (const deadline = Date.now() + 120_000; Date.now() < deadline;) {
      const s = await bySource().catch(() => ({}));
      for (const st of Object.values(s)) {
        if (st?.stage === 'Paused' && st.result?.errors.some((e) => !e.retryable))
          assert.fail(JSON.stringify(st.result));
      }
      if (ok(s)) return s;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.fail(`${what}: ${JSON.stringify(await bySource())}`);
  };
  const caughtUp = async () => {
    const want = await Promise.all(ups.map((u) => masterStatus(u)));
    await until('caught up', (s) =>
      ['s1', 's2'].every(
        (id, i) =>
          (s[id]?.sync as { syncerBinlog?: string })?.syncerBinlog === `(${want[i].file}, ${want[i].pos})`,
      ),
    );
  };
  await caughtUp();

  const LOCK = 'shard-`db_target`.`t_target`';
  await ups[0].exec(`ALTER TABLE sharding1.t1 ${ALTER}; ALTER TABLE sharding1.t2 ${ALTER}`);
  await writeShards(ups, 600, 640); // t1/t2 have c now, with a default
  await until('s1 waits on the lock', (s) => s.s1?.unresolvedDDLLockID === LOCK);
  const locks = await dmctl(master.addr, 'shard-ddl-lock', 'shard');
  assert.equal(locks.code, 0, locks.stdout);
  assert.deepEqual(locks.json.locks, [
    {
      ID: LOCK,
      task: 'shard',
      mode: 'pessimistic',
      owner: 's1',
      DDLs: [`ALTER TABLE \`db_target\`.\`t_target\` ${ALTER}`],
      synced: ['s1:`sharding1`.`t1`', 's1:`sharding1`.`t2`'],
      unsynced: ['s2:`sharding2`.`t2`', 's2:`sharding2`.`t3`'],
    },
  ]);

  // The owner's worker dies with the lock pending; the other shards reach the DDL meanwhile.
  const shown = await dmctl(master.addr, 'operate-source', 'show', 's1');
  const owner = (shown.json.sources as Array<{ worker: string }>)[0].worker;
  await workers[owner].kill('SIGKILL');
  await ups[1].exec(`ALTER TABLE sharding2.t2 ${ALTER}; ALTER TABLE sharding2.t3 ${ALTER}`);
  await writeShards(ups, 700, 720, true);
  await new Promise((r) => setTimeout(r, 1000));
  const cols = async () =>
    (
      await rows(
        down,
        "SELECT COLUMN_NAME c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'db_target' AND TABLE_NAME = 't_target' ORDER BY ORDINAL_POSITION",
      )
    ).map((r) => r.c);
  assert.deepEqual(await cols(), ['id', 'v'], 'the owner is down: nobody executes the DDL');

  // The master restarts too: the lock is in its store.
  const addr = master.addr;
  await master.kill('SIGTERM');
  master = await startMaster(f.dir, addr);
  const kept = (await dmctl(master.addr, 'shard-ddl-lock')).json.locks as Array<{
    ID: string;
    owner: string;
  }>;
  assert.deepEqual(
    kept.map((l) => [l.ID, l.owner]),
    [[LOCK, 's1']],
    'the pending lock survived the master restart',
  );
  await worker(owner);
  await caughtUp();
  await until('lock gone', (s) => s.s1?.unresolvedDDLLockID === '' && s.s2?.unresolvedDDLLockID === '');
  assert.deepEqual(await cols(), ['id', 'v', 'c']);
  assert.deepEqual((await dmctl(master.addr, 'shard-ddl-lock')).json.locks, []);
  const [t] = await rows(down, 'SELECT COUNT(*) n FROM db_target.t_target');
  assert.equal(Number(t.n), await totalUpstream(ups));
  const up = await Promise.all(
    (
      [
        [0, 'sharding1.t1'],
        [0, 'sharding1.t2'],
        [1, 'sharding2.t2'],
        [1, 'sharding2.t3'],
      ] as const
    ).map(([i, tb]) => rows(ups[i], `SELECT SUM(c) s, SUM(CRC32(v)) h FROM ${tb}`)),
  );
  const [d] = await rows(down, 'SELECT SUM(c) s, SUM(CRC32(v)) h FROM db_target.t_target');
  assert.equal(
    Number(d.s),
    up.reduce((a, [r]) => a + Number(r.s), 0),
  );
  assert.equal(
    Number(d.h),
    up.reduce((a, [r]) => a + Number(r.h), 0),
  );

  // Unlock by hand: only s1's shards have the next DDL; the operator resolves the lock; s1
  // executes it, and s2's shards skip the same DDL when they reach it later.
  const ADD_D = 'ADD COLUMN d INT NULL';
  await ups[0].exec(`ALTER TABLE sharding1.t1 ${ADD_D}; ALTER TABLE sharding1.t2 ${ADD_D}`);
  await until('s1 waits again', (s) => s.s1?.unresolvedDDLLockID === LOCK);
  const un = await dmctl(master.addr, 'unlock-ddl-lock', LOCK);
  assert.equal(un.code, 0, un.stdout);
  await until('unlocked', (s) => s.s1?.unresolvedDDLLockID === '');
  await ups[1].exec(`ALTER TABLE sharding2.t2 ${ADD_D}; ALTER TABLE sharding2.t3 ${ADD_D}`);
  await writeShards(ups, 900, 910, true);
  await caughtUp();
  assert.deepEqual(await cols(), ['id', 'v', 'c', 'd'], 'd once, s2 skipped it');
  assert.deepEqual((await dmctl(master.addr, 'shard-ddl-lock')).json.locks, []);
  const [t2] = await rows(down, 'SELECT COUNT(*) n FROM db_target.t_target');
  assert.equal(Number(t2.n), await totalUpstream(ups));

  // shard-ddl-lock unlock -a skip (DM's): no source executes the DDLs, every one skips them
  const COMMENT = "COMMENT 'not on the target'";
  await ups[0].exec(`ALTER TABLE sharding1.t1 ${COMMENT}; ALTER TABLE sharding1.t2 ${COMMENT}`);
  await until('s1 waits on the comment', (s) => s.s1?.unresolvedDDLLockID === LOCK);
  const bad = await dmctl(master.addr, 'shard-ddl-lock', 'unlock', LOCK, '-a', 'drop');
  assert.match(bad.stderr, /--action 'drop': only exec and skip/);
  const skip = await dmctl(master.addr, 'shard-ddl-lock', 'unlock', LOCK, '-a', 'skip');
  assert.equal(skip.code, 0, skip.stdout + skip.stderr);
  assert.match(String(skip.json.msg), /every source skips the DDLs/);
  await until('unlocked', (s) => s.s1?.unresolvedDDLLockID === '');
  await ups[1].exec(`ALTER TABLE sharding2.t2 ${COMMENT}; ALTER TABLE sharding2.t3 ${COMMENT}`);
  await writeShards(ups, 920, 930, true);
  await caughtUp();
  const [tc] = await rows(
    down,
    "SELECT TABLE_COMMENT c FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'db_target' AND TABLE_NAME = 't_target'",
  );
  assert.equal(tc.c, '', 'nobody executed the skipped DDL');
  assert.deepEqual((await dmctl(master.addr, 'shard-ddl-lock')).json.locks, []);
  const [t3] = await rows(down, 'SELECT COUNT(*) n FROM db_target.t_target');
  assert.equal(Number(t3.n), await totalUpstream(ups));
});

// Merging sharded tables with shard-mode pessimistic (run-task: both sources in one process):
// shards sharding1.t1,t2 (upstream 1) and sharding2.t2,t3 (upstream 2) routed into
// db_target.t_target; DML on every shard, then the same ALTER TABLE on the shards one by one
// with DML between. While shards are missing, query-status shows the lock and the unsynced
// tables and the target has no new column; after the last one, the target has the column and
// every row of every shard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { masterStatus, server } from '../harness/index.js';
import { sourceYaml, writeTemp } from '../harness/task.js';
import { caughtUpInFile, readStatus, runTask } from '../harness/run.js';
import type { QueryStatus, SubTaskStatus } from '../../src/task/status.js';
import { ALTER, rows, SHARDS, seedShards, shardTask, totalUpstream, writeShards } from '../harness/shards.js';

test('pessimistic sharding DDL: held until every shard has it, then once on the target; no row lost', async () => {
  const ups = await Promise.all([server(), server()]);
  const down = await server();
  await seedShards(ups);
  const f = await writeTemp({ 's1.yaml': sourceYaml('s1', ups[0]), 's2.yaml': sourceYaml('s2', ups[1]) });
  const files = await writeTemp({ 'task.yaml': shardTask(down, f.dir, ['s1', 's2']) });
  const statusFile = join(f.dir, 'status.json');
  const run = runTask(files['task.yaml'], [f['s1.yaml'], f['s2.yaml']], statusFile);
  const status = async () => (await readStatus(statusFile)) as QueryStatus | undefined;
  const subtasks = async (): Promise<SubTaskStatus[]> =>
    (await status())?.workers.map((w) => w.subTaskStatus[0]) ?? [];
  const until = async (what: string, ok: (sts: SubTaskStatus[]) => boolean): Promise<SubTaskStatus[]> => {
    for (const deadline = Date.now() + 120_000; Date.now() < deadline;) {
      const sts = await subtasks();
      for (const st of sts) if (st.stage === 'Paused') assert.fail(JSON.stringify(st.result));
      if (sts.length === 2 && ok(sts)) return sts;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`${what}: ${JSON.stringify(await subtasks())}`);
  };
  const caughtUp = async () => {
    const want = await Promise.all(ups.map(async (u) => masterStatus(u)));
    await until('caught up', (sts) =>
      sts.every(
        (st, i) =>
          (st.sync as { syncerBinlog?: string })?.syncerBinlog === `(${want[i].file}, ${want[i].pos})`,
      ),
    );
  };
  const targetColumns = async () =>
    (
      await rows(
        down,
        "SELECT COLUMN_NAME c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'db_target' AND TABLE_NAME = 't_target' ORDER BY ORDINAL_POSITION",
      )
    ).map((r) => r.c);
  const count = async () => Number((await rows(down, 'SELECT COUNT(*) n FROM db_target.t_target'))[0].n);

  await until('in Sync', (sts) => sts.every((st) => st.unit === 'Sync'));
  await caughtUp();
  assert.equal(await count(), 2000);

  const LOCK = 'shard-`db_target`.`t_target`';
  await ups[0].exec(`ALTER TABLE sharding1.t1 ${ALTER}`);
  await ups[0].exec(`INSERT INTO sharding1.t1 (id, v, c) VALUES (501, 'after', 5)`);
  await writeShards(ups.slice(0, 2), 600, 650);
  const [s1] = await until('s1 waits on the lock', ([a]) => a.unresolvedDDLLockID === LOCK);
  const sync1 = s1.sync as { unresolvedGroups: Array<Record<string, unknown>>; blockingDDLs: string[] };
  assert.deepEqual(sync1.unresolvedGroups, [
    {
      target: '`db_target`.`t_target`',
      DDLs: [`ALTER TABLE \`db_target\`.\`t_target\` ${ALTER}`],
      firstPos: sync1.unresolvedGroups[0].firstPos,
      synced: ['`sharding1`.`t1`'],
      unsynced: ['`sharding1`.`t2`'],
    },
  ]);
  assert.deepEqual(sync1.blockingDDLs, [], 'not every table of this worker has the DDL yet');
  assert.deepEqual(await targetColumns(), ['id', 'v']);

  await ups[0].exec(`ALTER TABLE sharding1.t2 ${ALTER}`);
  await until(
    's1: all its tables synced',
    ([a]) => (a.sync as { blockingDDLs: string[] }).blockingDDLs.length === 1,
  );
  await ups[1].exec(`ALTER TABLE sharding2.t2 ${ALTER}`);
  await ups[1].exec(`INSERT INTO sharding2.t3 (id, v) SELECT 300000 + seq, 'x' FROM mysql.seq_700_to_720`);
  await until('s2 waits too', ([, b]) => b.unresolvedDDLLockID === LOCK);
  assert.deepEqual(await targetColumns(), ['id', 'v'], 'no new column while a shard is missing');

  await ups[1].exec(`ALTER TABLE sharding2.t3 ${ALTER}`);
  await writeShards(ups, 800, 850, true);
  await caughtUp();
  await until('no lock', (sts) => sts.every((st) => st.unresolvedDDLLockID === ''));
  assert.deepEqual(await targetColumns(), ['id', 'v', 'c']);
  assert.equal(await count(), await totalUpstream(ups));
  const up = async (i: number, t: string) =>
    rows(ups[i], `SELECT COUNT(*) n, SUM(c) s, SUM(CRC32(v)) h FROM ${t}`);
  let n = 0;
  let s = 0;
  let h = 0;
  for (const [i, t] of SHARDS) {
    const [r] = await up(i, t);
    n += Number(r.n);
    s += Number(r.s);
    h += Number(r.h);
  }
  assert.deepEqual(await rows(down, 'SELECT COUNT(*) n, SUM(c) s, SUM(CRC32(v)) h FROM db_target.t_target'), [
    { n: String(n), s: String(s), h: String(h) },
  ]);

  // Different DDLs on two shards of the group: a conflict that pauses, not retried.
  await ups[0].exec('ALTER TABLE sharding1.t1 ADD COLUMN d INT');
  await ups[0].exec('ALTER TABLE sharding1.t2 ADD COLUMN e INT');
  for (const deadline = Date.now() + 60_000; ;) {
    const [a] = await subtasks();
    if (a?.stage === 'Paused') {
      const [e] = a.result!.errors;
      assert.match(
        e.msg,
        /^sharding DDL conflict: `sharding1`\.`t2` has .*ADD COLUMN e INT.* but the group `db_target`\.`t_target` waits on .*ADD COLUMN d INT/,
      );
      assert.equal(e.retryable, false);
      // DM v2's fields beside the error: the shard table whose DDL conflicts, and why
      const st = a.sync as { blockDDLOwner: string; conflictMsg: string };
      assert.match(st.blockDDLOwner, /^[\w-]+-`sharding1`\.`t2`$/);
      assert.equal(st.conflictMsg, e.msg);
      break;
    }
    if (Date.now() > deadline) assert.fail(`no conflict: ${JSON.stringify(a)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  run.child.kill('SIGTERM');
  await run.done;
});

test('optimistic sharding DDL: additions at once, removals when every shard has them, conflicts pause', async () => {
  const ups = await Promise.all([server(), server()]);
  const down = await server();
  await seedShards(ups);
  const f = await writeTemp({ 's1.yaml': sourceYaml('s1', ups[0]), 's2.yaml': sourceYaml('s2', ups[1]) });
  const files = await writeTemp({ 'task.yaml': shardTask(down, f.dir, ['s1', 's2'], 'opt', 'optimistic') });
  const statusFile = join(f.dir, 'status.json');
  const run = runTask(files['task.yaml'], [f['s1.yaml'], f['s2.yaml']], statusFile);
  const subtasks = async (): Promise<SubTaskStatus[]> =>
    ((await readStatus(statusFile)) as QueryStatus | undefined)?.workers.map((w) => w.subTaskStatus[0]) ?? [];
  const caughtUp = () => caughtUpInFile(statusFile, ups);

  const cols = async () =>
    (
      await rows(
        down,
        "SELECT COLUMN_NAME c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'db_target' AND TABLE_NAME = 't_target' ORDER BY ORDINAL_POSITION",
      )
    ).map((r) => r.c);
  await caughtUp();

  await ups[0].exec(`ALTER TABLE sharding1.t1 ${ALTER}; INSERT INTO sharding1.t1 VALUES (501, 'new', 5)`);
  await writeShards(ups, 600, 610);
  await caughtUp();
  assert.deepEqual(await cols(), ['id', 'v', 'c'], 'added at once');
  assert.deepEqual(await rows(down, 'SELECT c FROM db_target.t_target WHERE id = 501'), [{ c: 5 }]);
  await ups[0].exec(`ALTER TABLE sharding1.t2 ${ALTER}`);
  await ups[1].exec(`ALTER TABLE sharding2.t2 ${ALTER}; ALTER TABLE sharding2.t3 ${ALTER}`);
  await writeShards(ups, 700, 710, true);
  await caughtUp();
  assert.deepEqual(await cols(), ['id', 'v', 'c']);

  await ups[0].exec('ALTER TABLE sharding1.t1 DROP COLUMN c; INSERT INTO sharding1.t1 VALUES (502, "gone")');
  await caughtUp();
  assert.deepEqual(await cols(), ['id', 'v', 'c'], 'other shards still write c');
  await ups[0].exec('ALTER TABLE sharding1.t2 DROP COLUMN c');
  await ups[1].exec('ALTER TABLE sharding2.t2 DROP COLUMN c; ALTER TABLE sharding2.t3 DROP COLUMN c');
  await writeShards(ups, 800, 805);
  await caughtUp();
  assert.deepEqual(await cols(), ['id', 'v'], 'dropped when every shard has dropped it');
  const [t] = await rows(down, 'SELECT COUNT(*) n FROM db_target.t_target');
  assert.equal(Number(t.n), await totalUpstream(ups));

  await ups[0].exec('ALTER TABLE sharding1.t1 ADD COLUMN d INT');
  await ups[1].exec('ALTER TABLE sharding2.t2 ADD COLUMN d VARCHAR(5)');
  for (const deadline = Date.now() + 60_000; ;) {
    const [, b] = await subtasks();
    if (b?.stage === 'Paused') {
      assert.match(
        b.result!.errors[0].msg,
        /^sharding DDL conflict: .*add column d varchar\(5\).*add column d int/,
      );
      assert.equal(b.result!.errors[0].retryable, false);
      const st = b.sync as { blockDDLOwner: string; conflictMsg: string };
      assert.match(st.blockDDLOwner, /^[\w-]+-`sharding2`\.`t2`$/);
      assert.equal(st.conflictMsg, b.result!.errors[0].msg);
      break;
    }
    if (Date.now() > deadline) assert.fail(`no conflict: ${JSON.stringify(b)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  run.child.kill('SIGTERM');
  await run.done;
});

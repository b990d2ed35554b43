// The worker's side of the control plane without servers: it makes its subtasks match the
// master's assignment (stages, seq numbers, removal, a changed source), reports what it applied,
// and stops its subtasks when the master has been out of reach for its keepalive TTL. The
// subtasks here are never asked to run, so no database is needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Worker, type Heartbeat } from '../../src/worker/worker.js';
import type { Assignment } from '../../src/worker/assignment.js';

const log = pino({ level: 'silent' });
const source = (id: string) => ({
  id,
  file: `${id}.yaml`,
  yaml: `source-id: ${id}\nfrom:\n  host: 127.0.0.1\n  port: 1\n  user: root\n`,
});
const task = (name: string, sourceId = 's1') =>
  `name: ${name}\ntask-mode: all\ntarget-database:\n  host: 127.0.0.1\n  port: 1\n  user: root\nmysql-instances:\n  - source-id: ${sourceId}\n`;

function assignment(
  subtasks: Array<{ task: string; stage: 'Running' | 'Paused' | 'Stopped'; seq: number; source?: string }>,
  src = 's1',
): Assignment {
  return {
    source: source(src),
    subtasks: subtasks.map((s) => ({ ...s, yaml: task(s.task, s.source ?? src), file: `${s.task}.yaml` })),
  };
}

function worker(heartbeat: (hb: Heartbeat) => Promise<Assignment>, ttlMs = 60_000): Worker {
  return new Worker(
    {
      heartbeat,
      shard: async () => {
        throw new Error('no sharding here');
      },
    },
    { name: 'w1', addr: '127.0.0.1:9', log, keepaliveTtlMs: ttlMs, heartbeatMs: 20 },
  );
}

const stages = (w: Worker) => w.status().subTaskStatus.map((s) => [s.name, s.stage]);

test("a new subtask takes the operator's Paused or Stopped stage without running", async () => {
  const w = worker(async () => ({ subtasks: [] }));
  await w.apply(
    assignment([
      { task: 'a', stage: 'Paused', seq: 3 },
      { task: 'b', stage: 'Stopped', seq: 1 },
    ]),
  );
  assert.deepEqual(stages(w), [
    ['a', 'Paused'],
    ['b', 'Stopped'],
  ]);
  const st = w.status();
  assert.equal(st.source, 's1');
  assert.equal(st.worker, '127.0.0.1:9');
  assert.equal(st.relayStatus, null);
  assert.ok(st.subTaskStatus.every((s) => s.result === null));
  assert.deepEqual(
    w.status('b').subTaskStatus.map((s) => s.name),
    ['b'],
  );
  await w.close();
});

test('an operation applies once per seq; an operation the stage does not allow is a no-op', async () => {
  const w = worker(async () => ({ subtasks: [] }));
  await w.apply(assignment([{ task: 'a', stage: 'Paused', seq: 1 }]));
  await w.apply(assignment([{ task: 'a', stage: 'Stopped', seq: 2 }]));
  assert.deepEqual(stages(w), [['a', 'Stopped']]);
  await w.apply(assignment([{ task: 'a', stage: 'Paused', seq: 3 }]));
  assert.deepEqual(stages(w), [['a', 'Stopped']], 'a Stopped subtask cannot be paused');
  await w.close();
});

test('subtasks leave with their task or their source', async () => {
  const w = worker(async () => ({ subtasks: [] }));
  await w.apply(
    assignment([
      { task: 'a', stage: 'Paused', seq: 1 },
      { task: 'b', stage: 'Paused', seq: 1 },
    ]),
  );
  await w.apply(assignment([{ task: 'b', stage: 'Paused', seq: 1 }]));
  assert.deepEqual(stages(w), [['b', 'Paused']]);
  await w.apply(assignment([{ task: 'c', stage: 'Paused', seq: 1 }], 's2'));
  assert.deepEqual(stages(w), [['c', 'Paused']]);
  assert.equal(w.status().source, 's2');
  await w.apply({ subtasks: [] });
  assert.deepEqual(stages(w), []);
  assert.equal(w.status().source, '');
  await w.close();
});

test('a task file that does not fit the source shows as a paused subtask with the reason', async () => {
  const w = worker(async () => ({ subtasks: [] }));
  await w.apply(assignment([{ task: 'x', stage: 'Paused', seq: 1, source: 'other' }]));
  const [st] = w.status().subTaskStatus;
  assert.equal(st.stage, 'Paused');
  assert.match(st.result!.errors[0].msg, /task 'x' has no mysql-instances entry for source 's1'/);
  await w.apply(assignment([]));
  assert.deepEqual(stages(w), []);
  await w.close();
});

test('heartbeats report the applied seqs; without the master for the TTL, subtasks stop', async () => {
  const beats: Heartbeat[] = [];
  let up = true;
  const w = worker(async (hb) => {
    beats.push(hb);
    if (!up) throw new Error('connection refused');
    return assignment([{ task: 'a', stage: 'Paused', seq: 7 }]);
  }, 150);
  w.start();
  while (!stages(w).length) await new Promise((r) => setTimeout(r, 10));
  while (beats.at(-1)?.applied.a !== 7) await new Promise((r) => setTimeout(r, 10));
  assert.equal(beats[0].name, 'w1');
  assert.equal(beats[0].addr, '127.0.0.1:9');
  up = false;
  const lost = Date.now();
  while (stages(w).length) await new Promise((r) => setTimeout(r, 10));
  assert.ok(Date.now() - lost >= 100, 'not before the TTL');
  assert.equal(w.status().source, '');
  up = true;
  while (!stages(w).length) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(stages(w), [['a', 'Paused']], 'back when the master answers again');
  await w.close();
});

test("the relay of a source with enable-relay follows the operator's stage; it goes with the source", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dm-ts-relay-worker-'));
  try {
    const w = worker(async () => ({ subtasks: [] }));
    const src = source('s1');
    src.yaml += `enable-relay: true\nrelay-dir: "${dir}"\n`;
    const a = (stage: 'Running' | 'Paused', seq: number): Assignment => ({
      source: src,
      subtasks: [],
      relay: { stage, seq },
    });
    // Paused by an operator before this worker started: it does not run.
    await w.apply(a('Paused', 1));
    assert.equal(w.status().relayStatus?.stage, 'Paused');
    assert.equal(w.status().relayStatus?.result, null);
    await assert.rejects(
      w.purgeRelay('mysql-bin.000002'),
      /the relay of source s1 has written nothing yet \(stage Paused\): nothing to purge/,
    );
    // resume-relay: it runs (and, with no upstream at port 1, pauses with a retryable error)
    await w.apply(a('Running', 2));
    for (let i = 0; i < 100 && !w.status().relayStatus?.result; i++)
      await new Promise((r) => setTimeout(r, 20));
    const rs = w.status().relayStatus!;
    assert.equal(rs.result?.errors[0].retryable, true, JSON.stringify(rs));
    assert.match(rs.result!.errors[0].msg, /127\.0\.0\.1:1/);
    // the source goes away: so does its relay
    await w.apply({ subtasks: [] });
    assert.equal(w.status().relayStatus, null);
    await assert.rejects(w.purgeRelay('mysql-bin.000002'), /runs no relay/);
    await w.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

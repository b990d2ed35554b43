// The dashboard's model: the master's answers as what the page shows, and the lag history.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LagHistory, snapshot } from '../../dashboard/model.js';

const answers = {
  members: {
    members: [
      { leader: { name: 'm1', addr: 'a:1' } },
      {
        master: {
          masters: [
            { name: 'm1', addr: 'a:1', alive: true },
            { name: 'm2', addr: 'a:2', alive: false },
          ],
        },
      },
      {
        worker: {
          workers: [
            { name: 'w1', addr: 'b:1', stage: 'bound', source: 's1' },
            { name: 'w2', addr: 'b:2', stage: 'offline', source: '' },
          ],
        },
      },
    ],
  },
  sources: {
    sources: [
      { source: 's1', worker: 'w1', msg: '' },
      { source: 's2', worker: '', msg: 'no free dm-worker' },
    ],
  },
  list: { tasks: [{ taskName: 't', taskStatus: 'Running', sources: ['s1'] }] },
  locks: {
    locks: [
      {
        ID: 't-`d`.`x`',
        task: 't',
        owner: 's1',
        DDLs: ['ALTER TABLE x ADD c INT'],
        unsynced: ['s2:`d`.`x`'],
      },
    ],
  },
  more: {
    workers: [
      {
        result: true,
        worker: 'b:1',
        source: 's1',
        relayStatus: {
          stage: 'Running',
          relayBinlog: '(f, 4)',
          masterBinlog: '(f, 9)',
          relayCatchUpMaster: false,
        },
        subTaskStatus: [
          {
            name: 't',
            stage: 'Running',
            unit: 'Load',
            result: null,
            unresolvedDDLLockID: '',
            load: { progress: '42.50 %', finishedBytes: '425', totalBytes: '1000' },
          },
          {
            name: 'u',
            stage: 'Paused',
            unit: 'Sync',
            unresolvedDDLLockID: '',
            sync: { secondsBehindMaster: '7', synced: false },
            result: {
              isCanceled: false,
              errors: [{ msg: 'm', Message: 'table gone', Workaround: 'create it', ErrCode: 36054 }],
            },
          },
        ],
      },
    ],
  },
};

test('snapshot: sources with worker and relay, subtasks with progress, lag and errors, locks, members', () => {
  const s = snapshot(answers);
  assert.deepEqual(
    s.masters.map((m) => [m.name, m.alive, m.leader]),
    [
      ['m1', true, true],
      ['m2', false, false],
    ],
  );
  assert.deepEqual(s.sources[0], {
    id: 's1',
    worker: 'w1 (b:1)',
    workerStage: 'bound',
    relay: 'Running: (f, 4) of (f, 9)',
    relayBehind: true,
    error: '',
  });
  assert.deepEqual([s.sources[1].workerStage, s.sources[1].error], ['none', 'no free dm-worker']);
  const [t] = s.tasks;
  assert.equal(t.subtasks.length, 1, 'only the task of that name');
  assert.deepEqual([t.subtasks[0].progress, t.subtasks[0].progressText], [42.5, '425 of 1000 bytes']);
  const u = snapshot({ ...answers, list: { tasks: [{ taskName: 'u', taskStatus: 'Paused' }] } }).tasks[0]
    .subtasks[0];
  assert.equal(u.lag, 7);
  assert.deepEqual(u.errors, [{ msg: 'table gone', workaround: 'create it', code: 36054 }]);
  assert.equal(u.canHandleError, true);
  assert.deepEqual(s.locks[0].unsynced, ['s2:`d`.`x`']);
});

test('lag history: per subtask, aligned on time, old samples dropped', () => {
  const h = new LagHistory(10);
  const at = (lag: string) =>
    snapshot({
      ...answers,
      list: { tasks: [{ taskName: 'u' }] },
      more: {
        workers: [
          {
            ...answers.more.workers[0],
            subTaskStatus: [
              { ...answers.more.workers[0].subTaskStatus[1], sync: { secondsBehindMaster: lag } },
            ],
          },
        ],
      },
    });
  h.add(100, at('1'));
  h.add(105, at('3'));
  h.add(112, at('0'));
  assert.deepEqual(h.data(), {
    names: ['u / s1'],
    columns: [
      [105, 112],
      [3, 0],
    ],
  });
});

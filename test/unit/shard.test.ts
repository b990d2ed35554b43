// Sharding DDL locks (pessimistic mode), without servers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShardConflictError, ShardLocks, type ShardReport } from '../../src/shard/locks.js';
import { alterSpecs } from '../../src/shard/optimistic.js';

const T = '`db_target`.`t_target`';
const ADD = ['ALTER TABLE `db_target`.`t_target` ADD COLUMN c INT'];

function locks(): ShardLocks {
  const l = new ShardLocks();
  l.register('task', 's1', { [T]: ['`sharding1`.`t1`', '`sharding1`.`t2`'] });
  l.register('task', 's2', { [T]: ['`sharding2`.`t2`', '`sharding2`.`t3`'] });
  return l;
}

const r = (source: string, table: string, pos: string, ddls = ADD): ShardReport => ({
  task: 'task',
  source,
  target: T,
  table,
  ddls,
  pos,
});

test('the lock waits for every table of every source; the first reporter executes, the others skip', () => {
  const l = locks();
  assert.equal(l.report(r('s1', '`sharding1`.`t1`', '(b.1, 100)')), 'wait');
  const [lock] = l.list('task');
  assert.equal(lock.id, 'task-`db_target`.`t_target`');
  assert.deepEqual(l.unsynced(lock), {
    s1: ['`sharding1`.`t2`'],
    s2: ['`sharding2`.`t2`', '`sharding2`.`t3`'],
  });
  assert.equal(l.report(r('s2', '`sharding2`.`t2`', '(b.1, 50)')), 'wait');
  assert.equal(l.report(r('s1', '`sharding1`.`t2`', '(b.1, 200)')), 'wait');
  assert.equal(
    l.report(r('s1', '`sharding1`.`t1`', '(b.1, 100)')),
    'wait',
    'reporting again changes nothing',
  );
  assert.equal(l.report(r('s2', '`sharding2`.`t3`', '(b.1, 90)')), 'wait', 's2 is not the owner');
  assert.equal(l.report(r('s1', '`sharding1`.`t2`', '(b.1, 200)')), 'exec', 's1 reported first: it executes');
  assert.equal(l.report(r('s2', '`sharding2`.`t3`', '(b.1, 90)')), 'wait', 'until the owner executed');
  l.executed('task', T, 's1');
  assert.equal(l.report(r('s2', '`sharding2`.`t3`', '(b.1, 90)')), 'skip');
  l.skipped('task', T, 's2');
  assert.deepEqual(l.list(), [], 'the lock ends when every source is through');
  // replays of the same DDLs (a worker re-reading its binlog) are done, not a new lock
  assert.equal(l.report(r('s1', '`sharding1`.`t1`', '(b.1, 100)')), 'done');
  assert.equal(l.report(r('s2', '`sharding2`.`t2`', '(b.1, 50)')), 'done');
  assert.deepEqual(l.list(), []);
  // the next DDL is a new lock
  assert.equal(l.report(r('s2', '`sharding2`.`t2`', '(b.1, 500)', ['ALTER TABLE x DROP c'])), 'wait');
  assert.equal(l.list()[0].owner, 's2');
});

test('different DDLs in one group are a conflict', () => {
  const l = locks();
  l.report(r('s1', '`sharding1`.`t1`', '(b.1, 100)'));
  assert.throws(
    () =>
      l.report(
        r('s2', '`sharding2`.`t2`', '(b.1, 50)', ['ALTER TABLE `db_target`.`t_target` ADD COLUMN d INT']),
      ),
    ShardConflictError,
  );
  assert.equal(
    l.report(
      r('s2', '`sharding2`.`t2`', '(b.1, 50)', ['alter table  `db_target`.`t_target` add column c int']),
    ),
    'wait',
    'case and spacing do not make a conflict',
  );
});

test('unlock by hand: resolved with the reporters; the others skip those DDLs when they reach them', () => {
  const l = locks();
  l.report(r('s1', '`sharding1`.`t1`', '(b.1, 100)'));
  assert.throws(() => l.unlock('nope'), /no sharding DDL lock 'nope'/);
  l.unlock('task-`db_target`.`t_target`');
  assert.equal(l.report(r('s1', '`sharding1`.`t1`', '(b.1, 100)')), 'exec');
  l.executed('task', T, 's1');
  assert.deepEqual(l.list(), []);
  assert.equal(l.report(r('s1', '`sharding1`.`t2`', '(b.1, 200)')), 'done');
  assert.equal(l.report(r('s2', '`sharding2`.`t2`', '(b.1, 50)')), 'done');
  assert.equal(l.report(r('s2', '`sharding2`.`t3`', '(b.1, 60)')), 'done');
  assert.equal(l.report(r('s2', '`sharding2`.`t3`', '(b.1, 70)')), 'wait', 'a later DDL is a new lock');
});

test('unlock -o: another source that reached the DDLs executes them; one that has not is refused', () => {
  const l = locks();
  l.report(r('s1', '`sharding1`.`t1`', '(b.1, 100)'));
  l.report(r('s2', '`sharding2`.`t2`', '(b.1, 50)'));
  const id = 'task-`db_target`.`t_target`';
  assert.throws(() => l.unlock(id, 's9'), /source 's9' has not reached the DDLs.*pick one of s1, s2/);
  l.unlock(id, 's2');
  assert.equal(l.report(r('s1', '`sharding1`.`t1`', '(b.1, 100)')), 'wait', 's1 waits for the new owner');
  assert.equal(l.report(r('s2', '`sharding2`.`t2`', '(b.1, 50)')), 'exec');
  l.executed('task', T, 's2');
  assert.equal(l.report(r('s1', '`sharding1`.`t1`', '(b.1, 100)')), 'skip');
});

test('unlock -a skip: no source executes the DDLs, the owner too skips them, and the lock ends', () => {
  const l = locks();
  l.report(r('s1', '`sharding1`.`t1`', '(b.1, 100)'));
  const id = 'task-`db_target`.`t_target`';
  l.unlock(id, undefined, 'skip');
  assert.equal(l.report(r('s1', '`sharding1`.`t1`', '(b.1, 100)')), 'skip', 'the owner skips too');
  l.skipped('task', T, 's1');
  assert.deepEqual(l.list(), []);
  assert.equal(l.report(r('s2', '`sharding2`.`t2`', '(b.1, 50)')), 'done', 'a later shard owes nothing');
});

test('the state is plain data: a new ShardLocks over it continues (master restart)', () => {
  const a = locks();
  a.report(r('s1', '`sharding1`.`t1`', '(b.1, 100)'));
  const b = new ShardLocks(JSON.parse(JSON.stringify(a.state)));
  assert.equal(b.report(r('s1', '`sharding1`.`t2`', '(b.1, 200)')), 'wait');
  b.drop('task');
  assert.deepEqual(b.list(), []);
});

test('optimistic: ALTER clauses are read as additions or removals of columns and indexes', () => {
  assert.deepEqual(
    alterSpecs('ALTER TABLE `d`.`t` ADD COLUMN c INT NOT NULL DEFAULT 0, ADD INDEX i (a, b)'),
    [
      { op: 'add', what: 'column', name: 'c', clause: 'add column c int not null default 0' },
      { op: 'add', what: 'index', name: 'i', clause: 'add index i (a, b)' },
    ],
  );
  assert.deepEqual(
    alterSpecs('alter table `d`.`t` drop column `c`, drop key k')!.map((s) => [s.op, s.what, s.name]),
    [
      ['drop', 'column', 'c'],
      ['drop', 'index', 'k'],
    ],
  );
  // gh-ost's comment is no clause
  assert.deepEqual(alterSpecs('alter /* gh-ost */ table `d`.`t` add column c int /* x */'), [
    { op: 'add', what: 'column', name: 'c', clause: 'add column c int' },
  ]);
  assert.equal(alterSpecs('ALTER TABLE `d`.`t` MODIFY c BIGINT'), undefined);
  assert.equal(alterSpecs("ALTER TABLE `d`.`t` ADD COLUMN e ENUM('a,b', 'c'), RENAME TO x"), undefined);
});

test('optimistic: additions at once (same definition everywhere), removals when every shard has them', () => {
  const l = locks();
  const o = (source: string, table: string, ddl: string) =>
    l.optimistic({
      task: 'task',
      source,
      target: T,
      table,
      ddls: [`ALTER TABLE ${T} ${ddl}`],
      pos: '(b.1, 1)',
    });
  assert.equal(o('s1', '`sharding1`.`t1`', 'ADD COLUMN c INT'), 'exec');
  assert.equal(o('s2', '`sharding2`.`t3`', 'ADD COLUMN c INT'), 'exec', 'again: the target finds it there');
  assert.throws(
    () => o('s1', '`sharding1`.`t2`', 'ADD COLUMN c BIGINT'),
    /conflict.*add column c bigint.*add column c int/,
  );
  assert.equal(o('s1', '`sharding1`.`t1`', 'DROP COLUMN c'), 'skip');
  assert.equal(o('s1', '`sharding1`.`t2`', 'DROP COLUMN c'), 'skip');
  assert.equal(o('s2', '`sharding2`.`t2`', 'DROP COLUMN c'), 'skip');
  assert.equal(o('s2', '`sharding2`.`t3`', 'DROP COLUMN c'), 'exec', 'the last shard drops it on the target');
  assert.throws(
    () => o('s1', '`sharding1`.`t1`', 'MODIFY v TEXT'),
    /not supported with shard-mode optimistic/,
  );
});

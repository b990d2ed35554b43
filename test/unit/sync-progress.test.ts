// Sync's figures, pure: the low-water mark over transactions completed out of order, the GTID
// set it carries, positions between transactions, events per second, lag and `synced`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EventRate,
  lag,
  LowWaterMark,
  remainingBytes,
  remainingSeconds,
  type Tracked,
} from '../../src/units/sync/progress.js';

const txn = (seq: number, pos: number, gtid?: string, timestamp = 100): Tracked => ({
  seq,
  end: { file: 'mysql-bin.000001', pos },
  endText: `(mysql-bin.000001, ${pos})`,
  gtid,
  timestamp,
});

test('low-water mark: moves over the done prefix only, adding each GTID in order', () => {
  const l = new LowWaterMark();
  l.reset({ pos: { file: 'mysql-bin.000001', pos: 4 }, gtid: '0-1-10' }, 'mariadb');
  const [a, b, c] = [txn(1, 100, '0-1-11'), txn(2, 200, '0-1-12'), txn(3, 300, '0-1-13')];
  for (const t of [a, b, c]) l.read(t);
  l.complete(b); // out of order: the mark waits for a
  assert.deepEqual(l.mark(), { pos: { file: 'mysql-bin.000001', pos: 4 }, gtid: '0-1-10' });
  assert.equal(l.inFlight, 3);
  assert.equal(l.oldest(), a);
  l.complete(a);
  assert.deepEqual(l.mark(), { pos: { file: 'mysql-bin.000001', pos: 200 }, gtid: '0-1-12' });
  assert.equal(l.oldest(), c);
  l.complete(c);
  assert.deepEqual(l.mark(), { pos: { file: 'mysql-bin.000001', pos: 300 }, gtid: '0-1-13' });
  assert.equal(l.inFlight, 0);
});

test('low-water mark: the mark a commit of some transactions reaches, without moving it', () => {
  const l = new LowWaterMark();
  l.reset({ pos: { file: 'mysql-bin.000001', pos: 4 }, gtid: '0-1-10' }, 'mariadb');
  const a = txn(1, 100, '0-1-11');
  l.read(a);
  assert.deepEqual(l.markWith([a]), { pos: { file: 'mysql-bin.000001', pos: 100 }, gtid: '0-1-11' });
  assert.deepEqual(l.mark(), { pos: { file: 'mysql-bin.000001', pos: 4 }, gtid: '0-1-10' });
  l.complete(a);
  assert.deepEqual(l.mark(), l.markWith([a]));
  // b (another applier's, committed), c and d (this commit's), e (in flight elsewhere), f (this commit's)
  const [b, c, d, e, f] = [2, 3, 4, 5, 6].map((i) => txn(i, i * 100, `0-1-${10 + i}`));
  for (const t of [b, c, d, e, f]) l.read(t);
  l.complete(b);
  assert.deepEqual(l.markWith([c, d, f]), { pos: { file: 'mysql-bin.000001', pos: 400 }, gtid: '0-1-14' });
  // nothing before them applied: the mark stays
  assert.deepEqual(l.markWith([f]), l.mark());
  assert.deepEqual(l.mark(), { pos: { file: 'mysql-bin.000001', pos: 200 }, gtid: '0-1-12' });
});

test('low-water mark: MySQL GTIDs join their intervals; a start without GTID keeps none', () => {
  const u = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
  const l = new LowWaterMark();
  l.reset({ pos: { file: 'b.000001', pos: 4 }, gtid: `${u}:1-5` }, 'mysql');
  l.read(txn(1, 50, `${u}:6`));
  l.complete(txn(1, 50, `${u}:6`));
  assert.equal(l.mark().gtid, `${u}:1-6`);
  const n = new LowWaterMark();
  n.reset({ pos: { file: 'b.000001', pos: 4 }, gtid: '' }, 'mysql');
  n.read(txn(1, 50, `${u}:6`));
  n.complete(txn(1, 50, `${u}:6`));
  assert.deepEqual(n.mark(), { pos: { file: 'mysql-bin.000001', pos: 50 }, gtid: '' });
});

test('low-water mark: passes a rotate or events between transactions once nothing is in flight', () => {
  const l = new LowWaterMark();
  l.reset({ pos: { file: 'mysql-bin.000001', pos: 4 }, gtid: '' }, 'mariadb');
  const a = txn(1, 100);
  l.read(a);
  l.passed({ file: 'mysql-bin.000002', pos: 4 }); // a still in flight: not yet
  assert.equal(l.position?.pos, 4);
  l.complete(a); // now the mark goes past a, and on to the rotate
  assert.deepEqual(l.position, { file: 'mysql-bin.000002', pos: 4 });
  l.passed({ file: 'mysql-bin.000001', pos: 999 }); // never backwards
  assert.deepEqual(l.position, { file: 'mysql-bin.000002', pos: 4 });
});

test('events per second: since the start, and over about the last second', () => {
  const r = new EventRate();
  const t0 = 1_700_000_000_000;
  r.start(t0);
  for (let t = t0; t <= t0 + 2000; t += 100) {
    r.total += 50;
    r.sample(t);
  }
  const tps = r.tps(t0 + 2000);
  assert.equal(tps.total, Math.round(r.total / 2));
  assert.ok(tps.recent >= 450 && tps.recent <= 550, String(tps.recent));
  assert.deepEqual(new EventRate().tps(5), { total: 0, recent: 0 });
});

test('lag and synced: synced only against a fresh upstream position, with nothing in flight', () => {
  const at = { file: 'mysql-bin.000003', pos: 500 };
  const base = { now: 10_000, lwm: at, master: at, fresh: true, lastRead: 9 };
  assert.deepEqual(lag(base), { synced: true, secondsBehind: 0 });
  assert.equal(lag({ ...base, fresh: false }).synced, false, 'a stale master position proves nothing');
  assert.equal(lag({ ...base, master: undefined }).synced, false);
  assert.equal(lag({ ...base, master: { ...at, pos: 600 } }).synced, false);
  // behind: from the oldest transaction in flight, else the last one read
  assert.deepEqual(lag({ ...base, oldest: 4 }), { synced: false, secondsBehind: 6 });
  assert.deepEqual(lag({ ...base, master: { ...at, pos: 600 } }), { synced: false, secondsBehind: 1 });
  assert.equal(lag({ ...base, master: { ...at, pos: 600 }, lastRead: 0 }).secondsBehind, 0);
});

test("remaining bytes and seconds to catch up (DM's remaining_time)", () => {
  const sizes = [
    { file: 'mysql-bin.000001', size: 1000 },
    { file: 'mysql-bin.000002', size: 500 },
    { file: 'mysql-bin.000003', size: 200 },
  ];
  const at = { file: 'mysql-bin.000002', pos: 100 };
  assert.equal(remainingBytes(sizes, at, { file: 'mysql-bin.000003', pos: 200 }), 400 + 200);
  // without the sizes: only within one file
  assert.equal(remainingBytes(undefined, at, { file: 'mysql-bin.000002', pos: 350 }), 250);
  assert.equal(remainingBytes(undefined, at, { file: 'mysql-bin.000003', pos: 10 }), undefined);
  assert.equal(remainingSeconds(600, 200), 3);
  assert.equal(remainingSeconds(0, 0), 0, 'caught up');
  assert.equal(remainingSeconds(600, 0), undefined, 'no rate: unknown');
  assert.equal(remainingSeconds(undefined, 100), undefined);
});

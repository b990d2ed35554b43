// start-task --start-time: the forms of the time, and the search of the binlog files for the
// first transaction at or after it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BinlogEvent, EventHeader } from '../../src/binlog/events.js';
import { checkStartTime, positionAtTime, type OpenAt } from '../../src/units/sync/start-time.js';
import { CannedSource } from '../harness/sync-fakes.js';

const header = (timestamp: number, logPos: number, eventSize: number): EventHeader => ({
  timestamp,
  typeCode: 0,
  serverId: 1,
  eventSize,
  logPos,
  flags: 0,
});

/** A binlog file opened at `opened` with one transaction (GTID, BEGIN, XID) at each time. */
function file(name: string, opened: number, txns: number[], next?: string): BinlogEvent[] {
  const evs: BinlogEvent[] = [
    { kind: 'rotate', header: header(0, 0, 0), position: 4, nextFile: name, artificial: true },
    { kind: 'format_description', header: header(opened, 120, 116) } as BinlogEvent,
  ];
  let pos = 120;
  for (const t of txns) {
    evs.push({
      kind: 'mariadb_gtid',
      header: header(t, pos + 40, 40),
      gtid: { domain: 0, server: 1, seq: 1 },
      flags: 0,
      standalone: false,
    } as BinlogEvent);
    evs.push({ kind: 'query', header: header(t, pos + 100, 60), query: 'BEGIN' } as BinlogEvent);
    evs.push({ kind: 'xid', header: header(t, pos + 130, 30), xid: 1n });
    pos += 130;
  }
  if (next)
    evs.push({
      kind: 'rotate',
      header: header(0, pos + 40, 40),
      position: 4,
      nextFile: next,
      artificial: false,
    });
  return evs;
}

const binlog: Record<string, BinlogEvent[]> = {
  'b.000001': file('b.000001', 100, [110, 120], 'b.000002'),
  'b.000002': file('b.000002', 200, [210, 220, 230], 'b.000003'),
  'b.000003': file('b.000003', 300, [310]),
};
const files = Object.keys(binlog);
let opened = 0;
const open: OpenAt = (p) => {
  opened++;
  // reading on: this file, then the later ones (as the server streams across rotations)
  const from = files.indexOf(p.file);
  return new CannedSource(
    files.slice(from).flatMap((f) => binlog[f]),
    true,
  );
};

test('the first transaction at or after the time: its start, found by file then within the file', async () => {
  assert.deepEqual(await positionAtTime(215, files, open), {
    pos: { file: 'b.000002', pos: 250 },
    early: false,
  });
  assert.deepEqual(await positionAtTime(220, files, open), {
    pos: { file: 'b.000002', pos: 250 },
    early: false,
  });
  assert.deepEqual(await positionAtTime(200, files, open), {
    pos: { file: 'b.000002', pos: 120 },
    early: false,
  });
  // after a file's last transaction: the next file's first one
  assert.deepEqual(await positionAtTime(240, files, open), {
    pos: { file: 'b.000003', pos: 120 },
    early: false,
  });
  // before the oldest file: its start; after the last transaction: none
  assert.deepEqual(await positionAtTime(50, files, open), { pos: { file: 'b.000001', pos: 4 }, early: true });
  assert.equal(await positionAtTime(311, files, open), undefined);
  assert.equal(await positionAtTime(1, [], open), undefined);
  opened = 0;
  await positionAtTime(305, files, open);
  assert.ok(opened <= 4, `a binary search over the files, not a read of each (${opened} opens)`);
});

test("start times in DM's forms; anything else is refused with the forms", () => {
  for (const ok of [
    '2021-10-21 00:01:00',
    '2021-10-21T00:01:00',
    '2021-10-21T00:01:00+08:00',
    '2021-10-21T00:01:00Z',
  ])
    checkStartTime(ok);
  for (const bad of ['2021-10-21', 'yesterday', '2021-13-45 00:00:00', '2021-10-21 00:01'])
    assert.throws(() => checkStartTime(bad), /is not a time; write it like '2021-10-21 00:01:00'/);
});

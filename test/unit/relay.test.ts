// The relay's pure parts and its files: which files a purge may remove, the directory layout and
// meta, the writer's offsets and torn-tail cut, and the reader following files being written.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { BinlogDecoder } from '../../src/binlog/decoder.js';
import type { RawBatch } from '../../src/binlog/client.js';
import { BINLOG_MAGIC } from '../../src/binlog/file.js';
import { parseSourceConfig } from '../../src/task/config.js';
import { RelayDir } from '../../src/units/relay/layout.js';
import { autoPurgeLimit, purgeable, type RelayFile } from '../../src/units/relay/purge.js';
import { RelayReader } from '../../src/units/relay/reader.js';
import { RelayUnit } from '../../src/units/relay/relay.js';
import { RelayWriter, writeAll } from '../../src/units/relay/writer.js';
import { Metrics } from '../../src/metrics/registry.js';
import { E, event, fde, u64 } from './fixtures.js';

const f = (sub: number, file: string, mtimeMs = 0): RelayFile => ({ sub, file, mtimeMs, size: 100 });

test('purge: before the limit, never the active file nor what a reader needs', () => {
  const files = [f(0, 'b.000009'), f(0, 'b.000010'), f(1, 'b.000001'), f(1, 'b.000002'), f(1, 'b.000003')];
  const names = (x: RelayFile[]) => x.map((y) => `${y.sub}/${y.file}`);
  assert.deepEqual(names(purgeable(files, { sub: 1, file: 'b.000003' }, { sub: 1, file: 'b.000003' }, [])), [
    '0/b.000009',
    '0/b.000010',
    '1/b.000001',
    '1/b.000002',
  ]);
  // b.000010 sorts after b.000009 by number, and a reader in sub 0 keeps everything from it on.
  assert.deepEqual(
    names(
      purgeable(files, { sub: 1, file: 'b.000003' }, { sub: 1, file: 'b.000003' }, [
        { sub: 0, file: 'b.000010' },
      ]),
    ),
    ['0/b.000009'],
  );
  assert.deepEqual(names(purgeable(files, { sub: 1, file: 'b.000003' }, { sub: 1, file: 'b.000002' }, [])), [
    '0/b.000009',
    '0/b.000010',
    '1/b.000001',
  ]);
});

test('purge: automatic limits by remain-space and expires', () => {
  const now = 10 * 3600_000;
  const files = [
    f(0, 'b.000001', now - 5 * 3600_000),
    f(0, 'b.000002', now - 3 * 3600_000),
    f(0, 'b.000003', now),
  ];
  const active = { sub: 0, file: 'b.000003' };
  const cfg = { interval: 3600, expires: 0, remainSpace: 15 };
  assert.equal(autoPurgeLimit(files, active, cfg, now, 100 * 1024 ** 3), undefined);
  assert.deepEqual(autoPurgeLimit(files, active, cfg, now, 1024 ** 3), active);
  assert.deepEqual(autoPurgeLimit(files, active, { ...cfg, expires: 4 }, now, 100 * 1024 ** 3), {
    sub: 0,
    file: 'b.000002',
  });
  assert.deepEqual(autoPurgeLimit(files, active, { ...cfg, expires: 1, remainSpace: 0 }, now, 0), active);
});

async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'dm-ts-relay-'));
  after(() => rm(d, { recursive: true, force: true }));
  return d;
}

test('layout: sub-directories by server, the index, and the meta', async () => {
  const dir = new RelayDir(join(await tmp(), 'relay'));
  assert.deepEqual(await dir.subDirs(), []);
  assert.equal(await dir.addSubDir('0-1'), '0-1.000001');
  assert.equal(await dir.addSubDir('0-2'), '0-2.000002');
  assert.equal(await readFile(join(dir.dir, 'server-uuid.index'), 'utf8'), '0-1.000001\n0-2.000002\n');
  assert.equal(await dir.readMeta('0-1.000001'), undefined);
  await dir.writeMeta('0-1.000001', { binlogName: 'mysql-bin.000010', binlogPos: 1234, binlogGtid: '0-1-5' });
  assert.deepEqual(await dir.readMeta('0-1.000001'), {
    binlogName: 'mysql-bin.000010',
    binlogPos: 1234,
    binlogGtid: '0-1-5',
  });
  assert.match(
    await readFile(dir.path('0-1.000001', 'relay.meta'), 'utf8'),
    /^binlog-name = "mysql-bin.000010"$/m,
  );
  for (const name of ['mysql-bin.000010', 'mysql-bin.000009', 'mysql-bin.000100']) {
    await writeFile(dir.path('0-1.000001', name), BINLOG_MAGIC);
  }
  assert.deepEqual(await dir.files('0-1.000001'), [
    'mysql-bin.000009',
    'mysql-bin.000010',
    'mysql-bin.000100',
  ]);
  await writeFile(dir.path('0-2.000002', 'relay.meta'), 'binlog-pos = "x"');
  await assert.rejects(dir.readMeta('0-2.000002'), /relay\.meta is unreadable .*remove the relay directory/);
});

/** Events of one binlog file starting at 4, with the right log_pos each, as the server sends them. */
function binlogFile(kinds: Array<'xid' | { rotate: string }>): { events: Buffer[]; bytes: Buffer } {
  const events = [fde()];
  let pos = 4 + events[0].length;
  for (const k of kinds) {
    const body = k === 'xid' ? u64(7) : Buffer.concat([u64(4), Buffer.from(k.rotate)]);
    const size = 19 + body.length + 4;
    events.push(event(k === 'xid' ? E.XID : E.ROTATE, body, { logPos: pos + size }));
    pos += size;
  }
  return { events, bytes: Buffer.concat([BINLOG_MAGIC, ...events]) };
}

const fakeRotate = (file: string) =>
  event(E.ROTATE, Buffer.concat([u64(4), Buffer.from(file)]), { logPos: 0, flags: 0x20 });

/** Events as the binlog client hands them to the relay writer, each of its own. */
function rawBatch(raws: Buffer[]): RawBatch {
  // The replica connection knows the checksum before the first FORMAT_DESCRIPTION.
  const d = new BinlogDecoder({ checksum: 'CRC32' });
  const ends: number[] = [];
  for (const r of raws) ends.push((ends.at(-1) ?? 0) + r.length);
  return { events: raws.map((r) => d.decode(r)), bytes: Buffer.concat(raws), ends };
}

test('writer: events at their offsets, files switched by rotates, made-up events left out', async () => {
  const dir = new RelayDir(await tmp());
  const sub = await dir.addSubDir('0-1');
  const w = new RelayWriter(dir, sub);
  await w.openAt('mysql-bin.000001', 4);
  const one = binlogFile(['xid', 'xid', { rotate: 'mysql-bin.000002' }]);
  const two = binlogFile(['xid']);
  const heartbeat = event(E.HEARTBEAT, Buffer.from('mysql-bin.000001'), { logPos: 0 });
  const raws = [fakeRotate('mysql-bin.000001'), ...one.events.slice(0, 2), heartbeat, ...one.events.slice(2)];
  raws.push(fakeRotate('mysql-bin.000002'), ...two.events);
  await w.write(rawBatch(raws));
  await w.close();
  assert.ok((await readFile(dir.path(sub, 'mysql-bin.000001'))).equals(one.bytes));
  assert.ok((await readFile(dir.path(sub, 'mysql-bin.000002'))).equals(two.bytes));
  assert.equal(w.file, 'mysql-bin.000002');
  assert.equal(w.size, two.bytes.length);

  // An event that does not continue the file is refused.
  await w.openAt('mysql-bin.000002', two.bytes.length);
  const stray = event(E.XID, u64(9), { logPos: two.bytes.length + 500 });
  await assert.rejects(w.write(rawBatch([stray])), /ends at \d+/);

  // A torn tail (and a later file) beyond the meta's position is cut off.
  await appendFile(dir.path(sub, 'mysql-bin.000002'), Buffer.from([1, 2, 3]));
  await w.openAt('mysql-bin.000001', one.bytes.length - one.events[3].length);
  await w.close();
  assert.equal((await stat(dir.path(sub, 'mysql-bin.000001'))).size, one.bytes.length - one.events[3].length);
  assert.deepEqual(await dir.files(sub), ['mysql-bin.000001']);
  // A file shorter than the meta says (cut by a system crash) starts again from its beginning.
  assert.equal(await w.openAt('mysql-bin.000001', one.bytes.length + 10), 4);
  await w.close();
  assert.ok((await readFile(dir.path(sub, 'mysql-bin.000001'))).equals(BINLOG_MAGIC));
});

/** A relay unit on a fresh directory with one sub-directory, for the reader's tests. */
async function relayWithSubDir(): Promise<{ relay: RelayUnit; sub: string }> {
  const src = parseSourceConfig('source-id: s\nfrom: {host: 127.0.0.1, port: 1, user: u, password: p}\n');
  const relay = new RelayUnit(src, { dir: await tmp(), log: pino({ level: 'silent' }) });
  const sub = await relay.dir.addSubDir('0-1');
  relay.subDirs = await relay.dir.subDirs();
  return { relay, sub };
}

test('reader: follows the relay across rotates and up to what the relay has completed', async () => {
  const { relay, sub } = await relayWithSubDir();
  const one = binlogFile(['xid', { rotate: 'mysql-bin.000002' }]);
  const two = binlogFile(['xid', 'xid']);
  await writeFile(relay.dir.path(sub, 'mysql-bin.000001'), one.bytes);
  // The second file without its last event yet, and no rotate at its end (a server restart).
  const partial = two.bytes.length - two.events[2].length;
  await writeFile(relay.dir.path(sub, 'mysql-bin.000002'), two.bytes);
  relay.moved({ sub: 0, subDir: sub, file: 'mysql-bin.000002', size: partial });

  const reader = new RelayReader(
    relay,
    { sub: 0, file: 'mysql-bin.000001', pos: 4 + one.events[0].length },
    't',
  );
  const seen: string[] = [];
  const done = (async () => {
    for await (const batch of reader.batches()) {
      for (const ev of batch) seen.push(`${ev.kind}@${ev.header.logPos}`);
    }
  })();
  const until = async (n: number) => {
    for (let i = 0; i < 100 && seen.length < n; i++) await new Promise((r) => setTimeout(r, 10));
  };
  await until(4);
  const fdeEnd = 4 + two.events[0].length;
  assert.deepEqual(seen, [
    `xid@${4 + one.events[0].length + one.events[1].length}`,
    `rotate@${one.bytes.length}`,
    `format_description@${fdeEnd}`,
    `xid@${partial}`,
  ]);
  // The relay completes the event, then moves on to a new file (no rotate in the old one).
  relay.moved({ sub: 0, subDir: sub, file: 'mysql-bin.000002', size: two.bytes.length });
  await until(5);
  assert.equal(seen[4], `xid@${two.bytes.length}`);
  const three = binlogFile([]);
  await writeFile(relay.dir.path(sub, 'mysql-bin.000003'), three.bytes);
  relay.moved({ sub: 0, subDir: sub, file: 'mysql-bin.000003', size: three.bytes.length });
  await until(7);
  assert.deepEqual(seen.slice(5), ['rotate@0', `format_description@${4 + three.events[0].length}`]);
  reader.close();
  await done;
});

test('reader: a subtask starting inside a file the relay has only just created waits for its events', async () => {
  const { relay, sub } = await relayWithSubDir();
  const one = binlogFile(['xid', 'xid']);
  // the relay (started again at the file's start) has written the magic only
  const path = relay.dir.path(sub, 'mysql-bin.000001');
  await writeFile(path, BINLOG_MAGIC);
  relay.moved({ sub: 0, subDir: sub, file: 'mysql-bin.000001', size: 4 });
  const at = 4 + one.events[0].length + one.events[1].length; // after the first xid
  const reader = new RelayReader(relay, { sub: 0, file: 'mysql-bin.000001', pos: at }, 't');
  const seen: string[] = [];
  const done = (async () => {
    for await (const batch of reader.batches())
      for (const ev of batch) seen.push(`${ev.kind}@${ev.header.logPos}`);
  })();
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(seen, [], 'nothing yet, and no error');
  await writeFile(path, one.bytes);
  relay.moved({ sub: 0, subDir: sub, file: 'mysql-bin.000001', size: one.bytes.length });
  for (let i = 0; i < 100 && !seen.length; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(seen, [`xid@${one.bytes.length}`]);
  reader.close();
  await done;
});

test('reader: a damaged relay file is an error naming the file and offset, and counted (dm_relay_data_corruption)', async () => {
  const { relay, sub } = await relayWithSubDir();
  const one = binlogFile(['xid', 'xid']);
  const bytes = Buffer.from(one.bytes);
  const second = 4 + one.events[0].length + one.events[1].length;
  bytes.writeUInt32LE(5, second + 9); // an event size no event has
  await writeFile(relay.dir.path(sub, 'mysql-bin.000001'), bytes);
  relay.moved({ sub: 0, subDir: sub, file: 'mysql-bin.000001', size: bytes.length });
  const count = async () =>
    Number(/^dm_relay_data_corruption (\d+)$/m.exec(await new Metrics(async () => []).render())?.[1] ?? 0);
  const before = await count();
  const reader = new RelayReader(relay, { sub: 0, file: 'mysql-bin.000001', pos: 4 }, 't');
  await assert.rejects(
    (async () => {
      for await (const batch of reader.batches()) void batch;
    })(),
    new RegExp(`mysql-bin\\.000001 is damaged at ${second}: invalid event size 5`),
  );
  assert.equal(await count(), before + 1);
});

test('a partial write goes on with the rest of the bytes, at the right offsets', async () => {
  const file = Buffer.alloc(12, '.');
  const calls: number[] = [];
  const fh = {
    // takes at most 3 bytes per call
    write: async (b: Uint8Array, off: number, len: number, pos: number) => {
      const n = Math.min(3, len);
      file.set(b.subarray(off, off + n), pos);
      calls.push(pos);
      return { bytesWritten: n, buffer: b };
    },
  };
  assert.equal(await writeAll(fh as never, Buffer.from('abcdefgh'), 2), 10);
  assert.equal(file.toString(), '..abcdefgh..');
  assert.deepEqual(calls, [2, 5, 8]);
});

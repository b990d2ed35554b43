// The decoder fuzzer: real MariaDB binlog files (test/fixtures/*.binlog) decoded event by event,
// with about half of the events mutated on the way (truncated, bytes flipped, length fields
// blown up, table maps with random column types and metadata, made-up events of any type; the
// checksum recomputed so the parser, not the CRC check, meets the damage). Every outcome must be
// a decoded event with well-typed values or a BinlogDecodeError: never another exception, a
// crash or a hang. Used by the unit test (100k cases) and `npm run bench:fuzz` (more).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BinlogDecoder } from '../../src/binlog/decoder.js';
import { crc32 } from '../../src/binlog/crc32.js';
import { EventType as E } from '../../src/binlog/constants.js';
import type { BinlogEvent } from '../../src/binlog/events.js';
import { BinlogDecodeError } from '../../src/errors.js';

export interface FuzzResult {
  cases: number;
  decoded: number;
  refused: number;
  /** Outcomes that break the rule: an untyped exception or a value of no known type. */
  failures: string[];
}

interface Fixture {
  events: Buffer[];
  checksum: boolean;
}

function fixture(name: string): Fixture {
  const file = readFileSync(join(import.meta.dirname, '..', 'fixtures', name));
  const events: Buffer[] = [];
  for (let off = 4; off + 19 <= file.length;) {
    const size = file.readUInt32LE(off + 9);
    events.push(file.subarray(off, off + size));
    off += size;
  }
  // the FDE's algorithm byte (5 bytes before its end) says whether events carry a CRC32
  return { events, checksum: events[0][events[0].length - 5] === 1 };
}

/** A small deterministic generator (xorshift32), so a failure can be replayed by its seed. */
function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

function mutate(ev: Buffer, checksum: boolean, r: (n: number) => number): Buffer {
  let b = Buffer.from(ev);
  const body = checksum ? b.length - 4 : b.length;
  switch (r(6)) {
    case 0: // truncated, the header's size made to agree (else it fails the size check at once)
      b = b.subarray(0, 19 + r(Math.max(1, body - 19)));
      b.writeUInt32LE(b.length + (checksum ? 4 : 0), 9);
      if (checksum) b = Buffer.concat([b, Buffer.alloc(4)]);
      break;
    case 1: // bytes flipped
      for (let k = 1 + r(4); k > 0; k--) if (body > 19) b[19 + r(body - 19)] ^= 1 + r(255);
      break;
    case 2: // a length field blown up
      if (body > 20) {
        const at = 19 + r(body - 19);
        for (let k = 0; k < 1 + r(4) && at + k < body; k++) b[at + k] = 0xff;
      }
      break;
    case 3: // a table map with random column types and metadata
      if (b[4] === E.TABLE_MAP && body > 40)
        for (let i = 30 + r(10); i < body; i++) if (r(3) === 0) b[i] = r(256);
      break;
    case 4: // another event type over the same body
      b[4] = r(256);
      break;
    default: // random bytes of a random length
      b = Buffer.concat([b.subarray(0, 19), Buffer.from(Array.from({ length: r(200) }, () => r(256)))]);
      b.writeUInt32LE(b.length + (checksum ? 4 : 0), 9);
      if (checksum) b = Buffer.concat([b, Buffer.alloc(4)]);
  }
  if (checksum && b.length >= 23) b.writeUInt32LE(crc32(b, 0, b.length - 4), b.length - 4);
  return b;
}

function typed(v: unknown): boolean {
  return (
    v === null ||
    v === undefined ||
    typeof v === 'number' ||
    typeof v === 'bigint' ||
    typeof v === 'string' ||
    Buffer.isBuffer(v)
  );
}

function check(ev: BinlogEvent): string | undefined {
  if (typeof ev.kind !== 'string') return 'an event without a kind';
  if (ev.kind !== 'rows') return undefined;
  for (const row of ev.rows)
    for (const img of [row.before, row.after])
      for (const v of img ?? []) if (!typed(v)) return `a value of no known type: ${String(v)}`;
  return undefined;
}

/** Runs `cases` decodes over both fixtures, starting from `seed`. */
export function fuzzDecoder(cases: number, seed = 1): FuzzResult {
  const fixtures = [fixture('full-metadata.binlog'), fixture('mariadb-defaults.binlog')];
  const r = rng(seed);
  const out: FuzzResult = { cases: 0, decoded: 0, refused: 0, failures: [] };
  while (out.cases < cases) {
    const f = fixtures[r(fixtures.length)];
    const decoder = new BinlogDecoder({ file: 'fuzz-bin.000001' });
    // one pass over the file: its FDE whole, then each event mutated or not (state carries on)
    for (let i = 0; i < f.events.length && out.cases < cases; i++) {
      const ev = i > 0 && r(2) === 0 ? mutate(f.events[i], f.checksum, r) : f.events[i];
      out.cases++;
      try {
        const bad = check(decoder.decode(ev));
        if (bad) out.failures.push(`case ${out.cases} (seed ${seed}): ${bad}`);
        else out.decoded++;
      } catch (e) {
        if (e instanceof BinlogDecodeError) out.refused++;
        else out.failures.push(`case ${out.cases} (seed ${seed}): ${(e as Error)?.stack ?? String(e)}`);
      }
    }
  }
  return out;
}

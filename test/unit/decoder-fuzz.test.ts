// The decoder against mutated real binlog events: only decoded events with well-typed values or
// BinlogDecodeErrors, never another exception, a crash or a hang (more: npm run bench:fuzz).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzDecoder } from '../harness/decoder-fuzz.js';
import { BinlogDecoder } from '../../src/binlog/decoder.js';
import { BinlogDecodeError } from '../../src/errors.js';
import { E, T, fde, rowsEvent, tableMap } from './fixtures.js';

test('100 000 mutated real binlog events: typed errors only', { timeout: 120_000 }, () => {
  const r = fuzzDecoder(100_000, 20261201);
  assert.deepEqual(r.failures.slice(0, 3), []);
  assert.equal(r.cases, 100_000);
  assert.ok(r.refused > 1000 && r.decoded > 1000, `${r.decoded} decoded, ${r.refused} refused`);
});

test('a rows event whose row image has no bytes is refused (it looped until memory ran out)', () => {
  const d = new BinlogDecoder();
  d.decode(fde());
  d.decode(tableMap(5, 'db', 't', [{ type: T.LONG }]));
  assert.throws(
    () => d.decode(rowsEvent(E.WRITE_ROWS, 5, 1, [Buffer.of(1)], { present: Buffer.of(0) })),
    (e: unknown) => e instanceof BinlogDecodeError && /row image has no bytes/.test(e.message),
  );
});

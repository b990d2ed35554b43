// Relay checks shared by the relay tests.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { comparePosition, parsePosition } from '../../src/binlog/position.js';
import { parseRelayName } from '../../src/binlog/position.js';
import { masterStatus, type MariaDBSandbox } from './index.js';

/** Whether a status position has reached `want` (the upstream may write a BINLOG_CHECKPOINT
 * event after FLUSH LOGS, so it can be beyond). */
export function reached(at: string | undefined, want: string): boolean {
  if (!at) return false;
  const p = parsePosition(at);
  return comparePosition({ file: parseRelayName(p.file).file, pos: p.pos }, parsePosition(want)) >= 0;
}

/** Every binlog file in the relay sub-directory `dir` equals the upstream's byte for byte (the
 * file the upstream still writes differs only in the FORMAT_DESCRIPTION's "in use" flag, which
 * a server clears when it sends the event). Returns how many files there are. */
export async function assertRelayEqualsUpstream(up: MariaDBSandbox, dir: string, from = ''): Promise<number> {
  const { file: active } = await masterStatus(up);
  const files = (await readdir(dir)).filter((f) => /\.\d+$/.test(f) && f >= from);
  assert.ok(files.length > 0, 'relay files');
  for (const f of files) {
    const mine = await readFile(join(dir, f));
    const theirs = await readFile(join(up.datadir, f));
    if (f === active) theirs[4 + 17] &= ~1;
    assert.equal(mine.length, theirs.length, `size of relay file ${f}`);
    assert.ok(mine.equals(theirs), `relay file ${f} equals the upstream's`);
  }
  return files.length;
}

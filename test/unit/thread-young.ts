// A module for thread.test.ts: allocates for a while, then tells the size of its young generation.
import v8 from 'node:v8';
import { isMainThread, parentPort } from 'node:worker_threads';

/** Bytes of new space after allocating enough for it to grow to its limit. */
export function youngBytes(): number {
  let keep: object[] = [];
  for (let i = 0; i < 2e6; i++) {
    keep.push({ i, s: `x${i}` });
    if (keep.length > 1e5) keep = [];
  }
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;
}

if (!isMainThread) parentPort!.postMessage(youngBytes());

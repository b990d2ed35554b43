import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { startThread } from '../../src/thread.js';
import { DMError, ERR, fromWire, toWire, type WireError } from '../../src/errors.js';

test('a module runs on a thread (from the TypeScript source here) and its errors cross as plain data', async () => {
  const t = startThread(import.meta.url, 'thread-echo', 'hi');
  const [w] = (await once(t, 'message')) as [WireError];
  const e = fromWire(w);
  assert.ok(e instanceof DMError);
  assert.equal(e.code, ERR.relayLayout.code);
  assert.equal(e.message, 'echo hi');
  assert.equal(e.workaround, 'w');
  assert.equal((e.cause as Error).message, 'root');
  await t.terminate();
});

test('fromWire(toWire(e)): a plain error stays plain; a registry error keeps its retryability', () => {
  const plain = fromWire(toWire(new Error('x')));
  assert.ok(!(plain instanceof DMError));
  assert.equal(plain.message, 'x');
  const dm = fromWire(toWire(new DMError(ERR.binlogStreamLost, { message: 'lost', retryable: false })));
  assert.ok(dm instanceof DMError && dm.retryable === false && dm.scope === ERR.binlogStreamLost.scope);
  assert.equal(fromWire(toWire('text')).message, 'text');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
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

test('a thread keeps its own young generation although the process sets --max-semi-space-size', async () => {
  const here = JSON.stringify(import.meta.url);
  const script = `
    import { once } from 'node:events';
    import { startThread } from ${JSON.stringify(new URL('../../src/thread.ts', import.meta.url).href)};
    import { youngBytes } from ${JSON.stringify(new URL('./thread-young.ts', import.meta.url).href)};
    const t = startThread(${here}, 'thread-young', null, { youngGenerationMb: 8 });
    const [thread] = await once(t, 'message');
    console.log(JSON.stringify({ thread, main: youngBytes() }));
    await t.terminate();`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--max-semi-space-size=32', '--import', 'tsx', '--input-type=module', '-e', script],
    { cwd: new URL('../..', import.meta.url).pathname },
  );
  const { thread, main } = JSON.parse(stdout) as { thread: number; main: number };
  assert.ok(thread <= 8 << 20, `the thread's new space is ${thread} bytes`);
  assert.ok(main > 32 << 20, `the main thread's new space is ${main} bytes`); // its flag still holds
});

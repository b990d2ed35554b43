// Auto-resume with backoff, shared by subtasks and the relay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AutoResume } from '../../src/units/supervisor.js';

test('auto-resume: the delay doubles up to a minute, a good run resets it, cancel stops it', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const a = new AutoResume(1000);
  let resumed = 0;
  assert.equal(
    a.schedule(() => resumed++),
    1000,
  );
  t.mock.timers.tick(1000);
  assert.equal(resumed, 1);
  assert.equal(
    a.schedule(() => resumed++),
    2000,
  );
  a.cancel();
  t.mock.timers.tick(5000);
  assert.equal(resumed, 1, 'cancelled');
  for (let i = 0; i < 10; i++) a.schedule(() => undefined);
  assert.equal(
    a.schedule(() => undefined),
    60_000,
  );
  a.reset();
  assert.equal(
    a.schedule(() => undefined),
    1000,
  );
  a.cancel();
});

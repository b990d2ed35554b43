import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settleAll, sleep } from '../../src/async.js';

test('settleAll: the values in order; on a failure, the first failure once every promise has settled', async () => {
  assert.deepEqual(await settleAll([sleep(5).then(() => 1), Promise.resolve(2)]), [1, 2]);
  let lateDone = false;
  const late = sleep(20).then(() => {
    lateDone = true;
    return 3;
  });
  await assert.rejects(settleAll([Promise.reject(new Error('first')), late]), /first/);
  assert.ok(lateDone, 'the failure waits for the promises still running');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fifo } from '../../src/fifo.js';

test('Fifo: push, at, drop from the head, compaction keeps the order', () => {
  const q = new Fifo<number>();
  assert.equal(q.length, 0);
  assert.equal(q.at(0), undefined);
  for (let i = 0; i < 5000; i++) q.push(i);
  let head = 0;
  // drop a few at a time, pushing more: the items stay in order through compactions
  for (let round = 0; round < 2000; round++) {
    q.drop(3);
    head += 3;
    q.push(5000 + round);
    assert.equal(q.at(0), head);
    assert.equal(q.length, 5000 + round + 1 - head);
  }
  assert.equal(q.at(q.length - 1), 6999);
  q.drop(q.length + 10);
  assert.equal(q.length, 0);
  q.push(1);
  assert.equal(q.at(0), 1);
  q.clear();
  assert.equal(q.length, 0);
});

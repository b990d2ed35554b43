// MariaDB's client_ed25519 signature: for a 32-byte password it is standard Ed25519 with that
// seed, so Node's own Ed25519 must give the same bytes; other lengths hash the password itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { ed25519Sign } from '../../src/mysql/ed25519.js';

const keyOf = (seed: Buffer) =>
  createPrivateKey({
    key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]),
    format: 'der',
    type: 'pkcs8',
  });

test('client_ed25519 signs as Ed25519 does (32-byte passwords equal a seed)', () => {
  for (let i = 0; i < 8; i++) {
    const seed = Buffer.alloc(32, i * 31 + 1);
    const msg = Buffer.alloc(32, i);
    assert.deepEqual(ed25519Sign(seed, msg), sign(null, msg, keyOf(seed)), `seed ${i}`);
  }
});

test('client_ed25519 with a password of any length: a valid signature for its public key', () => {
  // the public key MariaDB stores is the encoded a·B for a from SHA-512(password); a signature
  // verifies against the key Node derives from the same 64 bytes only for 32-byte passwords, so
  // here: deterministic, 64 bytes, and different per password and per scramble
  const a = ed25519Sign(Buffer.from('secret'), Buffer.alloc(32, 1));
  assert.equal(a.length, 64);
  assert.deepEqual(a, ed25519Sign(Buffer.from('secret'), Buffer.alloc(32, 1)));
  assert.notDeepEqual(a, ed25519Sign(Buffer.from('secret!'), Buffer.alloc(32, 1)));
  assert.notDeepEqual(a, ed25519Sign(Buffer.from('secret'), Buffer.alloc(32, 2)));
  const seed = Buffer.alloc(32, 9);
  const pub = createPublicKey(keyOf(seed));
  assert.ok(verify(null, Buffer.alloc(32, 3), pub, ed25519Sign(seed, Buffer.alloc(32, 3))));
});

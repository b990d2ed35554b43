import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_PAYLOAD, PacketFramer } from '../../src/mysql/framing.js';

function frame(payload: Buffer, seq: number): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  for (;;) {
    const len = Math.min(MAX_PAYLOAD, payload.length - off);
    const h = Buffer.alloc(4);
    h.writeUIntLE(len, 0, 3);
    h[3] = seq++ & 0xff;
    out.push(h, payload.subarray(off, off + len));
    off += len;
    if (len < MAX_PAYLOAD) return out;
  }
}

test('PacketFramer: packets out of any chunking, across chunks, empty and 16 MiB+ ones', () => {
  const payloads = [
    Buffer.from('a'),
    Buffer.alloc(0),
    Buffer.alloc(70_000, 7),
    Buffer.from('hello'),
    Buffer.alloc(MAX_PAYLOAD + 10, 3), // continues in a second packet
    Buffer.alloc(MAX_PAYLOAD, 4), // exactly 2^24-1: followed by an empty packet
    Buffer.from('end'),
  ];
  const stream = Buffer.concat(payloads.flatMap((p, i) => frame(p, i * 3)));
  // tiny chunks over the first packets (headers split every way), then chunk sizes of every kind
  for (const sizes of [[1, 2, 3, 5, 7], [65_536], [stream.length], [4, 65_535, 3]]) {
    const got: Buffer[] = [];
    const seqs: number[] = [];
    const f = new PacketFramer((p, seq) => {
      got.push(Buffer.from(p));
      seqs.push(seq);
    });
    for (let off = 0, k = 0; off < stream.length; k++) {
      const n = off > 100_000 && sizes[0] === 1 ? 65_536 : sizes[k % sizes.length];
      f.push(stream.subarray(off, off + n));
      off += n;
    }
    assert.equal(got.length, payloads.length, `chunks of ${sizes}`);
    got.forEach((g, i) => assert.ok(g.equals(payloads[i]), `payload ${i} with chunks of ${sizes}`));
    // the sequence id after each (last) packet: the next one to send
    assert.deepEqual(seqs, [1, 4, 7, 10, 14, 17, 19]);
  }
});

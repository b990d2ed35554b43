// MySQL packet framing of a byte stream: 3-byte length, sequence id, payload; payloads of 2^24-1
// bytes continue in the next packet. Chunks are split into packets without copying, except a
// packet that spans chunks, which is copied once, when it is whole. Pure.

export const MAX_PAYLOAD = 0xffffff;

export class PacketFramer {
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  /** Payload parts of a packet of 16 MiB or more. */
  private partial: Buffer[] = [];

  /** `seq` is the sequence id the next packet sent must carry. */
  constructor(private readonly onPacket: (payload: Buffer, seq: number) => void) {}

  push(d: Buffer): void {
    let off = 0;
    if (this.chunkBytes) {
      // A packet begun in earlier chunks: complete it from the head of this one.
      const have = this.chunkBytes;
      const byteAt = (i: number) => {
        for (const c of this.chunks) {
          if (i < c.length) return c[i];
          i -= c.length;
        }
        return d[i];
      };
      const need = have + d.length < 4 ? Infinity : 4 + (byteAt(0) | (byteAt(1) << 8) | (byteAt(2) << 16));
      if (have + d.length < need) {
        this.chunks.push(d);
        this.chunkBytes += d.length;
        return;
      }
      off = need - have;
      const whole = Buffer.concat([...this.chunks, d.subarray(0, off)], need);
      this.chunks = [];
      this.chunkBytes = 0;
      this.packet(whole, 0, need - 4);
    }
    while (d.length - off >= 4) {
      const len = d[off] | (d[off + 1] << 8) | (d[off + 2] << 16);
      if (d.length - off < 4 + len) break;
      this.packet(d, off, len);
      off += 4 + len;
    }
    if (off < d.length) {
      this.chunks = [d.subarray(off)];
      this.chunkBytes = d.length - off;
    }
  }

  /** One packet, its header at `off`, of `len` payload bytes. */
  private packet(buf: Buffer, off: number, len: number): void {
    const seq = (buf[off + 3] + 1) & 0xff;
    const payload = buf.subarray(off + 4, off + 4 + len);
    if (len === MAX_PAYLOAD) {
      this.partial.push(payload);
      return;
    }
    let whole = payload;
    if (this.partial.length) {
      this.partial.push(payload);
      whole = Buffer.concat(this.partial);
      this.partial = [];
    }
    this.onPacket(whole, seq);
  }
}

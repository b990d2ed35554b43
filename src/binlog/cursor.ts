// A forward reader over a Buffer for little-endian binlog fields. Reads past `end` throw a RangeError,
// which the decoder turns into a typed error naming the event's position.

export class Cursor {
  constructor(
    readonly buf: Buffer,
    public off: number,
    public end: number,
  ) {}

  get remaining(): number {
    return this.end - this.off;
  }

  need(n: number): void {
    if (this.off + n > this.end) {
      throw new RangeError(`truncated: need ${n} byte(s) at offset ${this.off}, have ${this.end - this.off}`);
    }
  }

  skip(n: number): void {
    this.need(n);
    this.off += n;
  }

  u8(): number {
    this.need(1);
    return this.buf[this.off++];
  }

  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16LE(this.off);
    this.off += 2;
    return v;
  }

  u24(): number {
    this.need(3);
    const v = this.buf.readUIntLE(this.off, 3);
    this.off += 3;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.off);
    this.off += 4;
    return v;
  }

  u48(): number {
    this.need(6);
    const v = this.buf.readUIntLE(this.off, 6);
    this.off += 6;
    return v;
  }

  u64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64LE(this.off);
    this.off += 8;
    return v;
  }

  /** A u64 that must fit a JS number (positions, counts, sequence numbers). */
  u64n(): number {
    const v = this.u64();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`value ${v} too large`);
    return Number(v);
  }

  /** Length-encoded integer. */
  lenenc(): number {
    const first = this.u8();
    if (first < 0xfb) return first;
    if (first === 0xfc) return this.u16();
    if (first === 0xfd) return this.u24();
    if (first === 0xfe) return this.u64n();
    throw new RangeError(`invalid length-encoded integer prefix 0x${first.toString(16)}`);
  }

  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return b;
  }

  str(n: number, encoding: BufferEncoding = 'utf8'): string {
    this.need(n);
    const s = this.buf.toString(encoding, this.off, this.off + n);
    this.off += n;
    return s;
  }

  /** The rest up to `end`. */
  rest(): Buffer {
    return this.bytes(this.end - this.off);
  }

  lenencBytes(): Buffer {
    return this.bytes(this.lenenc());
  }
}

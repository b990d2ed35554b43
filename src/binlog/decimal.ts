// MySQL's binary DECIMAL format: groups of 9 digits in 4 bytes, big-endian, sign in the top bit.

/** Big-endian unsigned integer of n ≤ 6 bytes (exact in a double). */
export function readBE(buf: Buffer, off: number, n: number): number {
  // n ≤ 6: exact in a double
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 256 + buf[off + i];
  return v;
}

const DIG2BYTES = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

/** Zero-padded decimal digits (shared by the value decoders). */
export function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Bytes a NEWDECIMAL(precision, scale) occupies. */
export function decimalSize(precision: number, scale: number): number {
  const intg = precision - scale;
  return Math.floor(intg / 9) * 4 + DIG2BYTES[intg % 9] + Math.floor(scale / 9) * 4 + DIG2BYTES[scale % 9];
}

/** Decodes MySQL's binary DECIMAL into its exact text, e.g. `-1234.5600`. */
export function decodeDecimal(src: Buffer, off: number, precision: number, scale: number): string {
  const size = decimalSize(precision, scale);
  const b = Buffer.from(src.subarray(off, off + size)); // a copy: we flip bits
  if (b.length < size) throw new RangeError('truncated DECIMAL');
  const negative = (b[0] & 0x80) === 0;
  b[0] ^= 0x80;
  if (negative) for (let i = 0; i < size; i++) b[i] ^= 0xff;
  const intg = precision - scale;
  const intg0 = Math.floor(intg / 9);
  const intg0x = intg % 9;
  const frac0 = Math.floor(scale / 9);
  const frac0x = scale % 9;
  let p = 0;
  const parts: string[] = [];
  if (intg0x > 0) {
    const n = DIG2BYTES[intg0x];
    parts.push(String(readBE(b, p, n)));
    p += n;
  }
  for (let i = 0; i < intg0; i++) {
    parts.push(pad(b.readUInt32BE(p), 9));
    p += 4;
  }
  const intPart = parts.join('').replace(/^0+/, '') || '0';
  let fracPart = '';
  for (let i = 0; i < frac0; i++) {
    fracPart += pad(b.readUInt32BE(p), 9);
    p += 4;
  }
  if (frac0x > 0) {
    const n = DIG2BYTES[frac0x];
    fracPart += pad(readBE(b, p, n), frac0x);
  }
  const text = scale > 0 ? `${intPart}.${fracPart}` : intPart;
  return negative ? `-${text}` : text;
}

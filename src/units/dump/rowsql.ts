// Turns text-protocol result rows into SQL value tuples, byte for byte: numbers are copied as the
// server printed them, strings are escaped without any charset conversion (the dump and the load
// both use `SET NAMES binary`, so every charset survives exactly), BIT and GEOMETRY become hex
// literals. This is the dump's hot loop: no JS strings or per-value objects are made.
import type { ColumnDef } from '../../mysql/protocol.js';
import { escapeBytes, escapeTsv, type ByteBuf } from '../../mysql/tsv.js';

export const enum ValueKind {
  Raw = 0,
  Quoted = 1,
  Hex = 2,
}

const RAW_TYPES = new Set([0, 1, 2, 3, 4, 5, 8, 9, 13, 246]);
const HEX_TYPES = new Set([16, 255]);

export function valueKind(col: Pick<ColumnDef, 'type'>): ValueKind {
  if (RAW_TYPES.has(col.type)) return ValueKind.Raw;
  if (HEX_TYPES.has(col.type)) return ValueKind.Hex;
  return ValueKind.Quoted;
}

const HEX = Buffer.from('0123456789ABCDEF', 'latin1');
// Escape table: 0 = copy, else the character after the backslash.
const ESC = new Uint8Array(256);
ESC[0x00] = 0x30; // \0
ESC[0x0a] = 0x6e; // \n
ESC[0x0d] = 0x72; // \r
ESC[0x1a] = 0x5a; // \Z
ESC[0x27] = 0x27; // \'
ESC[0x5c] = 0x5c; // \\

/** Appends `(v1,v2,…)` for one text-protocol row packet. */
export function encodeRow(p: Buffer, kinds: readonly ValueKind[], out: ByteBuf): void {
  // Worst case: every byte escaped or hex-encoded, plus separators and NULLs.
  out.ensure(p.length * 2 + kinds.length * 6 + 4);
  const b = out.buf;
  let o = out.len;
  let off = 0;
  b[o++] = 0x28; // (
  for (let c = 0; c < kinds.length; c++) {
    if (c) b[o++] = 0x2c; // ,
    const f = p[off];
    let len: number;
    if (f < 0xfb) {
      len = f;
      off += 1;
    } else if (f === 0xfb) {
      b[o++] = 0x4e; // NULL
      b[o++] = 0x55;
      b[o++] = 0x4c;
      b[o++] = 0x4c;
      off += 1;
      continue;
    } else if (f === 0xfc) {
      len = p[off + 1] | (p[off + 2] << 8);
      off += 3;
    } else if (f === 0xfd) {
      len = p[off + 1] | (p[off + 2] << 8) | (p[off + 3] << 16);
      off += 4;
    } else {
      len = p.readUInt32LE(off + 1) + p.readUInt32LE(off + 5) * 0x100000000;
      off += 9;
    }
    const end = off + len;
    const kind = kinds[c];
    if (kind === ValueKind.Raw) {
      p.copy(b, o, off, end);
      o += len;
    } else if (kind === ValueKind.Quoted) {
      b[o++] = 0x27;
      o = escapeBytes(ESC, p, off, end, b, o);
      b[o++] = 0x27;
    } else if (len === 0) {
      b[o++] = 0x27; // ''
      b[o++] = 0x27;
    } else {
      b[o++] = 0x30; // 0x
      b[o++] = 0x78;
      for (let i = off; i < end; i++) {
        b[o++] = HEX[p[i] >> 4];
        b[o++] = HEX[p[i] & 15];
      }
    }
    off = end;
  }
  b[o++] = 0x29; // )
  out.len = o;
}

/** Appends one text-protocol row packet as a line of tab-separated values for LOAD DATA: NULL as
 * \N, every other value's bytes as they are (the load reads them CHARACTER SET binary), with the
 * field and line separators and the escape character escaped. Tables with hex kinds (BIT,
 * GEOMETRY) are not written this way. */
export function encodeTsvRow(p: Buffer, columns: number, out: ByteBuf): void {
  out.ensure(p.length * 2 + columns * 3 + 2);
  const b = out.buf;
  let o = out.len;
  let off = 0;
  for (let c = 0; c < columns; c++) {
    if (c) b[o++] = 0x09;
    const f = p[off];
    let len: number;
    if (f < 0xfb) {
      len = f;
      off += 1;
    } else if (f === 0xfb) {
      b[o++] = 0x5c; // \N
      b[o++] = 0x4e;
      off += 1;
      continue;
    } else if (f === 0xfc) {
      len = p[off + 1] | (p[off + 2] << 8);
      off += 3;
    } else if (f === 0xfd) {
      len = p[off + 1] | (p[off + 2] << 8) | (p[off + 3] << 16);
      off += 4;
    } else {
      len = p.readUInt32LE(off + 1) + p.readUInt32LE(off + 5) * 0x100000000;
      off += 9;
    }
    o = escapeTsv(p, off, off + len, b, o);
    off += len;
  }
  b[o++] = 0x0a;
  out.len = o;
}

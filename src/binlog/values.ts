// Decoding one column value from a row image, for every MySQL/MariaDB column type.
import { ColumnType as T } from './constants.js';
import type { ColumnInfo, Value } from './events.js';
import { isStringCharset } from './charset.js';
import { decodeJson } from './json.js';
import { decimalSize, decodeDecimal, pad, readBE } from './decimal.js';

const BINARY_COLLATION = 63;

/** Microseconds → fractional digits for `fsp` (0 → ''). */
function fracDigits(micro: number, fsp: number): string {
  return fsp > 0 ? '.' + pad(micro, 6).slice(0, fsp) : '';
}

/** TIME2 (MySQL 5.6+ format) → `[-]HH:MM:SS[.f]`. */
function decodeTime2(buf: Buffer, off: number, fsp: number): string {
  const intpart0 = readBE(buf, off, 3) - 0x800000;
  let packed: number; // (intpart << 24) + frac, as a double (fits: |value| < 2^48)
  switch (fsp) {
    case 1:
    case 2: {
      let intpart = intpart0;
      let frac = buf[off + 3];
      if (intpart < 0 && frac) {
        intpart++;
        frac -= 0x100;
      }
      packed = intpart * 0x1000000 + frac * 10000;
      break;
    }
    case 3:
    case 4: {
      let intpart = intpart0;
      let frac = buf.readUInt16BE(off + 3);
      if (intpart < 0 && frac) {
        intpart++;
        frac -= 0x10000;
      }
      packed = intpart * 0x1000000 + frac * 100;
      break;
    }
    case 5:
    case 6:
      packed = readBE(buf, off, 6) - 0x800000000000;
      break;
    default:
      packed = intpart0 * 0x1000000;
  }
  const negative = packed < 0;
  if (negative) packed = -packed;
  const hms = Math.floor(packed / 0x1000000);
  const micro = packed % 0x1000000;
  const hour = Math.floor(hms / 4096) % 1024;
  const minute = Math.floor(hms / 64) % 64;
  const second = hms % 64;
  return `${negative ? '-' : ''}${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}${fracDigits(micro, fsp)}`;
}

function fracSize(fsp: number): number {
  return (fsp + 1) >> 1;
}

/** Reads the fractional-seconds part that follows DATETIME2/TIMESTAMP2, as microseconds. */
function readFrac(buf: Buffer, off: number, fsp: number): number {
  switch (fsp) {
    case 1:
    case 2:
      return buf[off] * 10000;
    case 3:
    case 4:
      return buf.readUInt16BE(off) * 100;
    case 5:
    case 6:
      return readBE(buf, off, 3);
    default:
      return 0;
  }
}

function decodeDatetime2(buf: Buffer, off: number, fsp: number): string {
  const intpart = readBE(buf, off, 5) - 0x8000000000;
  const ymd = Math.floor(intpart / 131072); // >> 17
  const hms = intpart % 131072;
  const ym = Math.floor(ymd / 32);
  const day = ymd % 32;
  const month = ym % 13;
  const year = Math.floor(ym / 13);
  const second = hms % 64;
  const minute = Math.floor(hms / 64) % 64;
  const hour = Math.floor(hms / 4096);
  const micro = readFrac(buf, off + 5, fsp);
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)} ${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}${fracDigits(micro, fsp)}`;
}

/** Seconds since the epoch (UTC) → `YYYY-MM-DD HH:MM:SS[.f]` in UTC; 0 is the zero timestamp. */
export function formatTimestamp(seconds: number, micro: number, fsp: number): string {
  if (seconds === 0 && micro === 0) return '0000-00-00 00:00:00' + fracDigits(0, fsp);
  const d = new Date(seconds * 1000);
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)} ` +
    `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}${fracDigits(micro, fsp)}`
  );
}

/** Resolves the real type and metadata of a table-map column (STRING hides ENUM/SET and long CHARs). */
export function resolveColumnType(mapType: number, meta: number): { type: number; meta: number } {
  if (mapType === T.STRING && meta >= 256) {
    const byte0 = meta >> 8;
    const byte1 = meta & 0xff;
    if ((byte0 & 0x30) !== 0x30) {
      // CHAR longer than 255 bytes: length bits folded into byte0
      return { type: byte0 | 0x30, meta: byte1 | (((byte0 & 0x30) ^ 0x30) << 4) };
    }
    return { type: byte0, meta: byte1 }; // ENUM/SET (meta: pack length) or a short CHAR
  }
  return { type: mapType, meta };
}

/** Bytes the last decodeValue call consumed (a live binding: no tuple allocated per value). */
export let valueWidth = 0;

/**
 * Decodes the value of `col` at `off` and sets `valueWidth` to the bytes it took. `end` bounds the
 * read; throws RangeError when the image is truncated.
 */
export function decodeValue(buf: Buffer, off: number, end: number, col: ColumnInfo): Value {
  const meta = col.meta;
  switch (col.type) {
    case T.TINY:
      if (off + 1 > end) truncated(col);
      valueWidth = 1;
      return col.unsigned ? buf[off] : buf.readInt8(off);
    case T.SHORT:
      if (off + 2 > end) truncated(col);
      valueWidth = 2;
      return col.unsigned ? buf.readUInt16LE(off) : buf.readInt16LE(off);
    case T.INT24:
      if (off + 3 > end) truncated(col);
      valueWidth = 3;
      return col.unsigned ? buf.readUIntLE(off, 3) : buf.readIntLE(off, 3);
    case T.LONG:
      if (off + 4 > end) truncated(col);
      valueWidth = 4;
      return col.unsigned ? buf.readUInt32LE(off) : buf.readInt32LE(off);
    case T.LONGLONG:
      if (off + 8 > end) truncated(col);
      valueWidth = 8;
      return col.unsigned ? buf.readBigUInt64LE(off) : buf.readBigInt64LE(off);
    case T.FLOAT:
      if (off + 4 > end) truncated(col);
      valueWidth = 4;
      return buf.readFloatLE(off);
    case T.DOUBLE:
      if (off + 8 > end) truncated(col);
      valueWidth = 8;
      return buf.readDoubleLE(off);
    case T.NEWDECIMAL: {
      const precision = meta >> 8;
      const scale = meta & 0xff;
      const n = decimalSize(precision, scale);
      if (off + n > end) truncated(col);
      valueWidth = n;
      return decodeDecimal(buf, off, precision, scale);
    }
    case T.YEAR:
      if (off + 1 > end) truncated(col);
      valueWidth = 1;
      return buf[off] === 0 ? 0 : 1900 + buf[off];
    case T.DATE:
    case T.NEWDATE: {
      if (off + 3 > end) truncated(col);
      const v = buf.readUIntLE(off, 3);
      valueWidth = 3;
      return `${pad(v >> 9, 4)}-${pad((v >> 5) & 15, 2)}-${pad(v & 31, 2)}`;
    }
    case T.TIME: {
      if (off + 3 > end) truncated(col);
      let v = buf.readIntLE(off, 3);
      const neg = v < 0;
      if (neg) v = -v;
      const s = `${neg ? '-' : ''}${pad(Math.floor(v / 10000), 2)}:${pad(Math.floor(v / 100) % 100, 2)}:${pad(v % 100, 2)}`;
      valueWidth = 3;
      return s;
    }
    case T.TIME2: {
      const n = 3 + fracSize(meta);
      if (off + n > end) truncated(col);
      valueWidth = n;
      return decodeTime2(buf, off, meta);
    }
    case T.DATETIME: {
      if (off + 8 > end) truncated(col);
      const v = buf.readBigUInt64LE(off);
      const d = v / 1000000n;
      const t = v % 1000000n;
      const date = Number(d);
      const time = Number(t);
      const s =
        `${pad(Math.floor(date / 10000), 4)}-${pad(Math.floor(date / 100) % 100, 2)}-${pad(date % 100, 2)} ` +
        `${pad(Math.floor(time / 10000), 2)}:${pad(Math.floor(time / 100) % 100, 2)}:${pad(time % 100, 2)}`;
      valueWidth = 8;
      return s;
    }
    case T.DATETIME2: {
      const n = 5 + fracSize(meta);
      if (off + n > end) truncated(col);
      valueWidth = n;
      return decodeDatetime2(buf, off, meta);
    }
    case T.TIMESTAMP:
      if (off + 4 > end) truncated(col);
      valueWidth = 4;
      return formatTimestamp(buf.readUInt32LE(off), 0, 0);
    case T.TIMESTAMP2: {
      const n = 4 + fracSize(meta);
      if (off + n > end) truncated(col);
      valueWidth = n;
      return formatTimestamp(buf.readUInt32BE(off), readFrac(buf, off + 4, meta), meta);
    }
    case T.VARCHAR:
    case T.VAR_STRING:
    case T.STRING: {
      const lenBytes = meta > 255 ? 2 : 1;
      if (off + lenBytes > end) truncated(col);
      const len = lenBytes === 1 ? buf[off] : buf.readUInt16LE(off);
      if (off + (lenBytes + len) > end) truncated(col);
      const start = off + lenBytes;
      if (col.type === T.STRING && col.charset === BINARY_COLLATION && len < meta) {
        // BINARY(n): the binlog drops the trailing zero padding that the column (and SELECT) has.
        const v = Buffer.alloc(meta);
        buf.copy(v, 0, start, start + len);
        valueWidth = lenBytes + len;
        return v;
      }
      valueWidth = lenBytes + len;
      return text(buf, start, start + len, col);
    }
    case T.ENUM: {
      if (off + meta > end) truncated(col);
      const idx = meta === 1 ? buf[off] : buf.readUInt16LE(off);
      const v = col.enumValues ? (idx === 0 ? '' : (col.enumValues[idx - 1] ?? idx)) : idx;
      valueWidth = meta;
      return v;
    }
    case T.SET: {
      if (off + meta > end) truncated(col);
      let bits = 0n;
      for (let i = meta - 1; i >= 0; i--) bits = (bits << 8n) | BigInt(buf[off + i]);
      if (col.setValues) {
        const names: string[] = [];
        col.setValues.forEach((name, i) => {
          if (bits & (1n << BigInt(i))) names.push(name);
        });
        valueWidth = meta;
        return names.join(',');
      }
      valueWidth = meta;
      return meta <= 4 ? Number(bits) : bits;
    }
    case T.BIT: {
      const nbits = (meta >> 8) * 8 + (meta & 0xff);
      const n = (nbits + 7) >> 3;
      if (off + n > end) truncated(col);
      valueWidth = n;
      return Buffer.from(buf.subarray(off, off + n));
    }
    case T.BLOB:
    case T.TINY_BLOB:
    case T.MEDIUM_BLOB:
    case T.LONG_BLOB:
    case T.GEOMETRY:
    case T.JSON:
    case T.VECTOR: {
      if (off + meta > end) truncated(col);
      const len = buf.readUIntLE(off, meta);
      if (off + (meta + len) > end) truncated(col);
      const start = off + meta;
      let v: Value;
      if (col.type === T.JSON) v = decodeJson(buf.subarray(start, start + len));
      else if (col.type === T.GEOMETRY || col.type === T.VECTOR)
        v = Buffer.from(buf.subarray(start, start + len));
      else v = text(buf, start, start + len, col);
      valueWidth = meta + len;
      return v;
    }
    case T.NULL:
      valueWidth = 0;
      return null;
    default:
      throw new RangeError(`unsupported column type ${col.type}`);
  }
}

/** Types stored as a length of `meta` bytes, then the bytes. */
const LENGTH_PREFIXED = new Set<number>([
  T.BLOB,
  T.TINY_BLOB,
  T.MEDIUM_BLOB,
  T.LONG_BLOB,
  T.GEOMETRY,
  T.JSON,
  T.VECTOR,
]);

/** The width of a value in a row image, without decoding strings and blobs. */
export function valueSize(buf: Buffer, off: number, end: number, col: ColumnInfo): number {
  let n: number;
  if (col.type === T.VARCHAR || col.type === T.VAR_STRING || col.type === T.STRING) {
    const lenBytes = col.meta > 255 ? 2 : 1;
    if (off + lenBytes > end) truncated(col);
    n = lenBytes + (lenBytes === 1 ? buf[off] : buf.readUInt16LE(off));
  } else if (LENGTH_PREFIXED.has(col.type)) {
    if (off + col.meta > end) truncated(col);
    n = col.meta + buf.readUIntLE(off, col.meta);
  } else {
    decodeValue(buf, off, end, col);
    return valueWidth;
  }
  if (off + n > end) truncated(col);
  return n;
}

function truncated(col: ColumnInfo): never {
  throw new RangeError(`truncated value of column ${col.name ?? ''} (type ${col.type})`);
}

// Buffer's own utf8Slice skips toString's argument checks: measurably faster on the hot path.
const utf8Slice = (Buffer.prototype as unknown as { utf8Slice: (s: number, e: number) => string }).utf8Slice;

function text(buf: Buffer, start: number, end: number, col: ColumnInfo): Value {
  if (col.charset !== undefined && isStringCharset(col.charset)) return utf8Slice.call(buf, start, end);
  return Buffer.from(buf.subarray(start, end));
}

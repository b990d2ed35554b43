// MySQL's binary JSON format (JSON columns in MySQL 5.7+ binlogs) → JSON text as MySQL prints it
// (`{"a": 1, "b": [true, null]}`). MariaDB stores JSON as text and never uses this.
import { decodeDecimal, pad } from './decimal.js';

const SMALL_OBJECT = 0x00;
const LARGE_OBJECT = 0x01;
const SMALL_ARRAY = 0x02;
const LARGE_ARRAY = 0x03;
const LITERAL = 0x04;
const INT16 = 0x05;
const UINT16 = 0x06;
const INT32 = 0x07;
const UINT32 = 0x08;
const INT64 = 0x09;
const UINT64 = 0x0a;
const DOUBLE = 0x0b;
const STRING = 0x0c;
const OPAQUE = 0x0f;

// Column types that appear inside OPAQUE values.
const MYSQL_TYPE_NEWDECIMAL = 246;
const MYSQL_TYPE_DATE = 10;
const MYSQL_TYPE_TIME = 11;
const MYSQL_TYPE_DATETIME = 12;
const MYSQL_TYPE_TIMESTAMP = 7;

export function decodeJson(buf: Buffer): string {
  if (buf.length === 0) return 'null'; // MySQL writes an empty value for JSON null in some paths
  return value(buf, buf[0], 1, buf.length);
}

function check(buf: Buffer, off: number, n: number, end: number): void {
  if (off + n > end || off + n > buf.length) throw new RangeError('truncated JSON value');
}

function varLength(buf: Buffer, off: number, end: number): [len: number, bytes: number] {
  let len = 0;
  for (let i = 0; i < 5; i++) {
    check(buf, off + i, 1, end);
    const b = buf[off + i];
    len += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return [len, i + 1];
  }
  throw new RangeError('bad JSON string length');
}

function quote(s: string): string {
  return JSON.stringify(s);
}

function formatDouble(d: number): string {
  if (Number.isInteger(d) && Math.abs(d) < 1e15) return `${d}.0`;
  return String(d).replace('e+', 'e');
}

/** Decodes the value of type `type` whose data starts at `off` (within a container ending at `end`). */
function value(buf: Buffer, type: number, off: number, end: number): string {
  switch (type) {
    case SMALL_OBJECT:
    case LARGE_OBJECT:
      return container(buf, off, end, type === LARGE_OBJECT, true);
    case SMALL_ARRAY:
    case LARGE_ARRAY:
      return container(buf, off, end, type === LARGE_ARRAY, false);
    case LITERAL:
      check(buf, off, 1, end);
      return literal(buf[off]);
    case INT16:
      check(buf, off, 2, end);
      return String(buf.readInt16LE(off));
    case UINT16:
      check(buf, off, 2, end);
      return String(buf.readUInt16LE(off));
    case INT32:
      check(buf, off, 4, end);
      return String(buf.readInt32LE(off));
    case UINT32:
      check(buf, off, 4, end);
      return String(buf.readUInt32LE(off));
    case INT64:
      check(buf, off, 8, end);
      return String(buf.readBigInt64LE(off));
    case UINT64:
      check(buf, off, 8, end);
      return String(buf.readBigUInt64LE(off));
    case DOUBLE:
      check(buf, off, 8, end);
      return formatDouble(buf.readDoubleLE(off));
    case STRING: {
      const [len, n] = varLength(buf, off, end);
      check(buf, off + n, len, end);
      return quote(buf.toString('utf8', off + n, off + n + len));
    }
    case OPAQUE:
      return opaque(buf, off, end);
    default:
      throw new RangeError(`unknown JSON value type 0x${type.toString(16)}`);
  }
}

function literal(b: number): string {
  if (b === 0) return 'null';
  if (b === 1) return 'true';
  if (b === 2) return 'false';
  throw new RangeError(`bad JSON literal ${b}`);
}

function container(buf: Buffer, start: number, end: number, large: boolean, isObject: boolean): string {
  const w = large ? 4 : 2;
  check(buf, start, 2 * w, end);
  const count = large ? buf.readUInt32LE(start) : buf.readUInt16LE(start);
  const size = large ? buf.readUInt32LE(start + w) : buf.readUInt16LE(start + w);
  const cend = start + size;
  if (cend > end) throw new RangeError('JSON container larger than its value');
  let p = start + 2 * w;
  const keys: string[] = [];
  if (isObject) {
    for (let i = 0; i < count; i++) {
      check(buf, p, w + 2, cend);
      const koff = large ? buf.readUInt32LE(p) : buf.readUInt16LE(p);
      const klen = buf.readUInt16LE(p + w);
      check(buf, start + koff, klen, cend);
      keys.push(buf.toString('utf8', start + koff, start + koff + klen));
      p += w + 2;
    }
  }
  const items: string[] = [];
  for (let i = 0; i < count; i++) {
    check(buf, p, 1 + w, cend);
    const t = buf[p];
    const inlined = t === LITERAL || t === INT16 || t === UINT16 || (large && (t === INT32 || t === UINT32));
    let v: string;
    if (inlined) v = value(buf, t, p + 1, cend);
    else {
      const voff = large ? buf.readUInt32LE(p + 1) : buf.readUInt16LE(p + 1);
      v = value(buf, t, start + voff, cend);
    }
    items.push(isObject ? `${quote(keys[i])}: ${v}` : v);
    p += 1 + w;
  }
  return isObject ? `{${items.join(', ')}}` : `[${items.join(', ')}]`;
}

function opaque(buf: Buffer, off: number, end: number): string {
  check(buf, off, 1, end);
  const ftype = buf[off];
  const [len, n] = varLength(buf, off + 1, end);
  const data = off + 1 + n;
  check(buf, data, len, end);
  switch (ftype) {
    case MYSQL_TYPE_NEWDECIMAL: {
      const precision = buf[data];
      const scale = buf[data + 1];
      return decodeDecimal(buf, data + 2, precision, scale);
    }
    case MYSQL_TYPE_DATE:
    case MYSQL_TYPE_TIME:
    case MYSQL_TYPE_DATETIME:
    case MYSQL_TYPE_TIMESTAMP: {
      // A packed temporal value: (intpart << 24) | microseconds, as a signed 64-bit integer.
      let packed = buf.readBigInt64LE(data);
      const neg = packed < 0n;
      if (neg) packed = -packed;
      const micro = Number(packed % (1n << 24n));
      const intpart = Number(packed >> 24n);
      const frac = micro ? '.' + pad(micro, 6) : '';
      if (ftype === MYSQL_TYPE_TIME) {
        const hour = Math.floor(intpart / 4096) % 1024;
        const minute = Math.floor(intpart / 64) % 64;
        const second = intpart % 64;
        return quote(`${neg ? '-' : ''}${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}${frac}`);
      }
      const ymd = Math.floor(intpart / 131072);
      const hms = intpart % 131072;
      const ym = Math.floor(ymd / 32);
      const date = `${pad(Math.floor(ym / 13), 4)}-${pad(ym % 13, 2)}-${pad(ymd % 32, 2)}`;
      if (ftype === MYSQL_TYPE_DATE) return quote(date);
      const time = `${pad(Math.floor(hms / 4096), 2)}:${pad(Math.floor(hms / 64) % 64, 2)}:${pad(hms % 64, 2)}`;
      return quote(`${date} ${time}${frac}`);
    }
    default:
      return quote(`base64:type${ftype}:${buf.toString('base64', data, data + len)}`);
  }
}

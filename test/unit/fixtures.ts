// Builders of binlog event bytes for unit tests: each writes the documented wire format directly,
// independently of the decoder.
import { crc32 } from '../../src/binlog/crc32.js';
import { ColumnType as T, EventType as E } from '../../src/binlog/constants.js';

export function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}
export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}
export function u48(n: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUIntLE(n, 0, 6);
  return b;
}
export function u64(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}
export function lenenc(n: number): Buffer {
  if (n < 0xfb) return Buffer.of(n);
  if (n < 0x10000) return Buffer.concat([Buffer.of(0xfc), u16(n)]);
  return Buffer.concat([Buffer.of(0xfd), u48(n).subarray(0, 3)]);
}
export function lenencStr(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([lenenc(b.length), b]);
}

/** A whole event: header + body (+ CRC32 when `checksum`). */
export function event(
  type: number,
  body: Buffer,
  opts: { checksum?: boolean; logPos?: number; timestamp?: number; serverId?: number; flags?: number } = {},
): Buffer {
  const checksum = opts.checksum ?? true;
  const size = 19 + body.length + (checksum ? 4 : 0);
  const h = Buffer.alloc(19);
  h.writeUInt32LE(opts.timestamp ?? 1700000000, 0);
  h[4] = type;
  h.writeUInt32LE(opts.serverId ?? 1, 5);
  h.writeUInt32LE(size, 9);
  h.writeUInt32LE(opts.logPos ?? 1000 + size, 13);
  h.writeUInt16LE(opts.flags ?? 0, 17);
  const ev = Buffer.concat([h, body]);
  return checksum ? Buffer.concat([ev, u32(crc32(ev))]) : ev;
}

/** FORMAT_DESCRIPTION of a checksum-aware server. */
export function fde(version = '10.11.19-MariaDB-log', checksum = true): Buffer {
  const v = Buffer.alloc(50);
  v.write(version, 'latin1');
  const post = Buffer.alloc(40 - 1 + 124, 0); // plenty of post-header lengths
  post[E.QUERY - 1] = 13;
  post[E.TABLE_MAP - 1] = 8;
  post[E.WRITE_ROWS_V1 - 1] = 8;
  post[E.UPDATE_ROWS_V1 - 1] = 8;
  post[E.DELETE_ROWS_V1 - 1] = 8;
  post[E.WRITE_ROWS - 1] = 10;
  post[E.UPDATE_ROWS - 1] = 10;
  post[E.DELETE_ROWS - 1] = 10;
  const body = Buffer.concat([u16(4), v, u32(0), Buffer.of(19), post, Buffer.of(checksum ? 1 : 0)]);
  if (checksum) return event(E.FORMAT_DESCRIPTION, body, { logPos: 4 + 19 + body.length + 4 });
  // A checksum-aware server with checksum OFF still reserves 4 (zero) checksum bytes.
  return event(E.FORMAT_DESCRIPTION, Buffer.concat([body, u32(0)]), { checksum: false });
}

export interface ColSpec {
  type: number;
  meta?: Buffer; // bytes as written in the table map
  nullable?: boolean;
}

/** TABLE_MAP with optional-metadata TLVs. */
export function tableMap(
  tableId: number,
  db: string,
  table: string,
  cols: ColSpec[],
  optional: Buffer[] = [],
): Buffer {
  const meta = Buffer.concat(cols.map((c) => c.meta ?? Buffer.alloc(0)));
  const nulls = Buffer.alloc((cols.length + 7) >> 3);
  cols.forEach((c, i) => {
    if (c.nullable ?? true) nulls[i >> 3] |= 1 << (i & 7);
  });
  const body = Buffer.concat([
    u48(tableId),
    u16(1),
    Buffer.of(db.length),
    Buffer.from(db + '\0'),
    Buffer.of(table.length),
    Buffer.from(table + '\0'),
    lenenc(cols.length),
    Buffer.from(cols.map((c) => c.type)),
    lenenc(meta.length),
    meta,
    nulls,
    ...optional,
  ]);
  return event(E.TABLE_MAP, body);
}

export function tlv(type: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.of(type), lenenc(value.length), value]);
}

/** A row image: null bitmap over all columns, then the given value bytes (undefined = NULL). */
export function image(values: (Buffer | null)[]): Buffer {
  const nulls = Buffer.alloc((values.length + 7) >> 3);
  values.forEach((v, i) => {
    if (v === null) nulls[i >> 3] |= 1 << (i & 7);
  });
  return Buffer.concat([nulls, ...values.filter((v): v is Buffer => v !== null)]);
}

export function rowsEvent(
  type: number,
  tableId: number,
  ncols: number,
  rows: Buffer[],
  opts: { v2?: boolean; present?: Buffer; present2?: Buffer } = {},
): Buffer {
  const all = Buffer.alloc((ncols + 7) >> 3, 0xff);
  const isUpdate = type === E.UPDATE_ROWS || type === E.UPDATE_ROWS_V1;
  const v2 = type === E.WRITE_ROWS || type === E.UPDATE_ROWS || type === E.DELETE_ROWS;
  const body = Buffer.concat([
    u48(tableId),
    u16(1),
    v2 ? u16(2) : Buffer.alloc(0),
    lenenc(ncols),
    opts.present ?? all,
    isUpdate ? (opts.present2 ?? all) : Buffer.alloc(0),
    ...rows,
  ]);
  return event(type, body);
}

export { T, E };

// The binlog event decoder: bytes in, typed events out. Pure (no I/O); it keeps only the state the
// format needs between events: the FORMAT_DESCRIPTION (checksum, post-header lengths), the table
// maps by table id, and the current file name (for error positions).
import { BinlogDecodeError } from '../errors.js';
import {
  ChecksumAlg,
  ColumnType as T,
  EVENT_HEADER_LEN,
  EventType as E,
  LOG_EVENT_ARTIFICIAL_F,
  MariadbGtidFlags,
} from './constants.js';
import { crc32, crcIntact } from './crc32.js';
import { Cursor } from './cursor.js';
import type {
  BinlogEvent,
  ColumnInfo,
  EventHeader,
  FormatDescriptionEvent,
  Row,
  RowsEvent,
  TableMapEvent,
  Value,
} from './events.js';
import { formatUuid, MysqlGtidSet, type MariadbGtid } from './gtid.js';
import { decodeValue, resolveColumnType, valueSize, valueWidth } from './values.js';

export interface DecoderOptions {
  /** Checksum algorithm in force before the first FORMAT_DESCRIPTION arrives (the replica
   * connection knows it from @@global.binlog_checksum). Default: detect from the FDE. */
  checksum?: 'CRC32' | 'NONE';
  /** Verify CRC32 checksums (default true). */
  verifyChecksum?: boolean;
  /** Binlog file the first event belongs to (for error messages before a ROTATE). */
  file?: string;
  /** Leave row images undecoded (`rows: []`): for a consumer of table maps only (which tables
   * changed). */
  skipRows?: boolean;
  /** Decode only what tells where transactions and files begin and end: table maps, row events
   * and row annotations come back as `{ kind: 'other' }` (the relay, which writes the bytes). */
  framesOnly?: boolean;
  /** What a consumer needs of a table's rows (asked again until it answers). */
  rowColumns?: RowColumnsOf;
  /** Leave row annotations' statements undecoded (`{ kind: 'other' }`): Sync, which does not use
   * them (the relay keeps them in its files; a quarter of a sysbench binlog's events). */
  skipAnnotations?: boolean;
}

/** What to decode of a table's row images. */
export interface RowColumns {
  /** None of its rows (`rows: []`): a table the consumer filters out. */
  skip?: boolean;
  /** The columns of before images to decode (the key, say); the others are left undefined, as
   * binlog_row_image=MINIMAL leaves them. */
  before?: boolean[];
}

export type RowColumnsOf = (table: TableMapEvent) => RowColumns | undefined;

/** The events of a transaction's rows: a table map, a row event, a row annotation. */
const ROW_PARTS = new Set<number>([
  E.TABLE_MAP,
  E.WRITE_ROWS_V1,
  E.WRITE_ROWS,
  E.UPDATE_ROWS_V1,
  E.UPDATE_ROWS,
  E.DELETE_ROWS_V1,
  E.DELETE_ROWS,
  E.MARIADB_ANNOTATE_ROWS,
  E.ROWS_QUERY,
]);

const FDE_FIXED = 2 + 50 + 4 + 1; // binlog_version, server_version, create_timestamp, header_length

export class BinlogDecoder {
  private checksumAlg: number;
  private readonly verify: boolean;
  private postHeader: Buffer = Buffer.alloc(0);
  /** The binlog comes from MariaDB (known from the FORMAT_DESCRIPTION's server version). */
  mariadb = false;
  private readonly tables = new Map<number, TableMapEvent>();
  /** Binlog file of the events being decoded (updated by ROTATE). */
  file: string;
  private readonly skipRows: boolean;
  private readonly framesOnly: boolean;
  private readonly skipAnnotations: boolean;
  private readonly rowColumns?: RowColumnsOf;
  /** Per table map (its columns array, shared by the maps repeating its bytes). */
  private readonly plans = new WeakMap<ColumnInfo[], RowColumns>();

  constructor(opts: DecoderOptions = {}) {
    this.checksumAlg =
      opts.checksum === 'CRC32'
        ? ChecksumAlg.CRC32
        : opts.checksum === 'NONE'
          ? ChecksumAlg.OFF
          : ChecksumAlg.UNDEF;
    this.verify = opts.verifyChecksum ?? true;
    this.file = opts.file ?? '';
    this.skipRows = opts.skipRows ?? false;
    this.framesOnly = opts.framesOnly ?? false;
    this.skipAnnotations = opts.skipAnnotations ?? false;
    this.rowColumns = opts.rowColumns;
  }

  private plan(table: TableMapEvent): RowColumns | undefined {
    if (!this.rowColumns) return undefined;
    let p = this.plans.get(table.columns);
    if (!p) {
      p = this.rowColumns(table);
      if (p) this.plans.set(table.columns, p);
    }
    return p;
  }

  /** The table map for `tableId`, if one was seen. */
  table(tableId: number): TableMapEvent | undefined {
    return this.tables.get(tableId);
  }

  /** framesOnly: whether buf[start, end) is a table map, row event or annotation that is whole
   * and intact (its size as its header says, its checksum verified): one that needs no decoding.
   * (Otherwise decode() says what is wrong.) */
  rowPart(buf: Buffer, start: number, end: number): boolean {
    if (!this.framesOnly || end - start < EVENT_HEADER_LEN || !ROW_PARTS.has(buf[start + 4])) return false;
    if (buf.readUInt32LE(start + 9) !== end - start) return false;
    if (this.checksumAlg === ChecksumAlg.CRC32 && this.verify) return crcIntact(buf, start, end);
    return this.checksumAlg === ChecksumAlg.OFF || !this.verify;
  }

  /** Decodes the event occupying buf[start, end). Throws BinlogDecodeError on malformed input. */
  decode(buf: Buffer, start = 0, end = buf.length): BinlogEvent {
    if (end - start < EVENT_HEADER_LEN) {
      throw new BinlogDecodeError(`truncated event: ${end - start} bytes, header needs 19`, this.file, 0);
    }
    const header: EventHeader = {
      timestamp: buf.readUInt32LE(start),
      typeCode: buf[start + 4],
      serverId: buf.readUInt32LE(start + 5),
      eventSize: buf.readUInt32LE(start + 9),
      logPos: buf.readUInt32LE(start + 13),
      flags: buf.readUInt16LE(start + 17),
    };
    const at = header.logPos > 0 ? header.logPos - header.eventSize : 0;
    if (header.eventSize !== end - start) {
      throw new BinlogDecodeError(
        `event size ${header.eventSize} in header but ${end - start} bytes received (truncated or corrupt)`,
        this.file,
        at,
        header.typeCode,
      );
    }
    let bodyEnd = end;
    let alg = this.checksumAlg;
    if (header.typeCode === E.FORMAT_DESCRIPTION) {
      // A checksum-aware server's FDE always ends with [algorithm byte][4 checksum bytes], even
      // when the algorithm is OFF; older servers write neither.
      alg = fdeChecksumAlg(buf, start, end);
      if (alg !== ChecksumAlg.UNDEF) bodyEnd = end - 4;
    } else if (alg === ChecksumAlg.CRC32) bodyEnd = end - 4;
    // (a FORMAT_DESCRIPTION's checksum may need a flag cleared first: eventCrc)
    if (
      alg === ChecksumAlg.CRC32 &&
      this.verify &&
      (header.typeCode === E.FORMAT_DESCRIPTION || !crcIntact(buf, start, end))
    ) {
      const expected = buf.readUInt32LE(end - 4);
      const actual = eventCrc(buf, start, end - 4, header);
      if (expected !== actual) {
        throw new BinlogDecodeError(
          `checksum mismatch: event says ${hex(expected)}, bytes give ${hex(actual)}`,
          this.file,
          at,
          header.typeCode,
        );
      }
    }
    if (this.bare(header.typeCode)) return { kind: 'other', header };
    const c = new Cursor(buf, start + EVENT_HEADER_LEN, bodyEnd);
    try {
      return this.body(header, c, alg);
    } catch (e) {
      if (e instanceof BinlogDecodeError) throw e;
      throw new BinlogDecodeError((e as Error).message, this.file, at, header.typeCode);
    }
  }

  /** Whether an event of this type is left undecoded (framesOnly, skipAnnotations). */
  private bare(type: number): boolean {
    if (this.framesOnly) return ROW_PARTS.has(type);
    return this.skipAnnotations && (type === E.MARIADB_ANNOTATE_ROWS || type === E.ROWS_QUERY);
  }

  private postHeaderLen(type: number, dflt: number): number {
    const v = this.postHeader[type - 1];
    return v === undefined ? dflt : v;
  }

  private body(header: EventHeader, c: Cursor, alg: number): BinlogEvent {
    switch (header.typeCode) {
      case E.FORMAT_DESCRIPTION:
        return this.formatDescription(header, c, alg);
      case E.ROTATE: {
        const position = c.u64n();
        const nextFile = c.rest().toString('utf8');
        const artificial = header.logPos === 0 || (header.flags & LOG_EVENT_ARTIFICIAL_F) !== 0;
        this.file = nextFile;
        return { kind: 'rotate', header, position, nextFile, artificial };
      }
      case E.QUERY:
      case E.MARIADB_QUERY_COMPRESSED:
        if (header.typeCode === E.MARIADB_QUERY_COMPRESSED) throw compressed();
        return this.query(header, c);
      case E.XID:
        return { kind: 'xid', header, xid: c.u64() };
      case E.GTID:
      case E.ANONYMOUS_GTID: {
        const commitFlag = c.u8();
        const uuid = formatUuid(c.bytes(16));
        const gno = Number(c.u64());
        let lastCommitted: number | undefined;
        let sequenceNumber: number | undefined;
        if (c.remaining >= 17 && c.u8() === 2) {
          lastCommitted = Number(c.u64());
          sequenceNumber = Number(c.u64());
        }
        return {
          kind: 'gtid',
          header,
          anonymous: header.typeCode === E.ANONYMOUS_GTID,
          commitFlag,
          uuid,
          gno,
          lastCommitted,
          sequenceNumber,
        };
      }
      case E.PREVIOUS_GTIDS: {
        const set = new MysqlGtidSet();
        const n = c.u64n();
        for (let i = 0; i < n; i++) {
          const uuid = formatUuid(c.bytes(16));
          const k = c.u64n();
          const list: [number, number][] = [];
          for (let j = 0; j < k; j++) {
            const a = Number(c.u64());
            const b = Number(c.u64()) - 1;
            list.push([a, b]);
          }
          if (list.length) set.sets.set(uuid, list);
        }
        return { kind: 'previous_gtids', header, gtidSet: set };
      }
      case E.MARIADB_GTID: {
        const seq = c.u64n();
        const domain = c.u32();
        const flags = c.u8();
        let commitId: bigint | undefined;
        if (flags & MariadbGtidFlags.GROUP_COMMIT_ID) commitId = c.u64();
        return {
          kind: 'mariadb_gtid',
          header,
          gtid: { domain, server: header.serverId, seq },
          flags,
          commitId,
          standalone: (flags & MariadbGtidFlags.STANDALONE) !== 0,
        };
      }
      case E.MARIADB_GTID_LIST: {
        const n = c.u32() & 0x0fffffff;
        const gtids: MariadbGtid[] = [];
        for (let i = 0; i < n; i++) {
          const domain = c.u32();
          const server = c.u32();
          gtids.push({ domain, server, seq: c.u64n() });
        }
        return { kind: 'gtid_list', header, gtids };
      }
      case E.MARIADB_BINLOG_CHECKPOINT: {
        const len = c.u32();
        return { kind: 'binlog_checkpoint', header, file: c.str(len) };
      }
      case E.MARIADB_ANNOTATE_ROWS:
      case E.ROWS_QUERY:
        if (header.typeCode === E.ROWS_QUERY) c.skip(1); // a length byte, possibly truncated: use the rest
        return { kind: 'rows_query', header, query: c.rest().toString('utf8') };
      case E.TABLE_MAP:
        return this.tableMap(header, c);
      case E.WRITE_ROWS_V1:
      case E.WRITE_ROWS:
        return this.rows(header, c, 'insert', header.typeCode === E.WRITE_ROWS);
      case E.UPDATE_ROWS_V1:
      case E.UPDATE_ROWS:
        return this.rows(header, c, 'update', header.typeCode === E.UPDATE_ROWS);
      case E.DELETE_ROWS_V1:
      case E.DELETE_ROWS:
        return this.rows(header, c, 'delete', header.typeCode === E.DELETE_ROWS);
      case E.HEARTBEAT:
        return { kind: 'heartbeat', header, file: c.rest().toString('utf8') };
      case E.HEARTBEAT_V2:
        return { kind: 'heartbeat', header, file: this.file };
      case E.STOP:
        return { kind: 'stop', header };
      case E.MARIADB_WRITE_ROWS_COMPRESSED_V1:
      case E.MARIADB_UPDATE_ROWS_COMPRESSED_V1:
      case E.MARIADB_DELETE_ROWS_COMPRESSED_V1:
      case E.MARIADB_WRITE_ROWS_COMPRESSED:
      case E.MARIADB_UPDATE_ROWS_COMPRESSED:
      case E.MARIADB_DELETE_ROWS_COMPRESSED:
        throw compressed();
      case E.PARTIAL_UPDATE_ROWS:
        throw new Error(
          "partial JSON updates (PARTIAL_UPDATE_ROWS) are not supported: set binlog_row_value_options='' on the upstream",
        );
      case E.TRANSACTION_PAYLOAD:
        throw new Error(
          'compressed transaction payloads are not supported: set binlog_transaction_compression=OFF on the upstream',
        );
      case E.MARIADB_START_ENCRYPTION:
        throw new Error(
          'encrypted binlog: the server sent a START_ENCRYPTION event to a replica; this is not supported',
        );
      default:
        return { kind: 'other', header };
    }
  }

  private formatDescription(header: EventHeader, c: Cursor, alg: number): FormatDescriptionEvent {
    const binlogVersion = c.u16();
    const serverVersion = c.str(50, 'latin1').replace(/\0.*$/s, '');
    const createTimestamp = c.u32();
    const headerLength = c.u8();
    if (headerLength !== EVENT_HEADER_LEN) throw new Error(`unsupported event header length ${headerLength}`);
    // Post-header lengths run to the end, less the checksum algorithm byte when there is one.
    const hasAlg = alg !== ChecksumAlg.UNDEF;
    const n = c.remaining - (hasAlg ? 1 : 0);
    const postHeaderLengths = Buffer.from(c.bytes(n));
    const checksumAlg = hasAlg ? c.u8() : ChecksumAlg.OFF;
    if (checksumAlg !== ChecksumAlg.OFF && checksumAlg !== ChecksumAlg.CRC32) {
      throw new Error(`unknown binlog checksum algorithm ${checksumAlg}`);
    }
    this.checksumAlg = checksumAlg;
    this.postHeader = postHeaderLengths;
    this.mariadb = /mariadb/i.test(serverVersion);
    return {
      kind: 'format_description',
      header,
      binlogVersion,
      serverVersion,
      createTimestamp,
      headerLength,
      postHeaderLengths,
      checksumAlg,
    };
  }

  private query(header: EventHeader, c: Cursor): BinlogEvent {
    const threadId = c.u32();
    const execTime = c.u32();
    const schemaLen = c.u8();
    const errorCode = c.u16();
    const postLen = this.postHeaderLen(E.QUERY, 13);
    const statusLen = postLen >= 13 ? c.u16() : 0;
    if (postLen > 13) c.skip(postLen - 13);
    const statusVars = c.bytes(statusLen);
    const schema = c.str(schemaLen);
    c.skip(1); // NUL
    const query = c.rest().toString('utf8');
    return { kind: 'query', header, threadId, execTime, errorCode, schema, query, statusVars };
  }

  private tableId(c: Cursor, type: number): number {
    return this.postHeaderLen(type, 8) === 6 ? c.u32() : c.u48();
  }

  /** The last table map of each table id with its body bytes: a server writes the same map
   * before every statement on the table, and reusing the parsed columns saves their decoding
   * and their garbage. */
  private readonly mapBytes = new Map<number, { body: Buffer; ev: TableMapEvent }>();

  private tableMap(header: EventHeader, c: Cursor): TableMapEvent {
    const body = c.buf.subarray(c.off, c.end);
    const start = c.off;
    const tableId = this.tableId(c, E.TABLE_MAP);
    const known = this.mapBytes.get(tableId);
    if (known && known.body.equals(body)) {
      const ev = { ...known.ev, header };
      this.tables.set(tableId, ev);
      return ev;
    }
    c.off = start;
    const ev = this.parseTableMap(header, c);
    if (this.mapBytes.size > 10_000) this.mapBytes.clear();
    this.mapBytes.set(tableId, { body: Buffer.from(body), ev });
    return ev;
  }

  private parseTableMap(header: EventHeader, c: Cursor): TableMapEvent {
    const tableId = this.tableId(c, E.TABLE_MAP);
    const flags = c.u16();
    const schema = c.str(c.u8());
    c.skip(1);
    const table = c.str(c.u8());
    c.skip(1);
    const count = c.lenenc();
    const types = c.bytes(count);
    const metaLen = c.lenenc();
    const metaEnd = c.off + metaLen;
    const columns: ColumnInfo[] = [];
    for (let i = 0; i < count; i++) {
      const mapType = types[i];
      let meta = 0;
      switch (mapType) {
        case T.FLOAT:
        case T.DOUBLE:
        case T.BLOB:
        case T.TINY_BLOB:
        case T.MEDIUM_BLOB:
        case T.LONG_BLOB:
        case T.GEOMETRY:
        case T.JSON:
        case T.TIME2:
        case T.DATETIME2:
        case T.TIMESTAMP2:
        case T.VECTOR:
          meta = c.u8();
          break;
        case T.VARCHAR:
        case T.VAR_STRING:
        case T.BIT:
          meta = c.u16();
          break;
        case T.NEWDECIMAL:
        case T.STRING:
        case T.ENUM:
        case T.SET: {
          const b0 = c.u8();
          meta = (b0 << 8) | c.u8();
          break;
        }
        default:
          meta = 0;
      }
      const real = resolveColumnType(mapType, meta);
      columns.push({ type: real.type, mapType, meta: real.meta, nullable: false, unsigned: false });
    }
    if (c.off !== metaEnd)
      throw new Error(`column metadata length ${metaLen} does not match the column types`);
    const nullBits = c.bytes((count + 7) >> 3);
    for (let i = 0; i < count; i++) columns[i].nullable = (nullBits[i >> 3] & (1 << (i & 7))) !== 0;
    const ev: TableMapEvent = { kind: 'table_map', header, tableId, flags, schema, table, columns };
    if (c.remaining > 0) readOptionalMetadata(c, ev, this.mariadb);
    this.tables.set(tableId, ev);
    return ev;
  }

  private rows(header: EventHeader, c: Cursor, action: RowsEvent['action'], v2: boolean): RowsEvent {
    const tableId = this.tableId(c, header.typeCode);
    const flags = c.u16();
    if (v2) {
      const extraLen = c.u16();
      c.skip(extraLen - 2);
    }
    const table = this.tables.get(tableId);
    if (!table) throw new Error(`rows event for table id ${tableId} without a preceding TABLE_MAP`);
    const count = c.lenenc();
    if (count !== table.columns.length) {
      throw new Error(
        `rows event has ${count} columns but table map of ${table.schema}.${table.table} has ${table.columns.length}`,
      );
    }
    const present1 = c.bytes((count + 7) >> 3);
    const present2 = action === 'update' ? c.bytes((count + 7) >> 3) : present1;
    const rows: Row[] = [];
    const plan = this.plan(table);
    if (this.skipRows || plan?.skip) return { kind: 'rows', header, action, tableId, flags, table, rows };
    const want = plan?.before;
    const buf = c.buf;
    let off = c.off;
    const end = c.end;
    while (off < end) {
      if (action === 'insert') {
        const [after, n] = readImage(buf, off, end, table.columns, present1);
        rows.push({ after });
        off = n;
      } else if (action === 'delete') {
        const [before, n] = readImage(buf, off, end, table.columns, present1, want);
        rows.push({ before });
        off = n;
      } else {
        const [before, n] = readImage(buf, off, end, table.columns, present1, want);
        const [after, m] = readImage(buf, n, end, table.columns, present2, undefined, want);
        rows.push(want && same ? { before, after, unchanged: same } : { before, after });
        off = m;
      }
      // An image of no bytes (no column present) would repeat for ever: no server writes one.
      if (rows.length === 1 && off === c.off)
        throw new Error('rows event whose row image has no bytes (no column is present)');
    }
    return { kind: 'rows', header, action, tableId, flags, table, rows };
  }
}

/** Raw extents of the values a before image left undecoded, by column: start, length (-1: not
 * recorded, -2: NULL). Reused by every row. */
let skipped = new Int32Array(64);
/** Set by readImage when comparing: the unchanged-columns bitmap of the image just read. */
let same = 0;

/** Reads one row image; returns the values and the offset after it. With `want` (a before image),
 * only those columns are decoded, the others are undefined and their extents recorded. With
 * `compare` (an after image: the before image's `want`), each column the before image left
 * undecoded is compared with it byte for byte: `same` gets a bit for each equal one (< 31). */
function readImage(
  buf: Buffer,
  start: number,
  end: number,
  columns: ColumnInfo[],
  present: Buffer,
  want?: boolean[],
  compare?: boolean[],
): [(Value | undefined)[], number] {
  const n = columns.length;
  let presentCount = 0;
  for (let i = 0; i < n; i++) if (present[i >> 3] & (1 << (i & 7))) presentCount++;
  const nullLen = (presentCount + 7) >> 3;
  if (start + nullLen > end) throw new RangeError('truncated row image (null bitmap)');
  let off = start + nullLen;
  const values: (Value | undefined)[] = new Array(n);
  if (want && skipped.length < 2 * n) skipped = new Int32Array(4 * n);
  same = 0;
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (!(present[i >> 3] & (1 << (i & 7)))) {
      values[i] = undefined;
      if (want) skipped[2 * i] = -1;
      continue;
    }
    const isNull = buf[start + (k >> 3)] & (1 << (k & 7));
    k++;
    if (want && !want[i]) {
      values[i] = undefined;
      if (isNull) skipped[2 * i] = -2;
      else {
        const w = valueSize(buf, off, end, columns[i]);
        skipped[2 * i] = off;
        skipped[2 * i + 1] = w;
        off += w;
      }
      continue;
    }
    const was = compare && !compare[i] && i < 31 ? skipped[2 * i] : -1;
    if (isNull) {
      values[i] = null;
      if (was === -2) same |= 1 << i;
      continue;
    }
    values[i] = decodeValue(buf, off, end, columns[i]);
    if (
      was >= 0 &&
      skipped[2 * i + 1] === valueWidth &&
      buf.compare(buf, was, was + valueWidth, off, off + valueWidth) === 0
    )
      same |= 1 << i;
    off += valueWidth;
  }
  return [values, off];
}

// Optional table-map metadata (binlog_row_metadata=FULL / MINIMAL).
const META_SIGNEDNESS = 1;
const META_DEFAULT_CHARSET = 2;
const META_COLUMN_CHARSET = 3;
const META_COLUMN_NAME = 4;
const META_SET_STR_VALUE = 5;
const META_ENUM_STR_VALUE = 6;
const META_GEOMETRY_TYPE = 7;
const META_SIMPLE_PRIMARY_KEY = 8;
const META_PRIMARY_KEY_WITH_PREFIX = 9;
const META_ENUM_AND_SET_DEFAULT_CHARSET = 10;
const META_ENUM_AND_SET_COLUMN_CHARSET = 11;

/** Columns the signedness bitmap covers; MariaDB includes YEAR (a tiny int there), MySQL does not. */
function isNumeric(t: number, mariadb: boolean): boolean {
  return (
    (mariadb && t === T.YEAR) ||
    t === T.TINY ||
    t === T.SHORT ||
    t === T.INT24 ||
    t === T.LONG ||
    t === T.LONGLONG ||
    t === T.FLOAT ||
    t === T.DOUBLE ||
    t === T.NEWDECIMAL ||
    t === T.DECIMAL
  );
}

function isCharacter(col: ColumnInfo): boolean {
  const t = col.type;
  return (
    t === T.STRING ||
    t === T.VAR_STRING ||
    t === T.VARCHAR ||
    t === T.BLOB ||
    t === T.TINY_BLOB ||
    t === T.MEDIUM_BLOB ||
    t === T.LONG_BLOB
  );
}

function isEnumOrSet(col: ColumnInfo): boolean {
  return col.type === T.ENUM || col.type === T.SET;
}

function readOptionalMetadata(c: Cursor, ev: TableMapEvent, mariadb: boolean): void {
  const cols = ev.columns;
  const charCols = cols.filter(isCharacter);
  const enumSetCols = cols.filter(isEnumOrSet);
  while (c.remaining > 0) {
    const type = c.u8();
    const len = c.lenenc();
    const end = c.off + len;
    const f = new Cursor(c.buf, c.off, end);
    c.skip(len);
    switch (type) {
      case META_SIGNEDNESS: {
        ev.signedness = true;
        let k = 0;
        for (const col of cols) {
          if (!isNumeric(col.type, mariadb)) continue;
          col.unsigned = (f.buf[f.off + (k >> 3)] & (0x80 >> (k & 7))) !== 0;
          k++;
        }
        break;
      }
      case META_DEFAULT_CHARSET:
      case META_ENUM_AND_SET_DEFAULT_CHARSET: {
        const target = type === META_DEFAULT_CHARSET ? charCols : enumSetCols;
        const dflt = f.lenenc();
        for (const col of target) col.charset = dflt;
        while (f.remaining > 0) {
          const idx = f.lenenc();
          const cs = f.lenenc();
          if (target[idx]) target[idx].charset = cs;
        }
        break;
      }
      case META_COLUMN_CHARSET:
      case META_ENUM_AND_SET_COLUMN_CHARSET: {
        const target = type === META_COLUMN_CHARSET ? charCols : enumSetCols;
        for (const col of target) if (f.remaining > 0) col.charset = f.lenenc();
        break;
      }
      case META_COLUMN_NAME:
        for (const col of cols) if (f.remaining > 0) col.name = f.str(f.lenenc());
        break;
      case META_SET_STR_VALUE:
      case META_ENUM_STR_VALUE: {
        const target = cols.filter((col) => col.type === (type === META_SET_STR_VALUE ? T.SET : T.ENUM));
        for (const col of target) {
          if (f.remaining === 0) break;
          const n = f.lenenc();
          const values: string[] = [];
          for (let i = 0; i < n; i++) values.push(f.str(f.lenenc()));
          if (type === META_SET_STR_VALUE) col.setValues = values;
          else col.enumValues = values;
        }
        break;
      }
      case META_GEOMETRY_TYPE:
        for (const col of cols) if (col.type === T.GEOMETRY && f.remaining > 0) col.geometryType = f.lenenc();
        break;
      case META_SIMPLE_PRIMARY_KEY: {
        const pk: number[] = [];
        while (f.remaining > 0) pk.push(f.lenenc());
        ev.primaryKey = pk;
        break;
      }
      case META_PRIMARY_KEY_WITH_PREFIX: {
        const pk: number[] = [];
        while (f.remaining > 0) {
          pk.push(f.lenenc());
          f.lenenc(); // prefix length
        }
        ev.primaryKey = pk;
        break;
      }
      default:
        break; // unknown metadata fields are skipped by length
    }
  }
}

/** The checksum algorithm a FORMAT_DESCRIPTION event declares; UNDEF for pre-checksum servers. */
function fdeChecksumAlg(buf: Buffer, start: number, end: number): number {
  const vStart = start + EVENT_HEADER_LEN + 2;
  const version = buf.toString('latin1', vStart, vStart + 50).replace(/\0.*$/s, '');
  if (!versionHasChecksum(version)) return ChecksumAlg.UNDEF;
  if (end - start < EVENT_HEADER_LEN + FDE_FIXED + 5)
    throw new RangeError('truncated FORMAT_DESCRIPTION event');
  return buf[end - 5];
}

/** CRC32 of an event; a FORMAT_DESCRIPTION's checksum is computed with LOG_EVENT_BINLOG_IN_USE_F
 * cleared (the server sets that flag in the file while the file is open). */
function eventCrc(buf: Buffer, start: number, end: number, header: EventHeader): number {
  const flagsOff = start + 17;
  if (header.typeCode !== E.FORMAT_DESCRIPTION || (buf[flagsOff] & 1) === 0) return crc32(buf, start, end);
  let crc = crc32(buf, start, flagsOff);
  crc = crc32(Buffer.of(buf[flagsOff] & ~1), 0, 1, crc);
  return crc32(buf, flagsOff + 1, end, crc);
}

function versionHasChecksum(version: string): boolean {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const v = Number(m[1]) * 10000 + Number(m[2]) * 100 + Number(m[3]);
  if (/mariadb/i.test(version)) return v >= 50300;
  return v >= 50601;
}

function compressed(): Error {
  return new Error(
    'compressed binlog events are not supported: set log_bin_compress=OFF on the upstream MariaDB server',
  );
}

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}

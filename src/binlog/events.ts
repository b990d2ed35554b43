// Typed binlog events: what the decoder returns. Plain data only.
import type { MariadbGtid, MysqlGtidSet } from './gtid.js';

export interface EventHeader {
  timestamp: number;
  typeCode: number;
  serverId: number;
  eventSize: number;
  /** Position just after this event in its binlog file (0 for artificial events). */
  logPos: number;
  flags: number;
}

/** A decoded column value. Integers up to 32 bits and YEAR are numbers; 64-bit integers and SET
 * bitmasks over 8 bytes are bigint; DECIMAL, dates and times are strings; text columns with a known
 * charset are strings; binary, BIT, GEOMETRY and text of unknown charset are Buffers. */
export type Value = null | number | bigint | string | Buffer;

export interface ColumnInfo {
  /** Real column type (STRING is resolved to ENUM/SET/STRING). */
  type: number;
  /** Type as written in the table map (e.g. STRING for ENUM). */
  mapType: number;
  meta: number;
  nullable: boolean;
  unsigned: boolean;
  /** Collation id for character columns when the server sent it (binlog_row_metadata=FULL). */
  charset?: number;
  name?: string;
  enumValues?: string[];
  setValues?: string[];
  geometryType?: number;
}

export interface TableMapEvent {
  kind: 'table_map';
  header: EventHeader;
  tableId: number;
  flags: number;
  schema: string;
  table: string;
  columns: ColumnInfo[];
  /** Column indexes of the primary key, when the server sent them. */
  primaryKey?: number[];
  /** The map carried the integer columns' signedness (binlog_row_metadata MINIMAL or FULL);
   * without it every integer is decoded as signed and the reader must know the schema. */
  signedness?: boolean;
}

export interface Row {
  /** Before image (UPDATE, DELETE). Absent columns (partial image) are undefined. */
  before?: (Value | undefined)[];
  /** After image (INSERT, UPDATE). */
  after?: (Value | undefined)[];
  /** UPDATE with a before image decoded only in part: bit i set when column i (< 31), left
   * undefined in the before image, has the same bytes in both images (it did not change). */
  unchanged?: number;
}

export interface RowsEvent {
  kind: 'rows';
  header: EventHeader;
  action: 'insert' | 'update' | 'delete';
  tableId: number;
  flags: number;
  table: TableMapEvent;
  rows: Row[];
}

export interface FormatDescriptionEvent {
  kind: 'format_description';
  header: EventHeader;
  binlogVersion: number;
  serverVersion: string;
  createTimestamp: number;
  headerLength: number;
  postHeaderLengths: Buffer;
  checksumAlg: number;
}

export interface RotateEvent {
  kind: 'rotate';
  header: EventHeader;
  position: number;
  nextFile: string;
  /** A rotate the server made up (at dump start, or after reconnect), not one in the file. */
  artificial: boolean;
}

export interface QueryEvent {
  kind: 'query';
  header: EventHeader;
  threadId: number;
  execTime: number;
  errorCode: number;
  schema: string;
  query: string;
  statusVars: Buffer;
}

export interface XidEvent {
  kind: 'xid';
  header: EventHeader;
  xid: bigint;
}

/** MySQL GTID (or ANONYMOUS_GTID) event. */
export interface MysqlGtidEvent {
  kind: 'gtid';
  header: EventHeader;
  anonymous: boolean;
  commitFlag: number;
  uuid: string;
  gno: number;
  lastCommitted?: number;
  sequenceNumber?: number;
}

export interface MariadbGtidEvent {
  kind: 'mariadb_gtid';
  header: EventHeader;
  gtid: MariadbGtid;
  flags: number;
  commitId?: bigint;
  /** FL_STANDALONE: the transaction is this one following event, with no COMMIT/XID. */
  standalone: boolean;
}

export interface PreviousGtidsEvent {
  kind: 'previous_gtids';
  header: EventHeader;
  gtidSet: MysqlGtidSet;
}

export interface GtidListEvent {
  kind: 'gtid_list';
  header: EventHeader;
  gtids: MariadbGtid[];
}

export interface BinlogCheckpointEvent {
  kind: 'binlog_checkpoint';
  header: EventHeader;
  file: string;
}

/** MariaDB ANNOTATE_ROWS or MySQL ROWS_QUERY: the SQL statement behind the next rows events. */
export interface RowsQueryEvent {
  kind: 'rows_query';
  header: EventHeader;
  query: string;
}

export interface HeartbeatEvent {
  kind: 'heartbeat';
  header: EventHeader;
  file: string;
}

export interface StopEvent {
  kind: 'stop';
  header: EventHeader;
}

/** An event this decoder does not interpret; safe to skip. */
export interface OtherEvent {
  kind: 'other';
  header: EventHeader;
}

export type BinlogEvent =
  | FormatDescriptionEvent
  | RotateEvent
  | QueryEvent
  | XidEvent
  | MysqlGtidEvent
  | MariadbGtidEvent
  | PreviousGtidsEvent
  | GtidListEvent
  | BinlogCheckpointEvent
  | TableMapEvent
  | RowsEvent
  | RowsQueryEvent
  | HeartbeatEvent
  | StopEvent
  | OtherEvent;

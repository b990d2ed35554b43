// Groups binlog events into upstream transactions: rows between a GTID/BEGIN and the XID/COMMIT,
// or one DDL. Each transaction ends at the position after its last event, which is where a
// restart may resume. Pure.
import type { BinlogEvent, RowsEvent } from '../../binlog/events.js';
import { formatPosition, type BinlogPosition } from '../../binlog/position.js';
import { classifyQuery, type QueryKind } from '../../schema/ddl.js';
import { TxnBoundary } from '../../binlog/boundary.js';

export interface Txn {
  seq: number;
  end: BinlogPosition;
  endText: string;
  gtid?: string;
  /** Upstream commit time (seconds since the epoch). */
  timestamp: number;
  rows: RowsEvent[];
  /** `statusVars`: the Query event's session variables (collation_server for strict collations). */
  ddl?: { schema: string; query: string; info: Extract<QueryKind, { kind: 'ddl' }>; statusVars?: Buffer };
  /** Statement-based DML in it (binlog_format STATEMENT or MIXED), which cannot be applied row by
   * row: Sync refuses it unless the tables it writes are filtered out. */
  statements?: { query: string; table?: { db: string; table: string } }[];
  /** Binlog events the transaction is made of. */
  events: number;
}

export class TxnAssembler {
  private cur?: Txn;
  private seq = 0;
  private readonly boundary = new TxnBoundary();

  constructor(public file: string) {}

  /** Between transactions: no transaction is open. */
  get idle(): boolean {
    return !this.cur;
  }

  /** Row changes held for the open transaction (since it opened or was last spilled), and the
   * bytes of their events. */
  heldRows = 0;
  heldBytes = 0;

  /** The open transaction with the rows held so far, which it gives up (a transaction applied as
   * it is read: Sync keeps the rest from here on). Its `end` is not known yet. */
  spill(): Txn {
    const t = this.cur ?? this.open();
    const part: Txn = { ...t, rows: t.rows };
    t.rows = [];
    this.heldRows = this.heldBytes = 0;
    return part;
  }

  private open(gtid?: string): Txn {
    this.heldRows = this.heldBytes = 0;
    this.cur = { seq: 0, end: { file: '', pos: 0 }, endText: '', gtid, timestamp: 0, rows: [], events: 0 };
    return this.cur;
  }

  private finish(pos: number, timestamp: number, dropRows = false): Txn {
    const t = this.cur ?? this.open();
    this.cur = undefined;
    this.heldRows = this.heldBytes = 0;
    t.seq = ++this.seq;
    t.end = { file: this.file, pos };
    t.endText = formatPosition(t.end);
    t.timestamp = timestamp;
    if (dropRows) t.rows = [];
    return t;
  }

  /** Feeds one event; returns the transaction it completes, if any. */
  feed(ev: BinlogEvent): Txn | undefined {
    if (ev.kind === 'rotate') {
      this.file = ev.nextFile;
      return undefined;
    }
    if (ev.kind === 'heartbeat') return undefined;
    if (this.cur) this.cur.events++;
    const step = this.boundary.feed(ev);
    let rollback = false;
    switch (ev.kind) {
      case 'gtid':
        this.open(ev.anonymous ? undefined : `${ev.uuid}:${ev.gno}`).events = 1;
        break;
      case 'mariadb_gtid':
        this.open(`${ev.gtid.domain}-${ev.gtid.server}-${ev.gtid.seq}`).events = 1;
        break;
      case 'rows':
        (this.cur ?? this.open()).rows.push(ev);
        this.heldRows += ev.rows.length;
        this.heldBytes += ev.header.eventSize;
        break;
      case 'query': {
        const q = classifyQuery(ev.schema, ev.query);
        if (q.kind === 'begin' && !this.cur) this.open().events = 1;
        else if (q.kind === 'rollback') rollback = true;
        else if (q.kind === 'dml')
          ((this.cur ?? this.open()).statements ??= []).push({ query: ev.query, table: q.table });
        else if (q.kind === 'ddl')
          (this.cur ?? this.open()).ddl = {
            schema: ev.schema,
            query: ev.query,
            info: q,
            statusVars: ev.statusVars,
          };
        break;
      }
    }
    return step === 'end' ? this.finish(ev.header.logPos, ev.header.timestamp, rollback) : undefined;
  }
}

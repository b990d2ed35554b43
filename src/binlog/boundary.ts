// What begins and what ends an upstream transaction in the binlog, for both flavours: the one
// rule the replica client (where a reconnect may resume), the transaction assembler and the relay
// reader (which transactions to skip) follow. Pure.
//  MySQL:   GTID, then BEGIN … XID/COMMIT, or one statement (a DDL) that ends it.
//  MariaDB: GTID (FL_STANDALONE: the next statement is the whole transaction), then BEGIN …
//           XID/COMMIT; XA transactions end at XA END/PREPARE/COMMIT/ROLLBACK.
import type { BinlogEvent } from './events.js';

/** How a statement controls a transaction, if it does. */
export type TxnControl = 'begin' | 'commit' | 'rollback';

const CONTROL: [RegExp, TxnControl][] = [
  [/^(BEGIN|START\s+TRANSACTION|XA\s+START)\b/i, 'begin'],
  [/^(COMMIT|XA\s+(END|PREPARE|COMMIT))\b/i, 'commit'],
  [/^(ROLLBACK|XA\s+ROLLBACK)\b/i, 'rollback'],
];

/** The statement's transaction control (leading whitespace and comments skipped). */
export function txnControl(query: string): TxnControl | undefined {
  let s = query.trimStart();
  while (s.startsWith('/*')) {
    const end = s.indexOf('*/');
    if (end < 0) return undefined;
    s = s.slice(end + 2).trimStart();
  }
  const c = s.charCodeAt(0) | 0x20; // b, c, r, s, x: the only first letters of a control statement
  if (c !== 0x62 && c !== 0x63 && c !== 0x72 && c !== 0x73 && c !== 0x78) return undefined;
  for (const [re, kind] of CONTROL) if (re.test(s)) return kind;
  return undefined;
}

/** Where an event stands: it opens a transaction, is part of one, ends one (it is the last
 * event of it), or is outside any (rotate, format description, heartbeat, GTID lists…). */
export type TxnStep = 'begin' | 'inside' | 'end' | 'outside';

export class TxnBoundary {
  private inTrx = false;
  /** The transaction ends at an XID or COMMIT/ROLLBACK (else at its one statement). */
  private explicitEnd = false;

  /** Within a transaction (after its first event, before its last). */
  get open(): boolean {
    return this.inTrx;
  }

  feed(ev: BinlogEvent): TxnStep {
    switch (ev.kind) {
      case 'gtid':
        return this.begin(false);
      case 'mariadb_gtid':
        return this.begin(!ev.standalone);
      case 'xid':
        return this.end();
      case 'query': {
        const c = txnControl(ev.query);
        if (c === 'begin') {
          const step = this.inTrx ? 'inside' : 'begin';
          this.inTrx = true;
          this.explicitEnd = true;
          return step;
        }
        if (!this.inTrx || !this.explicitEnd || c) return this.end();
        return 'inside';
      }
      default:
        return this.inTrx ? 'inside' : 'outside';
    }
  }

  private begin(explicitEnd: boolean): TxnStep {
    this.inTrx = true;
    this.explicitEnd = explicitEnd;
    return 'begin';
  }

  private end(): TxnStep {
    this.inTrx = false;
    return 'end';
  }
}

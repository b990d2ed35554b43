// Rows → SQL statements for one target table. Rows are identified by the primary key, else a NOT
// NULL unique key, else every column (with LIMIT 1, so duplicate rows stay duplicates). Generated
// columns are left for the target to compute. Safe mode writes idempotent statements (REPLACE,
// DELETE+REPLACE). Pure.
import type { Row, Value } from '../../binlog/events.js';
import { quoteId, quoteString } from '../../mysql/connect.js';
import { rowKeys, sameValue, type Col, type TargetTable } from './target-table.js';

/** A row's images (UPDATE: both; `unchanged`: see Row.unchanged). */
export interface RowImages {
  before?: (Value | undefined)[];
  after?: (Value | undefined)[];
  unchanged?: number;
}

/** A SQL literal for a decoded value (strings escaped, bytes as hex, exact numbers). */
export function literal(v: Value | undefined): string {
  if (v === undefined) return 'DEFAULT';
  if (v === null) return 'NULL';
  if (typeof v === 'number') return Object.is(v, -0) ? '-0e0' : String(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return quoteString(v);
  return v.length ? `0x${v.toString('hex')}` : "''";
}

function values(t: TargetTable, img: (Value | undefined)[]): string {
  return `(${t.cols.map((c) => literal(img[c.idx])).join(',')})`;
}

function whereClause(t: TargetTable, img: (Value | undefined)[]): string {
  return t.where
    .filter((c) => img[c.idx] !== undefined)
    .map((c) => {
      const v = img[c.idx];
      return v === null ? `${quoteId(c.name)} IS NULL` : `${quoteId(c.name)} = ${literal(v)}`;
    })
    .join(' AND ');
}

const colList = (t: TargetTable) => `(${t.cols.map((c) => quoteId(c.name)).join(',')})`;

const MAX_ROWS_PER_INSERT = 1000;
/** About the largest multi-row INSERT (MariaDB's max_allowed_packet is 16 MiB by default). */
const MAX_INSERT_BYTES = 1 << 20;

/** One multi-row INSERT (REPLACE in safe mode). */
export function insertSQL(t: TargetTable, rows: Row[], safe: boolean): string {
  return `${safe ? 'REPLACE' : 'INSERT'} INTO ${t.quoted} ${colList(t)} VALUES ${rows.map((r) => values(t, r.after!)).join(',')}`;
}

/** Multi-row INSERTs of `rows`, each of at most `maxRows` rows and about `maxBytes` (one row
 * more than that is a statement of its own): statements must stay under the target's
 * max_allowed_packet. */
export function insertStatements(
  t: TargetTable,
  rows: Row[],
  safe: boolean,
  maxRows = MAX_ROWS_PER_INSERT,
  maxBytes = MAX_INSERT_BYTES,
): string[] {
  const head = `${safe ? 'REPLACE' : 'INSERT'} INTO ${t.quoted} ${colList(t)} VALUES `;
  return multiRow(
    head,
    rows.map((r) => values(t, r.after!)),
    '',
    maxRows,
    maxBytes,
  );
}

/** `head` + tuples joined by commas + `tail`, split into statements of at most `maxRows` tuples
 * and about `maxBytes`. */
function multiRow(
  head: string,
  tuples: string[],
  tail: string,
  maxRows: number,
  maxBytes: number,
  sep = ',',
): string[] {
  const out: string[] = [];
  let part: string[] = [];
  let bytes = 0;
  for (const v of tuples) {
    if (part.length && (part.length >= maxRows || bytes + v.length > maxBytes)) {
      out.push(head + part.join(sep) + tail);
      part = [];
      bytes = 0;
    }
    part.push(v);
    bytes += v.length + sep.length;
  }
  if (part.length) out.push(head + part.join(sep) + tail);
  return out;
}

/** Most rows in one multi-row UPDATE (CASE lists are searched in order). */
const MAX_ROWS_PER_UPDATE = 500;

/** Updates that keep the key, as multi-row UPDATEs:
 * `UPDATE t SET c = CASE key WHEN k1 THEN v1 … ELSE c END, … WHERE key IN (k1, …)`, with of each
 * column only the rows that change it. One statement for many rows costs the target a fraction of
 * an UPDATE per row (parsing, table locking and a binlog event per statement), and it means what
 * the single UPDATEs mean (a row missing on the target stays missing). A key that comes again
 * starts the next statement (CASE takes the first match), so each row's updates stay in order.
 * Only for tables identified by a key; rows that change nothing are left out. */
export function caseUpdateStatements(t: TargetTable, rows: Array<RowImages>): string[] {
  const single = t.where.length === 1;
  const keyCol = quoteId(t.where[0].name);
  const out: string[] = [];
  let seen = new Set<string>();
  let whens = new Map<Col, string[]>();
  let keys: string[] = [];
  let bytes = 0;
  const flush = () => {
    if (whens.size) {
      const set = [...whens]
        .map(([c, w]) => {
          const q = quoteId(c.name);
          return `${q} = CASE${single ? ' ' + keyCol : ''} ${w.join(' ')} ELSE ${q} END`;
        })
        .join(', ');
      const where = single ? `${keyCol} IN (${keys.join(',')})` : keys.map((k) => `(${k})`).join(' OR ');
      out.push(`UPDATE ${t.quoted} SET ${set} WHERE ${where}`);
    }
    seen = new Set();
    whens = new Map();
    keys = [];
    bytes = 0;
  };
  const norm: string[] = [];
  for (const r of rows) {
    const changed = changedColumns(t, r);
    if (!changed.length) continue;
    norm.length = 0;
    rowKeys(t, r.before, norm); // the key's (a table identified by its only unique key)
    if (seen.has(norm[0]) || keys.length >= MAX_ROWS_PER_UPDATE || bytes > MAX_INSERT_BYTES) flush();
    seen.add(norm[0]);
    const key = single ? literal(r.before![t.where[0].idx]) : whereClause(t, r.before!);
    keys.push(key);
    bytes += key.length;
    for (const c of changed) {
      const w = `WHEN ${key} THEN ${literal(r.after![c.idx])}`;
      bytes += w.length;
      const list = whens.get(c);
      if (list) list.push(w);
      else whens.set(c, [w]);
    }
  }
  flush();
  return out;
}

/** Deletes by key, as multi-row DELETE … WHERE key IN (…) (composite keys: ORs of ANDs, which
 * every target's range optimizer reads by key). Only for tables identified by a key. */
export function deleteInStatements(t: TargetTable, rows: Row[]): string[] {
  const single = t.where.length === 1;
  const tuples = rows.map((r) =>
    single ? literal(r.before![t.where[0].idx]) : `(${whereClause(t, r.before!)})`,
  );
  return single
    ? multiRow(
        `DELETE FROM ${t.quoted} WHERE ${quoteId(t.where[0].name)} IN (`,
        tuples,
        ')',
        1000,
        MAX_INSERT_BYTES,
      )
    : multiRow(`DELETE FROM ${t.quoted} WHERE `, tuples, '', 1000, MAX_INSERT_BYTES, ' OR ');
}

/** An UPDATE by key (safe mode: DELETE the old row, REPLACE the new). */
export function updateSQL(t: TargetTable, row: Row, safe: boolean): string[] {
  if (safe) return [deleteSQL(t, row), insertSQL(t, [{ after: row.after }], true)];
  const after = row.after!;
  // Only the columns that changed (all of them when nothing seems to: the statement stays valid).
  let changed = changedColumns(t, row);
  if (!changed.length) changed = t.cols.filter((c) => after[c.idx] !== undefined);
  const set = changed.map((c) => `${quoteId(c.name)} = ${literal(after[c.idx])}`).join(', ');
  return [`UPDATE ${t.quoted} SET ${set} WHERE ${whereClause(t, row.before!)} LIMIT 1`];
}

/** The columns an update changes: in its after image, and different from the before image (a
 * column the before image lacks counts as changed unless `unchanged` says otherwise). */
function changedColumns(t: TargetTable, row: Row & { unchanged?: number }): Col[] {
  const { before, after, unchanged = 0 } = row;
  return t.cols.filter(
    (c) =>
      after![c.idx] !== undefined &&
      !(c.idx < 31 && (unchanged >>> c.idx) & 1) &&
      !sameValue(before![c.idx], after![c.idx]),
  );
}

export function deleteSQL(t: TargetTable, row: Row): string {
  return `DELETE FROM ${t.quoted} WHERE ${whereClause(t, row.before!)} LIMIT 1`;
}

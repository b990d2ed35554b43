// Row changes → SQL for the target. Rows are identified by the primary key, else a NOT NULL unique
// key, else every column (with LIMIT 1, so duplicate rows stay duplicates). Generated columns are
// left for the target to compute. Safe mode writes idempotent statements (REPLACE, DELETE+REPLACE).
// Pure.
import type { Row, TableMapEvent, Value } from '../../binlog/events.js';
import { quoteId, quoteString, quoteTable } from '../../mysql/connect.js';
import type { TableSchema } from '../../schema/tracker.js';

export interface Col {
  name: string;
  /** Index in the binlog row image. */
  idx: number;
}

export interface TargetTable {
  /** `db`.`table` on the target. */
  quoted: string;
  /** Non-generated target columns with their binlog index. */
  cols: Col[];
  /** Columns that identify a row (the key, or every column). */
  where: Col[];
  hasKey: boolean;
  /** Unique keys (for causality), each a list of columns. */
  uniques: Col[][];
  /** The causality prefix: the target table name. */
  id: string;
}

/** Maps a table-map's columns onto the target table: by name when the binlog carries names
 * (binlog_row_metadata=FULL), else by position. */
export function targetTable(map: TableMapEvent, schema: TableSchema, db: string, table: string): TargetTable {
  const named = map.columns.every((c) => c.name !== undefined);
  const byName = new Map<string, number>();
  map.columns.forEach((c, i) => byName.set((c.name ?? '').toLowerCase(), i));
  const all: (Col & { generated: boolean })[] = [];
  schema.columns.forEach((c, i) => {
    const idx = named ? byName.get(c.name.toLowerCase()) : i < map.columns.length ? i : undefined;
    if (idx !== undefined) all.push({ name: c.name, idx, generated: c.generated });
  });
  const cols = all.filter((c) => !c.generated).map(({ name, idx }) => ({ name, idx }));
  const find = (names: string[]) => {
    const out = names.map((n) => cols.find((c) => c.name.toLowerCase() === n.toLowerCase()));
    return out.every(Boolean) ? (out as Col[]) : undefined;
  };
  const key = schema.key ? find(schema.key) : undefined;
  const uniques = schema.uniqueKeys.map(find).filter((k): k is Col[] => k !== undefined);
  return {
    quoted: quoteTable(db, table),
    cols,
    where: key ?? cols,
    hasKey: !!key,
    uniques,
    id: `${db}.${table}`,
  };
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

/** One multi-row INSERT (REPLACE in safe mode). */
export function insertSQL(t: TargetTable, rows: Row[], safe: boolean): string {
  return `${safe ? 'REPLACE' : 'INSERT'} INTO ${t.quoted} ${colList(t)} VALUES ${rows.map((r) => values(t, r.after!)).join(',')}`;
}

/** An UPDATE by key (safe mode: DELETE the old row, REPLACE the new). */
export function updateSQL(t: TargetTable, row: Row, safe: boolean): string[] {
  if (safe) return [deleteSQL(t, row), insertSQL(t, [{ after: row.after }], true)];
  const after = row.after!;
  const before = row.before!;
  // Only the columns that changed (all of them when nothing seems to: the statement stays valid).
  let changed = t.cols.filter((c) => after[c.idx] !== undefined && !sameValue(before[c.idx], after[c.idx]));
  if (!changed.length) changed = t.cols.filter((c) => after[c.idx] !== undefined);
  const set = changed.map((c) => `${quoteId(c.name)} = ${literal(after[c.idx])}`).join(', ');
  return [`UPDATE ${t.quoted} SET ${set} WHERE ${whereClause(t, row.before!)} LIMIT 1`];
}

function sameValue(a: Value | undefined, b: Value | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b))
    return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  return a === b;
}

export function deleteSQL(t: TargetTable, row: Row): string {
  return `DELETE FROM ${t.quoted} WHERE ${whereClause(t, row.before!)} LIMIT 1`;
}

/** Causality keys of a row image: the table with each unique key's values (or the table alone
 * when it has no unique key, which serializes all its changes). */
export function rowKeys(t: TargetTable, img: (Value | undefined)[] | undefined, out: string[]): void {
  if (!img) return;
  if (!t.uniques.length) {
    out.push(t.id);
    return;
  }
  for (const k of t.uniques) {
    let key = t.id;
    for (const c of k) {
      const v = img[c.idx];
      // Case- and trailing-space-insensitive, as most collations compare: more conflicts, never fewer.
      key +=
        '\0' +
        (Buffer.isBuffer(v)
          ? v.toString('hex')
          : typeof v === 'string'
            ? v.toLowerCase().trimEnd()
            : String(v));
    }
    out.push(key);
  }
}

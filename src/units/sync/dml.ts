// Row changes → SQL for the target. Rows are identified by the primary key, else a NOT NULL unique
// key, else every column (with LIMIT 1, so duplicate rows stay duplicates). Generated columns are
// left for the target to compute. Safe mode writes idempotent statements (REPLACE, DELETE+REPLACE).
// Pure.
import type { Row, TableMapEvent, Value } from '../../binlog/events.js';
import { quoteId, quoteString, quoteTable } from '../../mysql/connect.js';
import type { TableSchema } from '../../schema/tracker.js';
import { DMError } from '../../errors.js';
import { ColumnType as T } from '../../binlog/constants.js';

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
  /** Binlog columns whose values were decoded as signed but are unsigned on the target (a binlog
   * without signedness metadata), with their width in bits: see `unsignedValues`. */
  unsigned: { idx: number; bits: number }[];
}

const INT_BITS = new Map<number, number>([
  [T.TINY, 8],
  [T.SHORT, 16],
  [T.INT24, 24],
  [T.LONG, 32],
  [T.LONGLONG, 64],
]);

/** Reads a row image's integers of `unsigned` columns as unsigned (in place): without signedness
 * metadata the decoder reads every integer as signed, and a negative value there is the two's
 * complement of the unsigned one (255 arrives as -1). */
export function unsignedValues(
  image: (Value | undefined)[] | undefined,
  unsigned: TargetTable['unsigned'],
): void {
  if (!image) return;
  for (const { idx, bits } of unsigned) {
    const v = image[idx];
    if (typeof v === 'number' && v < 0) image[idx] = v + 2 ** bits;
    else if (typeof v === 'bigint' && v < 0n) image[idx] = v + (1n << BigInt(bits));
  }
}

/** Maps a table-map's columns onto the target table: by name when the binlog carries names
 * (binlog_row_metadata=FULL), else by position. `extra` target columns (a route's `extract-*`)
 * take their values from the row image after the binlog's columns, in this order. */
export function targetTable(
  map: TableMapEvent,
  schema: TableSchema,
  db: string,
  table: string,
  extra: string[] = [],
): TargetTable {
  const named = map.columns.every((c) => c.name !== undefined);
  const missing = named
    ? map.columns.filter((c) => !schema.columns.some((t) => t.name.toLowerCase() === c.name!.toLowerCase()))
    : [];
  if ((!named && map.columns.length + extra.length !== schema.columns.length) || missing.length) {
    // Mapping the row onto the wrong columns, or dropping a value, would corrupt data silently.
    throw new DMError({
      code: 36030,
      class: 'sync',
      scope: 'downstream',
      message:
        `the binlog row of ${quoteTable(map.schema, map.table)} does not match ${quoteTable(db, table)} on the target: ` +
        (missing.length
          ? `column(s) ${missing.map((c) => quoteId(c.name!)).join(', ')} are missing on the target`
          : `${map.columns.length} columns upstream, ${schema.columns.length} on the target`),
      workaround:
        'Make the target table match the upstream one (a DDL may have been skipped or changed by hand), then resume-task.',
    });
  }
  const byName = new Map<string, number>();
  map.columns.forEach((c, i) => byName.set((c.name ?? '').toLowerCase(), i));
  const extraIdx = new Map(extra.map((name, k) => [name.toLowerCase(), map.columns.length + k]));
  const all: (Col & { generated: boolean })[] = [];
  schema.columns.forEach((c, i) => {
    const idx =
      extraIdx.get(c.name.toLowerCase()) ??
      (named ? byName.get(c.name.toLowerCase()) : i < map.columns.length ? i : undefined);
    if (idx !== undefined) all.push({ name: c.name, idx, generated: c.generated });
  });
  const cols = all.filter((c) => !c.generated).map(({ name, idx }) => ({ name, idx }));
  const find = (names: string[]) => {
    const out = names.map((n) => cols.find((c) => c.name.toLowerCase() === n.toLowerCase()));
    return out.every(Boolean) ? (out as Col[]) : undefined;
  };
  const key = schema.key ? find(schema.key) : undefined;
  const uniques = schema.uniqueKeys.map(find).filter((k): k is Col[] => k !== undefined);
  const unsigned: TargetTable['unsigned'] = [];
  if (!map.signedness) {
    for (const c of cols) {
      const bits = INT_BITS.get(map.columns[c.idx]?.type ?? -1);
      const sc = schema.columns.find((s) => s.name === c.name);
      if (bits && sc?.unsigned) unsigned.push({ idx: c.idx, bits });
    }
  }
  return {
    quoted: quoteTable(db, table),
    cols,
    where: key ?? cols,
    hasKey: !!key,
    uniques,
    id: `${db}.${table}`,
    unsigned,
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
export function caseUpdateStatements(
  t: TargetTable,
  rows: Array<Pick<RowChange, 'before' | 'after' | 'unchanged'>>,
): string[] {
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

/** One row change, kept structured for compaction (syncers.compact / multiple-rows). */
export interface RowChange {
  t: TargetTable;
  op: 'insert' | 'update' | 'delete';
  before?: (Value | undefined)[];
  after?: (Value | undefined)[];
  /** Columns known unchanged although the before image lacks them (Row.unchanged). */
  unchanged?: number;
}

/** Within one upstream transaction, a row deleted and then inserted again under the same key
 * (sysbench's and many ORMs' "delete + insert") becomes one UPDATE at the insert's place: one
 * statement instead of two, and an in-place update instead of a delete-mark and an insert for
 * the target. Only for tables whose key is their only unique key (nothing else can collide while
 * the old row stays until the insert's place), and only when no other change touches the key in
 * between (compared as causality compares: case- and trailing-space-insensitive). */
export function pairDeleteInsert(changes: RowChange[]): RowChange[] {
  let out: (RowChange | undefined)[] | undefined;
  /** Normalized key → index of the delete waiting for its insert. */
  const open = new Map<string, number>();
  const k: string[] = [];
  const norm = (c: RowChange, img: (Value | undefined)[]) => {
    k.length = 0;
    rowKeys(c.t, img, k);
    return k[0];
  };
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i];
    if (!compactable(c.t)) continue;
    if (c.op === 'delete') {
      open.set(norm(c, c.before!), i);
      continue;
    }
    if (!open.size) continue;
    if (c.op === 'update') {
      open.delete(norm(c, c.before!));
      open.delete(norm(c, c.after!));
      continue;
    }
    const key = norm(c, c.after!);
    const d = open.get(key);
    if (d === undefined) continue;
    open.delete(key);
    const del = changes[d];
    if (del.t === c.t && keyOf(c.t, del.before!) === keyOf(c.t, c.after!)) {
      out ??= [...changes];
      out[d] = undefined;
      out[i] = { t: c.t, op: 'update', before: del.before, after: c.after };
    }
  }
  return out ? out.filter((c): c is RowChange => c !== undefined) : changes;
}

/** Whether an update keeps every unique key's values (its causality keys are its before image's). */
export function keepsKeys(
  t: TargetTable,
  before: (Value | undefined)[],
  after: (Value | undefined)[],
): boolean {
  return t.uniques.every((u) => u.every((c) => sameValue(before[c.idx], after[c.idx])));
}

/** The statements of one upstream transaction's row changes, in order: a delete and re-insert of
 * one key paired into an UPDATE (not in safe mode, where updates are idempotent DELETE+REPLACE
 * anyway), consecutive inserts into one table as multi-row INSERTs. */
export function transactionSQL(rows: RowChange[], safe: boolean): string[] {
  const sql: string[] = [];
  const changes = safe ? rows : pairDeleteInsert(rows);
  for (let i = 0; i < changes.length;) {
    const c = changes[i];
    if (c.op === 'insert') {
      let j = i + 1;
      while (j < changes.length && changes[j].op === 'insert' && changes[j].t === c.t) j++;
      sql.push(...insertStatements(c.t, changes.slice(i, j), safe));
      i = j;
      continue;
    }
    if (c.op === 'update') sql.push(...updateSQL(c.t, c, safe));
    else sql.push(deleteSQL(c.t, c));
    i++;
  }
  return sql;
}

/** How a row change can be written together with its neighbours of the same table: `single`
 * ones are statements of their own. */
function kind(c: RowChange, safe: boolean): 'insert' | 'update' | 'delete' | 'single' {
  if (c.op === 'insert') return 'insert';
  if (!compactable(c.t)) return 'single';
  if (c.op === 'delete') return 'delete';
  return keyOf(c.t, c.before!) !== keyOf(c.t, c.after!) || (safe && c.after!.includes(undefined))
    ? 'single'
    : 'update';
}

/** The statements of one target transaction: the row changes of several upstream transactions,
 * which commit together. Changes to different tables commute (the appliers run without foreign
 * key checks), so each table's changes are written together, in their order; within a table, runs
 * of inserts, of key-keeping updates and of deletes become multi-row statements (the latter two
 * for tables identified by their only unique key, where each row's changes stay in order inside
 * the statement). A delete and re-insert of one key becomes an UPDATE first, as in
 * transactionSQL. Nothing is merged away: every change is applied (compactSQL merges). */
export function batchSQL(changes: RowChange[], safe: boolean): string[] {
  const byTable = new Map<TargetTable, RowChange[]>();
  for (const c of safe ? changes : pairDeleteInsert(changes)) {
    const list = byTable.get(c.t);
    if (list) list.push(c);
    else byTable.set(c.t, [c]);
  }
  const out: string[] = [];
  for (const [t, list] of byTable) {
    for (let i = 0; i < list.length;) {
      const k = kind(list[i], safe);
      let j = i + 1;
      if (k !== 'single') while (j < list.length && kind(list[j], safe) === k) j++;
      const run = list.slice(i, j);
      if (k === 'insert') out.push(...insertStatements(t, run, safe));
      else if (k === 'update')
        out.push(...(safe ? insertStatements(t, run, true) : caseUpdateStatements(t, run)));
      else if (k === 'delete') out.push(...deleteInStatements(t, run));
      else if (run[0].op === 'update') out.push(...updateSQL(t, run[0], safe));
      else out.push(deleteSQL(t, run[0]));
      i = j;
    }
  }
  return out;
}

type Net = {
  op: 'insert' | 'update' | 'delete' | 'replace';
  before?: (Value | undefined)[];
  after?: (Value | undefined)[];
};

function keyOf(t: TargetTable, img: (Value | undefined)[]): string {
  return t.where.map((c) => literal(img[c.idx])).join('\0');
}

/** Whether a table's changes may be merged and regrouped: rows identified by a key that is its
 * only unique key (so changes to different rows commute). */
function compactable(t: TargetTable): boolean {
  return t.hasKey && t.uniques.length <= 1;
}

function merge(prev: Net | undefined, c: RowChange): Net | null | undefined {
  if (!prev) return { op: c.op, before: c.before, after: c.after };
  if (prev.op === 'insert' && c.op === 'update') return { op: 'insert', after: c.after };
  if (prev.op === 'insert' && c.op === 'delete') return null; // nothing left
  if (prev.op === 'update' && c.op === 'update') return { op: 'update', before: prev.before, after: c.after };
  if (prev.op === 'update' && c.op === 'delete') return { op: 'delete', before: prev.before };
  if (prev.op === 'delete' && c.op === 'insert') return { op: 'replace', after: c.after };
  if (prev.op === 'replace' && c.op === 'update') return { op: 'replace', after: c.after };
  if (prev.op === 'replace' && c.op === 'delete') return { op: 'delete', before: c.before };
  return undefined; // not mergeable: flush first
}

/** SQL for a sequence of row changes with syncers.compact + multiple-rows: the changes to each
 * row are merged into one net change, then grouped per table into multi-row DELETE … IN,
 * INSERT/REPLACE and INSERT … ON DUPLICATE KEY UPDATE statements. Tables without a single key,
 * and key-changing updates, are not merged: they flush what is pending and keep their order. */
export function compactSQL(changes: RowChange[], safe: boolean): string[] {
  const out: string[] = [];
  const pending = new Map<TargetTable, Map<string, Net>>();
  const flush = () => {
    for (const [t, rows] of pending) emitGroups(t, [...rows.values()], safe, out);
    pending.clear();
  };
  for (const c of changes) {
    const keyChange = c.op === 'update' && keyOf(c.t, c.before!) !== keyOf(c.t, c.after!);
    // (a before image may hold only the key: nothing else of it is needed)
    const partial = c.after?.includes(undefined);
    if (!compactable(c.t) || keyChange || partial) {
      flush();
      if (c.op === 'insert') out.push(insertSQL(c.t, [{ after: c.after }], safe));
      else if (c.op === 'update') out.push(...updateSQL(c.t, { before: c.before, after: c.after }, safe));
      else out.push(deleteSQL(c.t, { before: c.before }));
      continue;
    }
    const key = keyOf(c.t, (c.after ?? c.before)!);
    let rows = pending.get(c.t);
    if (!rows) pending.set(c.t, (rows = new Map()));
    let next = merge(rows.get(key), c);
    if (next === undefined) {
      flush();
      rows = new Map();
      pending.set(c.t, rows);
      next = merge(undefined, c);
    }
    if (next === null) rows.delete(key);
    else rows.set(key, next!);
  }
  flush();
  return out;
}

function emitGroups(t: TargetTable, nets: Net[], safe: boolean, out: string[]): void {
  // Rows that end deleted, or replaced (deleted, then inserted below): one DELETE … IN.
  const gone = nets.filter((n) => n.op === 'delete' || (n.op === 'replace' && !safe));
  out.push(
    ...deleteInStatements(
      t,
      gone.map((n) => ({ before: n.before ?? n.after })),
    ),
  );
  if (safe) {
    out.push(
      ...insertStatements(
        t,
        nets.filter((n) => n.op !== 'delete'),
        true,
      ),
    );
    return;
  }
  out.push(
    ...insertStatements(
      t,
      nets.filter((n) => n.op === 'insert' || n.op === 'replace'),
      false,
    ),
  );
  out.push(
    ...caseUpdateStatements(
      t,
      nets.filter((n) => n.op === 'update'),
    ),
  );
}

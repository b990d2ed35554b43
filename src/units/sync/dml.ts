// Row changes → SQL for the target: one upstream transaction's statements, a batch's multi-row
// statements, or (syncers.compact) each row's net change across a batch. Pure.
import type { Value } from '../../binlog/events.js';
import {
  caseUpdateStatements,
  deleteInStatements,
  deleteSQL,
  insertSQL,
  insertStatements,
  literal,
  updateSQL,
} from './row-sql.js';
import { rowKeys, type TargetTable } from './target-table.js';

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

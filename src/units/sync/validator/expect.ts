// What the validator expects of the target: each row change of the binlog, once Sync applied it,
// says a row of a target table must exist with these values (INSERT, UPDATE) or must not exist
// (DELETE; an UPDATE that changed the key, for its old key). The latest change of a row wins.
// Expectations are plain data, keyed by target table and key values, so they persist as JSON and
// survive restarts. Pure: the SQL that checks a batch of them, and its verdicts, are made here.
import type { Value } from '../../../binlog/events.js';
import { quoteId, quoteTable } from '../../../mysql/connect.js';
import type { RowChange } from '../dml.js';
import { literal } from '../row-sql.js';

export type Op = 'insert' | 'update' | 'delete';

export interface TableRef {
  db: string;
  table: string;
}

export interface Expectation {
  /** The upstream table the change came from. */
  src: TableRef;
  /** The target table it was applied to. */
  dst: TableRef;
  op: Op;
  /** The columns identifying the row (the target's primary or NOT NULL unique key). */
  key: [string, Value][];
  /** The row as the target must hold it; absent: the key must not exist. Columns the binlog did
   * not carry (a minimal row image) are left out and not compared. */
  row?: [string, Value][];
}

/** Why a row is not as expected (DM's `error_type` numbers and words). */
export const FAILURES = {
  deletedRowExists: { code: 0, text: 'Deleted rows exist' },
  rowNotExist: { code: 1, text: 'Expected rows not exist' },
  rowDifferent: { code: 2, text: 'Column data not matched' },
} as const;
export type Failure = keyof typeof FAILURES;

/** The expectations of one applied row change (none for a table without a key: a row cannot be
 * told apart from its duplicates). */
export function expectationsOf(change: RowChange, src: TableRef, dst: TableRef): Expectation[] {
  const { t, op, before, after } = change;
  if (!t.hasKey) return [];
  const pick = (img: (Value | undefined)[], cols: { name: string; idx: number }[]) =>
    cols.filter((c) => img[c.idx] !== undefined).map((c): [string, Value] => [c.name, img[c.idx] as Value]);
  const present = (img: (Value | undefined)[], o: Op): Expectation => ({
    src,
    dst,
    op: o,
    key: pick(img, t.where),
    row: pick(img, t.cols),
  });
  const absent = (img: (Value | undefined)[]): Expectation => ({
    src,
    dst,
    op: 'delete',
    key: pick(img, t.where),
  });
  if (op === 'insert') return [present(after!, 'insert')];
  if (op === 'delete') return [absent(before!)];
  const moved = t.where.some((c) => !same(before![c.idx], after![c.idx]) && after![c.idx] !== undefined);
  return moved ? [absent(before!), present(after!, 'insert')] : [present(after!, 'update')];
}

function same(a: Value | undefined, b: Value | undefined): boolean {
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b))
    return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  return a === b;
}

/** The row's identity: target table and key values (one pending entry per identity). */
export function identity(e: Expectation): string {
  return `${e.dst.db}.${e.dst.table}\0${rowPk(e)}`;
}

/** The key values as text (DM's `row_pk`), e.g. `1` or `7-a`. */
export function rowPk(e: Expectation): string {
  return e.key.map(([, v]) => display(v)).join('-');
}

/** A value for people (show-error's data): bytes as text when they are printable UTF-8 (a
 * string of a non-UTF-8 column arrives as bytes), else as 0x hex. */
export function display(v: Value): string | number | null {
  if (v === null || typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  const text = v.toString('utf8');
  // eslint-disable-next-line no-control-regex
  const printable = Buffer.from(text, 'utf8').equals(v) && !/[\x00-\x08\x0e-\x1f\x7f\ufffd]/.test(text);
  return printable ? text : `0x${v.toString('hex')}`;
}

// ---- JSON, exactly (bigint and bytes tagged) ----

type JsonValue = null | number | string | { i: string } | { x: string };

function toJson(v: Value): JsonValue {
  if (typeof v === 'bigint') return { i: v.toString() };
  if (Buffer.isBuffer(v)) return { x: v.toString('hex') };
  return v;
}

function fromJson(j: JsonValue): Value {
  if (j === null || typeof j !== 'object') return j;
  return 'i' in j ? BigInt(j.i) : Buffer.from(j.x, 'hex');
}

const cols = (c: [string, Value][]) => c.map(([n, v]) => [n, toJson(v)]);
const uncols = (c: [string, JsonValue][]) => c.map(([n, v]): [string, Value] => [n, fromJson(v)]);

export function encodeExpectation(e: Expectation): string {
  return JSON.stringify({ ...e, key: cols(e.key), row: e.row && cols(e.row) });
}

export function decodeExpectation(text: string): Expectation {
  const j = JSON.parse(text) as Expectation & { key: [string, JsonValue][]; row?: [string, JsonValue][] };
  return { ...j, key: uncols(j.key), row: j.row && uncols(j.row) };
}

// ---- checking a batch against the target ----

export interface CheckOptions {
  /** full: every column compared; fast: only that the row exists (or not). */
  mode: 'full' | 'fast';
  /** A collation that compares strings byte for byte, trailing spaces included. */
  binaryCollation: string;
}

const keyCond = (e: Expectation) =>
  e.key
    .map(([n, v]) => (v === null ? `${quoteId(n)} IS NULL` : `${quoteId(n)} = ${literal(v)}`))
    .join(' AND ');

function equal(name: string, v: Value, o: CheckOptions): string {
  const lit = literal(v);
  return `${quoteId(name)} <=> ${typeof v === 'string' ? `${lit} COLLATE ${o.binaryCollation}` : lit}`;
}

/** One query for a batch of expectations (of any tables): per expectation, whether its key exists
 * and (full mode, a row expected) whether the whole row matches. */
export function checkSQL(batch: Expectation[], o: CheckOptions): string {
  const parts: string[] = [];
  batch.forEach((e, i) => {
    const from = `FROM ${quoteTable(e.dst.db, e.dst.table)} WHERE ${keyCond(e)}`;
    parts.push(`EXISTS(SELECT 1 ${from}) AS k${i}`);
    if (e.row && o.mode === 'full') {
      const all = e.row.map(([n, v]) => equal(n, v, o)).join(' AND ');
      parts.push(`EXISTS(SELECT 1 ${from}${all ? ` AND ${all}` : ''}) AS r${i}`);
    }
  });
  return `SELECT ${parts.join(', ')}`;
}

/** The failure of each expectation from checkSQL's one row (undefined: as expected). */
export function verdicts(
  batch: Expectation[],
  row: Record<string, string | null>,
  o: CheckOptions,
): (Failure | undefined)[] {
  return batch.map((e, i) => {
    const found = row[`k${i}`] === '1';
    if (!e.row) return found ? 'deletedRowExists' : undefined;
    if (!found) return 'rowNotExist';
    if (o.mode === 'full' && row[`r${i}`] !== '1') return 'rowDifferent';
    return undefined;
  });
}

/** The target's row for an error report (its columns as the server prints them). */
export function targetRowSQL(e: Expectation): string {
  return `SELECT * FROM ${quoteTable(e.dst.db, e.dst.table)} WHERE ${keyCond(e)} LIMIT 1`;
}

/** Bytes an expectation holds, about (for max-pending-row-size). */
export function sizeOf(e: Expectation): number {
  let n = 64 + e.src.db.length + e.src.table.length + e.dst.db.length + e.dst.table.length;
  for (const [k, v] of [...e.key, ...(e.row ?? [])])
    n += k.length + 16 + (typeof v === 'string' || Buffer.isBuffer(v) ? v.length : 8);
  return n;
}

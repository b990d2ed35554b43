// The SQL of check-data, pure: a table's columns as both sides compare them, key ranges, the chunk
// checksum (BIT_XOR of the CRC32 of each row, as sync-diff-inspector computes it), the rows of a
// chunk, and the statements that make a target row what the upstream holds.
//
// Each column is compared by its bytes in one representation both servers produce the same way:
// text columns as they are when their charset is the same on every server, else converted to
// utf8mb4 (so a latin1 upstream and a utf8mb4 target agree); binary
// ones as they are, BIT as its number, FLOAT as the DOUBLE it equals, everything else as the server prints it (numbers, dates; TIMESTAMP in UTC,
// the sessions' time zone). Rows are read as HEX of that, so no byte is lost on the way.
import { quoteId, quoteString, quoteTable } from '../mysql/connect.js';
import { SPATIAL_TYPES } from '../schema/types.js';

export type ColumnKind = 'text' | 'binary' | 'bit' | 'float' | 'other';

export interface Column {
  name: string;
  kind: ColumnKind;
  /** text: the charsets differ between servers, so values are compared in utf8mb4. */
  convert?: boolean;
  /** text: the target column's charset. */
  charset?: string;
}

export interface TableShape {
  db: string;
  table: string;
  /** Compared columns, in order. */
  columns: Column[];
  /** The key (primary, else NOT NULL unique): its columns, a subset of `columns`. */
  key: string[];
}

const TEXT = new Set([
  'char',
  'varchar',
  'tinytext',
  'text',
  'mediumtext',
  'longtext',
  'enum',
  'set',
  'json',
]);
const BINARY = new Set([
  'binary',
  'varbinary',
  'tinyblob',
  'blob',
  'mediumblob',
  'longblob',
  ...SPATIAL_TYPES,
]);

/** How a column of this information_schema DATA_TYPE is compared. */
export function columnKind(dataType: string): ColumnKind {
  const t = dataType.toLowerCase();
  if (TEXT.has(t)) return 'text';
  if (BINARY.has(t)) return 'binary';
  return t === 'bit' ? 'bit' : t === 'float' ? 'float' : 'other';
}

/** The column's value in its compared representation. */
export function valueExpr(c: Column): string {
  const q = quoteId(c.name);
  if (c.kind === 'text' && c.convert) return `CONVERT(${q} USING utf8mb4)`;
  if (c.kind === 'bit') return `(${q} + 0)`;
  // a FLOAT prints with 6 digits: as a DOUBLE it prints every digit of its value
  return c.kind === 'float' ? `(${q} + 0e0)` : q;
}

/** The column's compared value as hex of its bytes (numbers as the text the server prints:
 * HEX of a number would be the number in base 16). */
function hexExpr(c: Column): string {
  return `HEX(CONCAT(${valueExpr(c)}))`;
}

/** A key range: rows with key > `after` (none: from the start) and <= `upto` (none: to the end). */
export interface Range {
  after?: string[];
  upto?: string[];
}

/** `(k1, k2) > (a, b)` in the form index range scans use: k1 > a OR (k1 = a AND k2 > b). */
function tupleCompare(key: string[], values: string[], op: '>' | '<='): string {
  const strict = op === '>' ? '>' : '<';
  const parts: string[] = [];
  for (let i = 0; i < key.length; i++) {
    const eqs = key.slice(0, i).map((k, j) => `${quoteId(k)} = ${values[j]}`);
    const last = i === key.length - 1 && op === '<=' ? '<=' : strict;
    parts.push([...eqs, `${quoteId(key[i])} ${last} ${values[i]}`].join(' AND '));
  }
  return parts.length === 1 ? parts[0] : `(${parts.map((p) => `(${p})`).join(' OR ')})`;
}

/** The WHERE condition of a range (key values as SQL literals), or '1' for the whole table. */
export function rangeCond(key: string[], r: Range): string {
  const conds: string[] = [];
  if (r.after) conds.push(tupleCompare(key, r.after, '>'));
  if (r.upto) conds.push(tupleCompare(key, r.upto, '<='));
  return conds.length ? conds.join(' AND ') : '1';
}

/** The chunk's row count and checksum (BIT_XOR of the CRC32 of each row's values and NULL flags);
 * XOR and sum combine the answers of several shards into their union's. */
export function checksumSQL(t: TableShape, db: string, table: string, r: Range): string {
  const vals = t.columns.map(valueExpr).join(', ');
  const nulls = t.columns.map((c) => `ISNULL(${quoteId(c.name)})`).join(', ');
  return `SELECT COUNT(*) AS n, COALESCE(BIT_XOR(CAST(CRC32(CONCAT_WS(',', ${vals}, CONCAT(${nulls}))) AS UNSIGNED)), 0) AS x FROM ${quoteTable(db, table)} WHERE ${rangeCond(t.key, r)}`;
}

/** The key's columns for ORDER BY, named with their table: a bare name would mean the select
 * list's alias of the same name (the hex text, whose order is not the key's). */
function keyOrder(t: TableShape, db: string, table: string): string {
  return t.key.map((k) => `${quoteTable(db, table)}.${quoteId(k)}`).join(', ');
}

/** The key of the row `offset` rows into the range (in key order), as literals; for splitting. */
export function boundarySQL(t: TableShape, db: string, table: string, r: Range, offset: number): string {
  const cols = t.key.map((k) => `${hexExpr(colOf(t, k))} AS ${quoteId(k)}`).join(', ');
  return `SELECT ${cols} FROM ${quoteTable(db, table)} WHERE ${rangeCond(t.key, r)} ORDER BY ${keyOrder(t, db, table)} LIMIT 1 OFFSET ${offset}`;
}

/** The keys of every `step`-th row of the range (in key order), as boundarySQL reads them. */
export function boundariesSQL(t: TableShape, db: string, table: string, r: Range, step: number): string {
  const keys = t.key.map(quoteId).join(', ');
  const cols = t.key.map((k) => `${hexExpr(colOf(t, k))} AS ${quoteId(k)}`).join(', ');
  return `SELECT ${cols} FROM (SELECT ${keys}, ROW_NUMBER() OVER (ORDER BY ${keys}) AS dm_rn FROM ${quoteTable(db, table)} WHERE ${rangeCond(t.key, r)}) dm_cut WHERE dm_rn % ${step} = 0 ORDER BY dm_rn`;
}

/** Every row of the range, each column as HEX of its compared value (NULL stays NULL). */
export function rowsSQL(t: TableShape, db: string, table: string, r: Range): string {
  const cols = t.columns.map((c) => `${hexExpr(c)} AS ${quoteId(c.name)}`).join(', ');
  return `SELECT ${cols} FROM ${quoteTable(db, table)} WHERE ${rangeCond(t.key, r)} ORDER BY ${keyOrder(t, db, table)}`;
}

/** The rows with these keys (as rowsSQL reads them). */
export function rowsByKeySQL(
  t: TableShape,
  db: string,
  table: string,
  keys: Record<string, string | null>[],
): string {
  const cols = t.columns.map((c) => `${hexExpr(c)} AS ${quoteId(c.name)}`).join(', ');
  const where = keys.map((k) => `(${keyCond(t, k)})`).join(' OR ');
  return `SELECT ${cols} FROM ${quoteTable(db, table)} WHERE ${where || '0'}`;
}

function colOf(t: TableShape, name: string): Column {
  return t.columns.find((c) => c.name === name)!;
}

/** A value read by rowsSQL (hex of its compared form) as a SQL literal for the column. */
export function literalOf(c: Column, hex: string | null): string {
  if (hex === null) return 'NULL';
  if (c.kind === 'text')
    return hex ? `${c.convert ? '_utf8mb4' : `_${c.charset ?? 'utf8mb4'}`} 0x${hex}` : "''";
  if (c.kind === 'binary') return hex ? `0x${hex}` : "''";
  const text = Buffer.from(hex, 'hex').toString('utf8');
  return c.kind === 'bit' ? String(BigInt(text)) : quoteString(text);
}

/** The key values of a row read by rowsSQL, as literals (for ranges and statements). */
export function keyLiterals(t: TableShape, row: Record<string, string | null>): string[] {
  return t.key.map((k) => literalOf(colOf(t, k), row[k]));
}

/** The condition selecting one row by its key. */
export function keyCond(t: TableShape, row: Record<string, string | null>): string {
  return t.key.map((k, i) => `${quoteId(k)} = ${keyLiterals(t, row)[i]}`).join(' AND ');
}

/** The statement that makes the target hold `up` (REPLACE), or not hold `down`'s key (DELETE). */
export function fixSQL(
  t: TableShape,
  up: Record<string, string | null> | undefined,
  down: Record<string, string | null> | undefined,
): string {
  const target = quoteTable(t.db, t.table);
  if (!up) return `DELETE FROM ${target} WHERE ${keyCond(t, down!)} LIMIT 1;`;
  const cols = t.columns.map((c) => quoteId(c.name)).join(', ');
  const vals = t.columns.map((c) => literalOf(c, up[c.name])).join(', ');
  return `REPLACE INTO ${target} (${cols}) VALUES (${vals});`;
}

// A target table as Sync writes it: which binlog column feeds which target column, the key that
// identifies a row, unique keys (for causality), and integer columns to read back as unsigned.
// Pure.
import type { TableMapEvent, Value } from '../../binlog/events.js';
import { quoteId, quoteTable } from '../../mysql/connect.js';
import type { TableSchema } from '../../schema/tracker.js';
import { DMError, ERR } from '../../errors.js';
import { INTEGER_BITS } from '../../binlog/constants.js';
import { tsvColumn } from './row-tsv.js';

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
  /** Whether its inserts may go as LOAD DATA rows (row-tsv.ts). */
  tsv: boolean;
  /** It has an AUTO_INCREMENT column: a LOAD DATA into it holds the table's AUTO-INC lock (with
   * innodb_autoinc_lock_mode below 2) until the statement ends, so one is not kept open. */
  autoIncrement: boolean;
}

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
    throw new DMError(ERR.rowNotMatchTable, {
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
  const target = new Map(schema.columns.map((s) => [s.name, s]));
  const unsigned: TargetTable['unsigned'] = [];
  if (!map.signedness) {
    for (const c of cols) {
      const bits = INTEGER_BITS[map.columns[c.idx]?.type ?? -1];
      if (bits && target.get(c.name)?.unsigned) unsigned.push({ idx: c.idx, bits });
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
    tsv: cols.every((c) => tsvColumn(map.columns[c.idx], target.get(c.name)?.def)),
    autoIncrement: schema.columns.some((c) => c.autoIncrement),
  };
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

/** Whether an update keeps every unique key's values (its causality keys are its before image's). */
export function keepsKeys(
  t: TargetTable,
  before: (Value | undefined)[],
  after: (Value | undefined)[],
): boolean {
  return t.uniques.every((u) => u.every((c) => sameValue(before[c.idx], after[c.idx])));
}

export function sameValue(a: Value | undefined, b: Value | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b))
    return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  return a === b;
}

// Splitting a table into key ranges that dump in parallel. Pure: takes the key column, its range
// and the table's size, returns WHERE conditions that together cover every row exactly once.
import { quoteId } from '../../mysql/connect.js';

export interface TableShape {
  /** First column of the primary key (or of a NOT NULL unique key) when it is an integer. */
  splitColumn?: string;
  min?: bigint;
  max?: bigint;
  estimatedRows: number;
  dataBytes: number;
}

export interface ChunkOptions {
  threads: number;
  /** Rows per chunk (0: decide by size). */
  rows: number;
  chunkBytes: number;
}

/** Rows below which a table is not worth splitting. */
const MIN_SPLIT_ROWS = 20_000;

/** Number of chunks for a table. */
export function chunkCount(t: TableShape, o: ChunkOptions): number {
  if (t.splitColumn === undefined || t.min === undefined || t.max === undefined) return 1;
  const span = t.max - t.min + 1n;
  let n: number;
  if (o.rows > 0) n = Math.ceil(t.estimatedRows / o.rows);
  else {
    if (t.estimatedRows < MIN_SPLIT_ROWS) return 1;
    // chunk-filesize 0: no size limit (DM's); the table is still read in parallel chunks
    n = o.chunkBytes > 0 ? Math.max(o.threads * 2, Math.ceil(t.dataBytes / o.chunkBytes)) : o.threads * 2;
  }
  n = Math.min(n, 10_000);
  if (BigInt(n) > span) n = Number(span);
  return Math.max(1, n);
}

/** WHERE conditions of the chunks (undefined: the whole table in one chunk). */
export function chunkConditions(t: TableShape, o: ChunkOptions): (string | undefined)[] {
  const n = chunkCount(t, o);
  if (n <= 1 || t.splitColumn === undefined || t.min === undefined || t.max === undefined) return [undefined];
  const col = quoteId(t.splitColumn);
  const span = t.max - t.min + 1n;
  const bounds: bigint[] = [];
  for (let i = 1; i < n; i++) bounds.push(t.min + (span * BigInt(i)) / BigInt(n));
  const out: string[] = [`${col} < ${bounds[0]}`];
  for (let i = 1; i < bounds.length; i++) out.push(`${col} >= ${bounds[i - 1]} AND ${col} < ${bounds[i]}`);
  out.push(`${col} >= ${bounds[bounds.length - 1]}`);
  return out;
}

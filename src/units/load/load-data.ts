// A dump file of tab-separated rows (the dump writes them when the target takes LOAD DATA LOCAL
// INFILE) imported with LOAD DATA LOCAL INFILE through our own protocol module: the server parses
// far less than INSERT text, and the bytes go in as they are (CHARACTER SET binary, NULL as \N).
// on-duplicate replace and ignore are LOAD DATA's REPLACE and IGNORE. LOAD DATA LOCAL never stops
// at a bad row (a duplicate, a value the column would change): it warns. So a warning that is not
// an ignored duplicate fails the file, with the error INSERT would have given (on-duplicate error:
// a duplicate too); the file's transaction is rolled back.
import type { FileHandle } from 'node:fs/promises';
import { quoteId, quoteString } from '../../mysql/connect.js';
import type { PacketConnection } from '../../mysql/protocol.js';
import { duplicateKeyword, refuseWarnings, TSV_FORMAT, type DuplicatePolicy } from '../../mysql/tsv.js';
import type { ExtraColumn } from '../../rules/route.js';

const BLOCK = 1 << 20;

/** The LOAD DATA statement of a file whose first line is `columns`. Pure. */
export function loadDataSQL(
  table: string,
  columns: string,
  policy: DuplicatePolicy,
  extras: ExtraColumn[],
): string {
  const set = extras.length
    ? ` SET ${extras.map((e) => `${quoteId(e.column)} = ${quoteString(e.value)}`).join(', ')}`
    : '';
  return `LOAD DATA LOCAL INFILE 'dm-ts-load' ${duplicateKeyword(policy)} INTO TABLE ${table} ${TSV_FORMAT} ${columns}${set}`;
}

/** Reads the file's first line (the column list); resolves with it and the offset after it. */
async function header(
  fh: FileHandle,
  filename: string,
  size: number,
): Promise<{ columns: string; start: number }> {
  const b = Buffer.allocUnsafe(Math.max(1, Math.min(1 << 16, size)));
  const { bytesRead } = await fh.read(b, 0, b.length, 0);
  const nl = b.subarray(0, bytesRead).indexOf(0x0a);
  if (nl < 0) throw new Error(`${filename}: no column list in its first line`);
  return { columns: b.toString('utf8', 0, nl), start: nl + 1 };
}

async function* blocks(
  fh: FileHandle,
  start: number,
  size: number,
  progress: (end: number) => void,
): AsyncGenerator<Buffer> {
  for (let pos = start; ;) {
    // a block no bigger than the rest of the file (small files are most files of many tables)
    const n = Math.max(1, Math.min(BLOCK, size - pos));
    const b = Buffer.allocUnsafe(n);
    const { bytesRead } = await fh.read(b, 0, n, pos);
    if (!bytesRead) return;
    pos += bytesRead;
    yield b.subarray(0, bytesRead);
    progress(pos);
  }
}

export async function loadTsv(
  c: PacketConnection,
  file: { filename: string; size: number },
  fh: FileHandle,
  table: string,
  policy: DuplicatePolicy,
  extras: ExtraColumn[],
  progress: (end: number) => void,
): Promise<void> {
  const { columns, start } = await header(fh, file.filename, file.size);
  const ok = await c.loadLocal(
    loadDataSQL(table, columns, policy, extras),
    blocks(fh, start, file.size, progress),
  );
  await refuseWarnings(c, ok, policy, file.filename, 'load it with INSERT statements to see which row');
}

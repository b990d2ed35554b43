// LOAD DATA LOCAL INFILE of tab-separated rows, as the dump's files and Sync's large transactions
// send them: the bytes of each value as they are (CHARACTER SET binary), NULL as \N, the field and
// line separators and the escape character escaped. LOAD DATA LOCAL never stops at a bad row (a
// duplicate, a value the column would change): it warns, so its warnings are read and refused.
import { ServerError, type OkInfo, type SqlSession } from './protocol.js';

/** The format clause of every LOAD DATA this project sends (after `INTO TABLE t`). */
export const TSV_FORMAT =
  "CHARACTER SET binary FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n'";

/** A growable byte buffer. */
export class ByteBuf {
  buf: Buffer;
  len = 0;

  constructor(size = 1 << 20) {
    this.buf = Buffer.allocUnsafe(size);
  }

  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const b = Buffer.allocUnsafe(size);
    this.buf.copy(b, 0, 0, this.len);
    this.buf = b;
  }

  ascii(s: string): void {
    this.ensure(s.length * 3);
    this.len += this.buf.write(s, this.len, 'utf8');
  }

  bytes(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.len);
    this.len += b.length;
  }

  /** The bytes so far (a view; valid until the next write). */
  view(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  reset(): void {
    this.len = 0;
  }
}

/** LOAD DATA's escapes in TSV_FORMAT: 0 = copy, else the character after the backslash. */
const TSV_ESC = new Uint8Array(256);
TSV_ESC[0x09] = 0x74; // \t
TSV_ESC[0x0a] = 0x6e; // \n
TSV_ESC[0x5c] = 0x5c; // \\

/** Writes `src[start, end)` into `dst` at `o` (room for twice its length), each byte with an entry
 * in `esc` as a backslash and that entry; the offset after it. */
export function escapeBytes(
  esc: Uint8Array,
  src: Buffer,
  start: number,
  end: number,
  dst: Buffer,
  o: number,
): number {
  for (let i = start; i < end; i++) {
    const x = src[i];
    const e = esc[x];
    if (e === 0) dst[o++] = x;
    else {
      dst[o++] = 0x5c;
      dst[o++] = e;
    }
  }
  return o;
}

/** Writes `src[start, end)` escaped for TSV_FORMAT into `dst` at `o` (see escapeBytes). */
export const escapeTsv = (src: Buffer, start: number, end: number, dst: Buffer, o: number): number =>
  escapeBytes(TSV_ESC, src, start, end, dst, o);

/** Appends `src[start, end)` as one field's bytes, escaped. */
export function tsvField(src: Buffer, start: number, end: number, out: ByteBuf): void {
  out.ensure((end - start) * 2);
  out.len = escapeTsv(src, start, end, out.buf, out.len);
}

/** Whether the server behind `c` takes LOAD DATA LOCAL inside a transaction of ours: its
 * @@local_infile is on (a server without the variable takes INSERTs), and it is not TiDB, whose
 * LOAD DATA commits every 20 000 rows by itself (tidb_dml_batch_size), which would break the
 * transaction that keeps rows and checkpoint together. */
export async function takesLoadDataLocal(c: SqlSession): Promise<boolean> {
  try {
    const [r] = await c.query('SELECT @@local_infile AS v, VERSION() AS version');
    return r?.v === '1' && !/tidb/i.test(r.version ?? '');
  } catch {
    return false;
  }
}

const DUP_ENTRY = 1062;

/** What a LOAD DATA's duplicates are: replaced (REPLACE), skipped (IGNORE), or errors. */
export type DuplicatePolicy = 'replace' | 'ignore' | 'error';

/** The duplicate keyword of a LOAD DATA under `policy` (an error policy loads with IGNORE and
 * refuses the duplicates it was warned of). */
export const duplicateKeyword = (policy: DuplicatePolicy) => (policy === 'replace' ? 'REPLACE' : 'IGNORE');

/** Throws the error INSERT would have given for the first of a LOAD DATA's warnings that is not an
 * ignored duplicate (under the error policy a duplicate too). `what` names the data, and `fix` what
 * to do, for the case the server lists fewer warnings than it counted. */
export async function refuseWarnings(
  c: SqlSession,
  ok: OkInfo,
  policy: DuplicatePolicy,
  what: string,
  fix: string,
): Promise<void> {
  if (!ok.warnings) return;
  const skipped = Number(/Skipped: (\d+)/.exec(ok.info ?? '')?.[1] ?? -1);
  if (policy === 'ignore' && skipped === ok.warnings) return; // each warning a duplicate skipped
  const warnings = await c.query('SHOW WARNINGS');
  const bad =
    warnings.find((w) => !(policy === 'ignore' && Number(w.Code) === DUP_ENTRY)) ??
    (policy === 'ignore' ? undefined : warnings[0]);
  if (bad)
    throw new ServerError(
      Number(bad.Code),
      Number(bad.Code) === DUP_ENTRY ? '23000' : 'HY000',
      bad.Message ?? '',
    );
  throw new ServerError(
    0,
    'HY000',
    `${what}: LOAD DATA gave ${ok.warnings} warnings (${ok.info}), more than the server lists; ${fix}`,
  );
}

// A binlog position: a file name and a byte offset in it. Files compare by their numeric suffix.
import { DMError, ERR } from '../errors.js';

export interface BinlogPosition {
  file: string;
  pos: number;
}

const SUFFIX = /^(.*)\.(\d+)$/;

/** Splits `mysql-bin.000012` into its base name and index (12). */
export function splitBinlogName(file: string): { base: string; index: number } {
  const m = SUFFIX.exec(file);
  if (!m)
    throw new DMError(
      ERR.invalidBinlogFilename,
      `invalid binlog file name '${file}': expected '<base>.<number>'`,
    );
  return { base: m[1], index: Number(m[2]) };
}

/** Parses `(mysql-bin.000001, 1234)` (the query-status form) or `mysql-bin.000001:1234`. */
export function parsePosition(text: string): BinlogPosition {
  const s = text.trim();
  let m = /^\(\s*([^,\s]+)\s*,\s*(\d+)\s*\)$/.exec(s);
  if (!m) m = /^([^:\s]+):(\d+)$/.exec(s);
  if (!m)
    throw new DMError(
      ERR.invalidBinlogPos,
      `invalid binlog position '${text}': expected '(file, pos)' or 'file:pos'`,
    );
  return { file: m[1], pos: Number(m[2]) };
}

/** Formats as query-status shows it: `(mysql-bin.000001, 1234)`. */
export function formatPosition(p: BinlogPosition): string {
  return `(${p.file}, ${p.pos})`;
}

/** Orders positions: by file index (then name), then offset. */
export function comparePosition(a: BinlogPosition, b: BinlogPosition): number {
  if (a.file !== b.file) {
    const sa = SUFFIX.exec(a.file);
    const sb = SUFFIX.exec(b.file);
    if (sa && sb && sa[1] === sb[1]) return Number(sa[2]) - Number(sb[2]);
    return a.file < b.file ? -1 : 1;
  }
  return a.pos - b.pos;
}

/** DM's relay binlog names: a file of the first sub-directory keeps its upstream name
 * (`mysql-bin.000003`, as the seed shows positions); one of a later sub-directory (after the
 * upstream server changed) is `mysql-bin|000002.000003`, its sub-directory's suffix in the name. */
export function relayName(suffix: number, file: string): string {
  if (suffix <= 1) return file;
  const m = /^(.*)\.(\d+)$/.exec(file);
  return m ? `${m[1]}|${String(suffix).padStart(6, '0')}.${m[2]}` : file;
}

export function parseRelayName(name: string): { suffix: number; file: string } {
  const m = /^(.*)\|(\d{6,})\.(\d+)$/.exec(name);
  return m ? { suffix: Number(m[2]), file: `${m[1]}.${m[3]}` } : { suffix: 1, file: name };
}

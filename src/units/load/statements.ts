// Reads a dump data file as a sequence of statements without holding the file in memory. In the
// files the dump writes, every raw newline is structural (values escape theirs), and a statement
// ends at a line ending with ';'.
import type { FileHandle } from 'node:fs/promises';

const BLOCK = 4 << 20;

/** Splits bytes into statements; `rest` is the unfinished tail to carry into the next block. */
export function splitStatements(buf: Buffer): { statements: Buffer[]; rest: Buffer } {
  const statements: Buffer[] = [];
  let start = 0;
  for (let nl = buf.indexOf(0x0a, start); nl >= 0; nl = buf.indexOf(0x0a, nl + 1)) {
    if (nl > start && buf[nl - 1] === 0x3b) {
      statements.push(buf.subarray(start, nl - 1));
      start = nl + 1;
    } else if (nl === start) start = nl + 1; // blank line
  }
  return { statements, rest: buf.subarray(start) };
}

/** Yields each statement (without its ';') and the file offset just after it; `size`: the file's
 * (a small file is read in a block of its size, not 4 MB). */
export async function* readStatements(
  fh: FileHandle,
  size = Infinity,
): AsyncGenerator<{ sql: Buffer; end: number }> {
  let carry: Buffer = Buffer.alloc(0);
  let totalRead = 0;
  for (;;) {
    const n = Math.max(1, Math.min(BLOCK, size - totalRead));
    const block = Buffer.allocUnsafe(n);
    const { bytesRead } = await fh.read(block, 0, n, null);
    if (bytesRead === 0) break;
    totalRead += bytesRead;
    const data = carry.length
      ? Buffer.concat([carry, block.subarray(0, bytesRead)])
      : block.subarray(0, bytesRead);
    const dataStart = totalRead - data.length;
    const { statements, rest } = splitStatements(data);
    for (const s of statements)
      yield { sql: s, end: dataStart + (s.byteOffset - data.byteOffset) + s.length + 2 };
    carry = Buffer.from(rest);
  }
  const tail = carry.toString('latin1').trim();
  if (tail) yield { sql: Buffer.from(tail.replace(/;$/, ''), 'latin1'), end: totalRead };
}

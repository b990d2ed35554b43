// Reading binlog files from disk: a 4-byte magic header, then events back to back.
import { open } from 'node:fs/promises';

export const BINLOG_MAGIC = Buffer.from([0xfe, 0x62, 0x69, 0x6e]); // \xfe 'bin'

export interface RawEvent {
  buf: Buffer;
  start: number;
  end: number;
  /** Offset of the event in the file. */
  pos: number;
}

/** Yields every complete event of a binlog file, in bounded memory (reads `chunk` bytes at a time).
 * A torn last event (a crash mid-write) ends iteration; `onTail` learns where the complete part ends. */
export async function* readBinlogFile(
  path: string,
  opts: { from?: number; chunk?: number; onTail?: (validEnd: number, fileSize: number) => void } = {},
): AsyncGenerator<RawEvent> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const magic = Buffer.alloc(4);
    await fh.read(magic, 0, 4, 0);
    if (!magic.equals(BINLOG_MAGIC)) throw new Error(`${path} is not a binlog file (bad magic)`);
    const chunk = opts.chunk ?? 1 << 20;
    let filePos = opts.from ?? 4;
    let buf = Buffer.alloc(0);
    let bufPos = filePos; // file offset of buf[0]
    while (true) {
      let off = filePos - bufPos;
      while (buf.length - off >= 19) {
        const size = buf.readUInt32LE(off + 9);
        if (size < 19) throw new Error(`${path}: invalid event size ${size} at ${filePos}`);
        if (buf.length - off < size) break;
        yield { buf, start: off, end: off + size, pos: filePos };
        off += size;
        filePos += size;
      }
      if (filePos >= size) break;
      const rest = buf.subarray(off);
      const next = Buffer.alloc(
        Math.max(chunk, rest.length + 19, rest.length >= 19 ? rest.readUInt32LE(9) : 0),
      );
      rest.copy(next, 0);
      const { bytesRead } = await fh.read(
        next,
        rest.length,
        next.length - rest.length,
        filePos + rest.length,
      );
      if (bytesRead === 0) break;
      buf = next.subarray(0, rest.length + bytesRead);
      bufPos = filePos;
    }
    opts.onTail?.(filePos, size);
  } finally {
    await fh.close();
  }
}

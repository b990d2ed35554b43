// Writes the upstream's binlog events into one relay sub-directory, byte for byte: every event at
// the offset its header says (log_pos − size), so a relay file equals the upstream file it copies.
// Events the server makes up for the dump (the fake ROTATE, the FORMAT_DESCRIPTION resent with
// log_pos 0, heartbeats) are not in the upstream file and are not written; a ROTATE, real or fake,
// to another file starts that file.
import { open, rm, type FileHandle } from 'node:fs/promises';
import type { RawBatch } from '../../binlog/client.js';
import { BINLOG_MAGIC } from '../../binlog/file.js';
import { comparePosition } from '../../binlog/position.js';
import { relayError, type RelayDir } from './layout.js';

export class RelayWriter {
  private fh?: FileHandle;
  /** The file being written and its size on disk (every byte before it is complete). */
  file = '';
  size = 0;

  constructor(
    private readonly dir: RelayDir,
    readonly sub: string,
    /** Called when the writer moves on to another file (for readers following it). */
    private readonly onFile: (file: string) => void = () => undefined,
  ) {}

  /** Continues `file` at `pos`: what lies beyond `pos` (a torn event, or a transaction the meta
   * did not cover yet) is cut off, and so are later files of this sub-directory; they are
   * relayed again. A missing file, or one shorter than `pos` (cut by a system crash before the
   * page cache reached the disk), starts again empty. Returns the position it continues at. */
  async openAt(file: string, pos: number): Promise<number> {
    for (const f of await this.dir.files(this.sub)) {
      if (comparePosition({ file: f, pos: 0 }, { file, pos: 0 }) > 0) await rm(this.dir.path(this.sub, f));
    }
    await this.close();
    const path = this.dir.path(this.sub, file);
    let fh: FileHandle;
    try {
      fh = await open(path, 'r+');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      fh = await open(path, 'w+');
    }
    const size = (await fh.stat()).size;
    if (size < pos || size < 4) {
      await fh.close();
      await this.create(file);
      return 4;
    }
    const magic = Buffer.alloc(4);
    await fh.read(magic, 0, 4, 0);
    if (!magic.equals(BINLOG_MAGIC)) {
      await fh.close();
      throw relayError(
        `relay file ${path} is not a binlog file`,
        `Remove it and the relay directory's ${this.sub}/relay.meta, or the whole relay directory.`,
      );
    }
    if (size > pos) await fh.truncate(pos);
    this.fh = fh;
    this.file = file;
    this.size = pos;
    return pos;
  }

  private async create(file: string): Promise<void> {
    await this.close();
    const fh = await open(this.dir.path(this.sub, file), 'w');
    await fh.write(BINLOG_MAGIC, 0, 4, 0);
    this.fh = fh;
    this.file = file;
    this.size = 4;
    this.onFile(file);
  }

  /** Writes a read's events where they belong. */
  async write(b: RawBatch): Promise<void> {
    const { events, bytes, ends } = b;
    let from = 0; // bytes[from, upto) are to be written at this.size
    let upto = 0;
    let at = this.size;
    const flush = async () => {
      if (from < upto) this.size = await writeAll(this.fh!, bytes.subarray(from, upto), this.size);
      from = upto;
    };
    /** What is written so far, then not the bytes up to `end` (an event not in the file). */
    const skip = async (end: number) => {
      await flush();
      from = upto = end;
    };
    for (let i = 0; i < events.length; i++) {
      const ev = events[i];
      const end = ends[i];
      if (ev.kind === 'rotate' && ev.artificial) {
        await skip(end);
        if (ev.nextFile !== this.file) {
          await this.create(ev.nextFile);
          at = this.size;
        }
        continue;
      }
      if (ev.kind === 'heartbeat' || ev.header.logPos === 0) {
        await skip(end);
        continue;
      }
      const start = ev.header.logPos - ev.header.eventSize;
      if (start !== at) {
        await flush();
        throw relayError(
          `the upstream sent an event for (${this.file}, ${start}) but the relay file ends at ${at}`,
          'The relay restarts from its meta; if this repeats, remove the relay directory and start the relay again.',
        );
      }
      at += end - upto;
      upto = end;
      if (ev.kind === 'rotate') {
        await flush();
        await this.create(ev.nextFile);
        at = this.size;
      }
    }
    await flush();
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    try {
      await fh?.datasync(); // a finished file is made durable once
    } finally {
      await fh?.close();
    }
  }
}

/** Writes all of `bytes` at `pos` (a write may take fewer bytes than given: it goes on with the
 * rest); returns the offset after them. */
export async function writeAll(
  fh: Pick<FileHandle, 'write'>,
  bytes: Uint8Array,
  pos: number,
): Promise<number> {
  for (let off = 0; off < bytes.length;) {
    const { bytesWritten } = await fh.write(bytes, off, bytes.length - off, pos + off);
    off += bytesWritten;
  }
  return pos + bytes.length;
}

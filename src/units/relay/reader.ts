// Reads a source's relay files for Sync, from a position on: decoded events in batches, like the
// binlog client's. It follows the file the relay is writing up to the bytes the relay has
// completed, and sleeps until the relay says it wrote more (no polling); at the end of a finished
// file it goes on with the next file, or the next sub-directory's first file.
import { relayDataCorrupted } from '../../metrics/registry.js';
import { open, type FileHandle } from 'node:fs/promises';
import { BinlogDecoder, type RowColumnsOf } from '../../binlog/decoder.js';
import type { BinlogEvent, RotateEvent } from '../../binlog/events.js';
import type { EventSource } from '../../binlog/source.js';
import { TxnBoundary } from '../../binlog/boundary.js';
import { comparePosition, parseRelayName, type BinlogPosition } from '../../binlog/position.js';
import { detectGtidFlavor, MariadbGtidSet } from '../../binlog/gtid.js';
import { parseSubDir, relayError } from './layout.js';
import type { RelayUnit } from './relay.js';

const CHUNK = 1 << 20;

export class RelayReader implements EventSource {
  readonly local = true;
  private closed = false;
  private wake?: () => void;
  /** MariaDB: the GTIDs passed so far, to skip what a new upstream server sends again. */
  private readonly seen?: MariadbGtidSet;
  /** After entering a later sub-directory: transactions already seen are dropped until the first
   * new one (the relay starts a new server at a file that begins before the last GTID it had). */
  private dedup = false;
  /** The transaction being skipped (a repeat), followed to its end. */
  private skipping?: TxnBoundary;

  constructor(
    private readonly relay: RelayUnit,
    private readonly start: { sub: number; file: string; pos: number },
    /** Who reads (for purge protection), e.g. the subtask's name. */
    private readonly id: string,
    /** The GTID set at `start`, when known. */
    startGtid = '',
    /** What to decode of each table's rows (see BinlogDecoder). */
    private readonly rowColumns?: RowColumnsOf,
  ) {
    this.relay.retain(id, { sub: start.sub, file: start.file });
    if (startGtid && detectGtidFlavor(startGtid) === 'mariadb') this.seen = MariadbGtidSet.parse(startGtid);
  }

  close(): void {
    this.closed = true;
    this.wake?.();
  }

  /** Keeps the relay files from `pos` (a relay name) on: the reader may read again from there. */
  retainFrom(pos: BinlogPosition): void {
    const { suffix, file } = parseRelayName(pos.file);
    const sub = this.relay.subDirs.findIndex((d) => parseSubDir(d).suffix === suffix);
    if (sub >= 0) this.relay.retain(this.id, { sub, file });
  }

  /** Whether `ev` goes to the reader (false: part of a transaction it has already seen). */
  private admit(ev: BinlogEvent): boolean {
    if (this.skipping) {
      if (this.skipping.feed(ev) === 'end') this.skipping = undefined;
      return false;
    }
    if (ev.kind === 'mariadb_gtid' && this.seen) {
      const g = ev.gtid;
      if (this.dedup && (this.seen.domains.get(g.domain)?.seq ?? -1) >= g.seq) {
        this.skipping = new TxnBoundary();
        this.skipping.feed(ev);
        return false;
      }
      this.dedup = false;
      this.seen.add(g);
    }
    return true;
  }

  private async sleep(seen: number): Promise<void> {
    if (this.closed) return;
    await Promise.race([
      this.relay.changed(seen),
      new Promise<void>((r) => (this.wake = r)),
      // A safety net only: the relay notifies on every write.
      new Promise<void>((r) => setTimeout(r, 5000).unref()),
    ]);
  }

  async *batches(): AsyncGenerator<BinlogEvent[]> {
    let { sub, file, pos } = this.start;
    let fh: FileHandle | undefined;
    try {
      for (;;) {
        const r = await this.openFile(sub, file, pos);
        fh = r.fh;
        const decoder = r.decoder;
        let carry = Buffer.alloc(0);
        let off = pos; // file offset of carry[0]
        let rotateTo: string | undefined;
        for (;;) {
          if (this.closed) return;
          const seen = this.relay.version;
          const head = this.relay.head;
          const active = !!head && head.sub === sub && head.file === file;
          const limit = active ? head.size : (await fh.stat()).size;
          const have = off + carry.length;
          if (have < limit) {
            const n = Math.min(limit - have, Math.max(CHUNK, carry.length >= 19 ? carry.readUInt32LE(9) : 0));
            const buf = Buffer.allocUnsafe(carry.length + n);
            carry.copy(buf, 0);
            const { bytesRead } = await fh.read(buf, carry.length, n, have);
            const data = buf.subarray(0, carry.length + bytesRead);
            const out: BinlogEvent[] = [];
            let p = 0;
            while (data.length - p >= 19) {
              const size = data.readUInt32LE(p + 9);
              if (size < 19) throw torn(this.relay, sub, file, off + p, `invalid event size ${size}`);
              if (data.length - p < size) break;
              const ev = decoder.decode(data, p, p + size);
              p += size;
              if (ev.kind === 'rotate' && !ev.artificial) {
                rotateTo = ev.nextFile;
                ev.nextFile = this.relay.nameOf(sub, ev.nextFile);
              }
              if (this.admit(ev)) out.push(ev);
            }
            carry = data.subarray(p);
            off += p;
            if (out.length) yield out;
            if (rotateTo) break;
            continue;
          }
          if (active || !head) {
            await this.sleep(seen);
            continue;
          }
          // A finished file, read to its end.
          if (carry.length) throw torn(this.relay, sub, file, off, 'the file ends inside an event');
          const next = await this.nextFile(sub, file);
          if (!next) {
            await this.sleep(seen); // the relay has not created the next file yet
            continue;
          }
          yield [artificialRotate(this.relay.nameOf(next.sub, next.file))];
          rotateTo = next.file;
          if (next.sub !== sub) this.dedup = true;
          sub = next.sub;
          break;
        }
        await fh.close();
        fh = undefined;
        file = rotateTo!;
        pos = 4;
      }
    } finally {
      // The files stay retained: the subtask reads again from its checkpoint when it resumes.
      await fh?.close();
    }
  }

  private async openFile(
    sub: number,
    file: string,
    pos: number,
  ): Promise<{ fh: FileHandle; decoder: BinlogDecoder }> {
    const path = this.relay.dir.path(this.relay.subDirs[sub], file);
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      throw relayError(
        `relay file ${path} cannot be read: ${(e as Error).message}`,
        'A relay file a subtask needs is gone (purged by hand?); restart the task from a checkpoint the upstream still has, with enable-relay false or a fresh relay directory.',
      );
    }
    const decoder = new BinlogDecoder({ file, rowColumns: this.rowColumns, skipAnnotations: true });
    // The FORMAT_DESCRIPTION at the file's start tells how to read the rest. A file the relay
    // has just created may not hold it yet (the relay starts again at a file's start, and a
    // subtask may start further in): wait for it, as for any event not written yet.
    while (pos > 4 && !this.closed) {
      const seen = this.relay.version;
      const h = Buffer.alloc(19);
      const { bytesRead } = await fh.read(h, 0, 19, 4);
      const size = bytesRead === 19 ? h.readUInt32LE(9) : 0;
      if (size >= 19) {
        const b = Buffer.alloc(size);
        if ((await fh.read(b, 0, size, 4)).bytesRead === size) {
          decoder.decode(b, 0, size);
          break;
        }
      }
      await this.sleep(seen);
    }
    return { fh, decoder };
  }

  /** The file after `file`: the next of its sub-directory, else the first of the next one. */
  private async nextFile(sub: number, file: string): Promise<{ sub: number; file: string } | undefined> {
    const files = await this.relay.dir.files(this.relay.subDirs[sub]);
    const later = files.find((f) => comparePosition({ file: f, pos: 0 }, { file, pos: 0 }) > 0);
    if (later) return { sub, file: later };
    if (sub + 1 < this.relay.subDirs.length) {
      const first = (await this.relay.dir.files(this.relay.subDirs[sub + 1]))[0];
      if (first) return { sub: sub + 1, file: first };
    }
    return undefined;
  }
}

function artificialRotate(nextFile: string): RotateEvent {
  return {
    kind: 'rotate',
    header: { timestamp: 0, typeCode: 4, serverId: 0, eventSize: 0, logPos: 0, flags: 0x20 },
    position: 4,
    nextFile,
    artificial: true,
  };
}

/** A relay file that cannot be what the relay wrote (DM's dm_relay_data_corruption counts these). */
function torn(relay: RelayUnit, sub: number, file: string, at: number, what: string): Error {
  relayDataCorrupted();
  return relayError(
    `relay file ${relay.dir.path(relay.subDirs[sub] ?? '', file)} is damaged at ${at}: ${what}`,
    'Remove the relay directory (the relay starts again from the subtasks\u2019 checkpoints) and resume the task.',
  );
}

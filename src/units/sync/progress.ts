// Where Sync is: the low-water mark (every upstream transaction up to it is applied) over the
// transactions in flight, and the figures query-status shows (TPS, lag, synced). Pure: the caller
// passes the clock and the upstream's position.
import { parseGtidSet, type Flavor, type GtidSet } from '../../binlog/gtid.js';
import { comparePosition, type BinlogPosition } from '../../binlog/position.js';
import { Fifo } from '../../fifo.js';
import type { Location } from '../../binlog/location.js';
import type { Txn } from './txn.js';

/** The part of a transaction the low-water mark needs. */
export type Tracked = Pick<Txn, 'seq' | 'end' | 'endText' | 'gtid' | 'timestamp'>;

export class LowWaterMark {
  private pos?: BinlogPosition;
  private gtidText = '';
  private gtidSet?: GtidSet;
  private readonly pending = new Fifo<Tracked>();
  private readonly done = new Set<number>();
  /** Where the stream was last seen between transactions (events outside any transaction). */
  private between?: BinlogPosition;

  /** Starts over at `start` (a new run): nothing in flight. */
  reset(start: Location, flavor: Flavor): void {
    this.pos = start.pos;
    this.gtidText = start.gtid;
    this.gtidSet = start.gtid ? parseGtidSet(flavor, start.gtid) : undefined;
    this.pending.clear();
    this.done.clear();
    this.between = undefined;
  }

  get known(): boolean {
    return this.pos !== undefined;
  }

  /** The low-water mark's position (undefined before the first run). */
  get position(): BinlogPosition | undefined {
    return this.pos;
  }

  /** The mark with its GTID set (the set's text is made when asked for). */
  mark(): Location {
    return { pos: this.pos!, gtid: this.gtidSet?.toString() ?? this.gtidText };
  }

  /** The mark once `txns` (in the order read) are applied too, without moving it: what a commit of
   * them records, since it lands with them. It passes the transactions in flight before them that
   * are applied already, then theirs; it stops at the first one neither is. */
  markWith(txns: readonly Tracked[]): Location {
    let n = 0;
    let k = 0;
    for (; n < this.pending.length; n++) {
      const seq = this.pending.at(n)!.seq;
      if (k < txns.length && txns[k].seq === seq) k++;
      else if (!this.done.has(seq)) break;
    }
    if (!n) return this.mark();
    const set = this.gtidSet?.clone();
    for (let i = 0; set && i < n; i++) {
      const g = this.pending.at(i)!.gtid;
      if (g) set.addGtid(g);
    }
    return { pos: this.pending.at(n - 1)!.end, gtid: set?.toString() ?? this.gtidText };
  }

  get inFlight(): number {
    return this.pending.length;
  }

  /** The oldest transaction not applied yet. */
  oldest(): Tracked | undefined {
    return this.pending.at(0);
  }

  /** A transaction was read: it is in flight until complete(). */
  read(t: Tracked): void {
    this.pending.push(t);
  }

  /** A transaction is applied (or needs nothing): the mark moves over the done prefix. */
  complete(t: Tracked): void {
    this.done.add(t.seq);
    let n = 0;
    while (n < this.pending.length && this.done.has(this.pending.at(n)!.seq)) {
      const head = this.pending.at(n++)!;
      this.done.delete(head.seq);
      if (head.gtid && this.gtidSet) this.gtidSet.addGtid(head.gtid);
    }
    if (n) {
      this.pos = this.pending.at(n - 1)!.end;
      this.pending.drop(n);
      this.passBetween();
    }
  }

  /** The stream is between transactions at `pos` (a rotate, FLUSH LOGS' events): once nothing is
   * in flight the mark moves on to there, so `synced` tells the truth. */
  passed(pos: BinlogPosition): void {
    this.between = pos;
    this.passBetween();
  }

  private passBetween(): void {
    const b = this.between;
    if (b && !this.pending.length && this.pos && comparePosition(b, this.pos) > 0) this.pos = b;
  }
}

/** Events read, sampled about ten times a second, for the recent TPS. */
export class EventRate {
  total = 0;
  private startedAt = 0;
  private samples: { t: number; events: number }[] = [];

  start(now: number): void {
    this.startedAt = now;
  }

  sample(now: number): void {
    const last = this.samples[this.samples.length - 1];
    if (!last || now - last.t >= 100) {
      this.samples.push({ t: now, events: this.total });
      if (this.samples.length > 40) this.samples.splice(0, 20);
    }
  }

  /** Events per second since the start, and over about the last second. */
  tps(now: number): { total: number; recent: number } {
    const secs = this.startedAt ? (now - this.startedAt) / 1000 : 0;
    const old = this.samples.find((r) => r.t >= now - 1100) ?? { t: now, events: this.total };
    const recentSecs = Math.max(0.1, (now - old.t) / 1000);
    return {
      total: secs > 0 ? Math.round(this.total / secs) : 0,
      recent: Math.round((this.total - old.events) / recentSecs),
    };
  }
}

export interface LagInput {
  now: number;
  /** The low-water mark, as the upstream names it. */
  lwm?: BinlogPosition;
  /** The upstream's position, and whether it is fresh (Sync runs, or it was read just now). */
  master?: BinlogPosition;
  fresh: boolean;
  /** Commit time (s) of the oldest transaction in flight. */
  oldest?: number;
  /** Commit time (s) of the last transaction read. */
  lastRead: number;
}

/** Whether Sync has applied everything the upstream has, and how far behind it is (seconds). */
export function lag(i: LagInput): { synced: boolean; secondsBehind: number } {
  const synced =
    i.fresh && !!i.master && !!i.lwm && comparePosition(i.lwm, i.master) >= 0 && i.oldest === undefined;
  const behind = synced
    ? 0
    : i.oldest !== undefined
      ? i.now / 1000 - i.oldest
      : i.lastRead
        ? i.now / 1000 - i.lastRead
        : 0;
  return { synced, secondsBehind: Math.max(0, Math.round(behind)) };
}

export interface BinlogSize {
  file: string;
  size: number;
}

/** DM's unsynced binlog size: the rest of Sync's file and every later file (the upstream's
 * SHOW BINARY LOGS), or within one file when the sizes are not known; undefined when it cannot
 * be told. */
export function remainingBytes(
  sizes: readonly BinlogSize[] | undefined,
  at: BinlogPosition,
  master: BinlogPosition | undefined,
): number | undefined {
  const mine = sizes?.find((s) => s.file === at.file);
  if (sizes && mine) {
    let n = Math.max(0, mine.size - at.pos);
    for (const s of sizes)
      if (comparePosition({ file: s.file, pos: 0 }, { file: at.file, pos: 0 }) > 0) n += s.size;
    return n;
  }
  return master && master.file === at.file ? Math.max(0, master.pos - at.pos) : undefined;
}

/** Seconds to catch up at `bytesPerSec` (DM's dm_syncer_remaining_time); undefined without a rate. */
export function remainingSeconds(bytes: number | undefined, bytesPerSec: number): number | undefined {
  if (bytes === 0) return 0;
  return bytes === undefined || !(bytesPerSec > 0) ? undefined : Math.round(bytes / bytesPerSec);
}

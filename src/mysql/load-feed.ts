// One LOAD DATA LOCAL INFILE fed with rows as they are produced: the server reads a statement's
// data from the socket as it comes, so rows produced in chunks go in without a round trip (and a
// wait for the producer) per chunk. At most one chunk waits besides the one being written. A feed
// left without rows for IDLE_MS ends its statement (the server gives up on a LOAD DATA whose data
// stops for net_read_timeout, 30 s by default), and so does one older than MAX_AGE_MS (a target's
// max_statement_time would interrupt a statement that lasts a whole large transaction); the
// producer then starts another.
import type { OkInfo } from './protocol.js';

const IDLE_MS = 1000;
const MAX_AGE_MS = 1000;

export type LoadLocal = (sql: string, data: AsyncIterable<Buffer>) => Promise<OkInfo>;

export class LoadFeed {
  private readonly queue: Buffer[] = [];
  private ended = false;
  /** Wakes the data generator (rows or the end came). */
  private wakeData?: () => void;
  /** Wakes a producer waiting for the queue to empty. */
  private wakeProducer?: () => void;
  /** When the statement stops taking rows. */
  private readonly ends: number;
  /** The statement's outcome (once the data ended). */
  readonly done: Promise<OkInfo>;

  constructor(
    load: LoadLocal,
    readonly sql: string,
    first: Buffer,
    private readonly idleMs = IDLE_MS,
    maxAgeMs = MAX_AGE_MS,
  ) {
    this.ends = Date.now() + maxAgeMs;
    this.queue.push(first);
    this.done = load(sql, this.data());
    this.done.catch(() => {
      this.ended = true;
      this.wakeProducer?.();
    });
  }

  /** Whether the statement still takes rows. */
  get open(): boolean {
    return !this.ended;
  }

  /** Adds rows once the rows before them are on their way; false when the statement ended
   * meanwhile (idle, old enough, or failed: `done` says how), so the rows must go in another
   * statement. */
  async push(rows: Buffer): Promise<boolean> {
    while (this.queue.length && !this.ended) await new Promise<void>((r) => (this.wakeProducer = r));
    if (!this.ended && Date.now() >= this.ends) {
      this.ended = true;
      this.wakeData?.();
    }
    if (this.ended) return false;
    this.queue.push(rows);
    this.wakeData?.();
    return true;
  }

  /** Ends the data; resolves with the statement's outcome. */
  finish(): Promise<OkInfo> {
    this.ended = true;
    this.wakeData?.();
    return this.done;
  }

  private async *data(): AsyncGenerator<Buffer> {
    for (;;) {
      const rows = this.queue.shift();
      if (rows) {
        this.wakeProducer?.();
        yield rows;
        continue;
      }
      if (this.ended) return;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((r) => {
        this.wakeData = r;
        timer = setTimeout(r, this.idleMs);
      });
      clearTimeout(timer);
      this.wakeData = undefined;
      if (!this.queue.length) this.ended = true; // idle (or finished): the statement ends
    }
  }
}

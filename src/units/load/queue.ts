// The data files waiting to be imported, biggest first. While the dump runs more arrive, until the
// queue is closed. A file is handed out only when its table is free: one AUTO_INCREMENT table
// takes one LOAD DATA at a time (see load.ts).
export interface QueuedFile {
  filename: string;
  size: number;
}

export class FileQueue<F extends QueuedFile> {
  private readonly files: F[];
  private open: boolean;
  private waiters: (() => void)[] = [];
  private aborts?: AbortSignal;

  constructor(files: F[], open = false) {
    this.files = [...files].sort((a, b) => b.size - a.size);
    this.open = open;
  }

  get length(): number {
    return this.files.length;
  }

  /** More files (the dump completed them). */
  add(files: F[]): void {
    for (const f of files) {
      const i = this.files.findIndex((x) => x.size < f.size);
      this.files.splice(i < 0 ? this.files.length : i, 0, f);
    }
    this.wake();
  }

  /** No more files come. */
  close(): void {
    this.open = false;
    this.wake();
  }

  /** A file's table became free again. */
  wake(): void {
    this.waiters.splice(0).forEach((w) => w());
  }

  /** The biggest file `free` accepts, waiting while there is none; undefined when none is left and
   * none will come, or `signal` aborted. */
  async take(free: (f: F) => boolean, signal: AbortSignal): Promise<F | undefined> {
    while (!signal.aborted) {
      const i = this.files.findIndex(free);
      if (i >= 0) return this.files.splice(i, 1)[0];
      if (!this.files.length && !this.open) return undefined;
      if (this.aborts !== signal) {
        this.aborts = signal; // one listener for every worker waiting on this signal
        signal.addEventListener('abort', () => this.wake(), { once: true });
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100); // a safety net
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return undefined;
  }
}

// A dump in progress, told to a Load that imports while the dump goes on: when the schema files
// are written, each data file once it is complete (written and closed), and how the dump ended.
// In-process only: after a restart, Load reads the directory of a finished dump.
export class DumpFeed {
  private readonly ready: string[] = [];
  private schemasWritten = false;
  /** true: the dump finished (its metadata is written); false: it failed or was stopped. */
  private result?: boolean;
  private waiters: (() => void)[] = [];

  private wake(): void {
    this.waiters.splice(0).forEach((w) => w());
  }

  private wait(): Promise<void> {
    return new Promise((r) => this.waiters.push(r));
  }

  /** Every schema file is written. */
  schemas(): void {
    this.schemasWritten = true;
    this.wake();
  }

  /** A data file is complete. */
  file(name: string): void {
    this.ready.push(name);
    this.wake();
  }

  /** The dump ended (the first call counts). */
  end(finished: boolean): void {
    this.result ??= finished;
    this.wake();
  }

  /** The dump finished: every file of it was announced. */
  get finished(): boolean {
    return this.result === true;
  }

  /** Resolves when the schema files are written: true; false when the dump failed first. */
  async schemasReady(): Promise<boolean> {
    while (!this.schemasWritten && this.result === undefined) await this.wait();
    return this.schemasWritten && this.result !== false;
  }

  /** The data files completed since the last call (waiting while there are none); undefined once
   * the dump ended (a failed dump's remaining files are not handed out). */
  async take(): Promise<string[] | undefined> {
    while (!this.ready.length && this.result === undefined) await this.wait();
    if (this.result === false || !this.ready.length) return undefined;
    return this.ready.splice(0);
  }
}

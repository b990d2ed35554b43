// Auto-resume with backoff, the one rule for a subtask and a relay: after a retryable error the
// work is resumed by itself, first after `firstMs`, then twice as long each time up to a minute;
// a run that does its work resets the delay; an operator's pause or stop cancels the pending one.
export class AutoResume {
  private timer?: NodeJS.Timeout;
  private delay: number;

  constructor(private readonly firstMs = 1000) {
    this.delay = firstMs;
  }

  /** Calls `resume` after the current delay (and doubles it); returns the delay. */
  schedule(resume: () => void): number {
    clearTimeout(this.timer);
    const delay = this.delay;
    this.delay = Math.min(60_000, delay * 2);
    this.timer = setTimeout(resume, delay);
    return delay;
  }

  /** The work went well: the next error waits the first delay again. */
  reset(): void {
    this.delay = this.firstMs;
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

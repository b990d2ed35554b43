// The relay's pull runs on a thread of its own (pull-thread.ts): receiving the upstream's binlog,
// checking each event's checksum and writing the relay file cost a core's share that Sync, on the
// main thread, then keeps. This side starts the thread, hears where it has written to, and stops it.
import type { BinlogClientOptions } from '../../binlog/client.js';
import type { BinlogPosition } from '../../binlog/position.js';
import { fromWire, type WireError } from '../../errors.js';
import { startThread } from '../../thread.js';

export interface PullStart {
  /** The relay directory and the sub-directory written. */
  dir: string;
  subDir: string;
  /** The upstream client's options; its start is where the relay file ends. */
  client: BinlogClientOptions & { start: BinlogPosition };
}

/** What the thread tells, in order. */
export type PullMessage =
  | { t: 'file'; file: string }
  | {
      t: 'moved';
      file: string;
      size: number;
      committed: BinlogPosition;
      gtid: string;
      bytes: number;
      seconds: number;
    }
  | { t: 'error'; error: WireError }
  | { t: 'done' };

export interface PullEvents {
  /** The writer started `file` (empty but for its magic bytes). */
  file(file: string): void;
  /** The file is complete up to `size`; the last complete transaction ends at `committed`. */
  moved(m: Extract<PullMessage, { t: 'moved' }>): void;
}

/** Pulls until `signal` aborts (resolves) or the pull fails (rejects with its error). */
export function pull(start: PullStart, signal: AbortSignal, on: PullEvents): Promise<void> {
  return new Promise((resolve, reject) => {
    // Its own young generation: the daemons' 32 MiB (for Sync) only made the thread's heap, and
    // the relay's peak RSS, larger (bench:scale relay: peak RSS 298 MB with it, 252 MB with 16).
    const thread = startThread(import.meta.url, 'pull-thread', start, { youngGenerationMb: 16 });
    let failure: Error | undefined;
    let done = false;
    const onAbort = () => thread.postMessage('close');
    signal.addEventListener('abort', onAbort);
    if (signal.aborted) onAbort();
    thread.on('message', (m: PullMessage) => {
      if (m.t === 'file') on.file(m.file);
      else if (m.t === 'moved') on.moved(m);
      else if (m.t === 'error') failure ??= fromWire(m.error);
      else done = true;
    });
    thread.on('error', (e) => (failure ??= e));
    thread.on('exit', (code) => {
      signal.removeEventListener('abort', onAbort);
      if (!failure && !done) failure = new Error(`the relay's pull thread exited with code ${code}`);
      if (failure) reject(failure);
      else resolve();
    });
  });
}

// Starting a master or a worker with its HTTP API: shared by dm-master, dm-worker and the
// all-in-one mode (a master that starts in-process workers when sources need them).
import { httpMasterLink } from '../api/master-api.js';
import { serve } from '../api/http.js';
import { workerRoutes } from '../api/worker-api.js';
import type { Logger } from '../log.js';
import { Worker } from '../worker/worker.js';
import { dialable } from './config-file.js';

export interface Running {
  addr: string;
  close(): Promise<void>;
}

export interface WorkerSettings {
  name: string;
  'worker-addr': string;
  'advertise-addr': string;
  join: string;
  /** Seconds. */
  'keepalive-ttl': number;
  /** Seconds, while the source runs a relay (DM's default 1800). */
  'relay-keepalive-ttl'?: number;
  /** Overrides the sources' relay-dir ('' = theirs). */
  'relay-dir'?: string;
}

export async function startWorker(s: WorkerSettings, log: Logger): Promise<Running & { worker: Worker }> {
  const ttlMs = Number(s['keepalive-ttl']) * 1000;
  // The worker needs the address the server got, and the server's routes need the worker.
  const made: { worker?: Worker } = {};
  const http = await serve(
    s['worker-addr'],
    workerRoutes(() => made.worker!),
    'dm-worker',
  );
  const addr = s['advertise-addr'] || dialable(http.addr);
  const joins = s.join.split(',').map((a) => dialable(a.trim()));
  const worker = (made.worker = new Worker(httpMasterLink(joins), {
    name: s.name || addr,
    addr,
    log,
    keepaliveTtlMs: ttlMs,
    relayKeepaliveTtlMs: s['relay-keepalive-ttl'] ? Number(s['relay-keepalive-ttl']) * 1000 : undefined,
    relayDir: s['relay-dir'] || undefined,
  }));
  worker.start();
  log.info({ name: worker.name, addr, join: s.join }, 'dm-worker started');
  return {
    addr,
    worker,
    close: async () => {
      await worker.close();
      await http.close();
    },
  };
}

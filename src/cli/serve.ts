// Starting a master or a worker with its HTTP API: shared by dm-master, dm-worker and the
// all-in-one mode (a master that starts in-process workers when sources need them).
import { httpMasterLink, masterRoutes } from '../api/master-api.js';
import { serve } from '../api/http.js';
import { httpWorkerLink, workerRoutes } from '../api/worker-api.js';
import type { Logger } from '../log.js';
import { Master } from '../master/master.js';
import { Worker } from '../worker/worker.js';
import { dialable } from './config-file.js';
import { loadSecretKey, useSecretKey } from '../task/encrypt.js';

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
  const worker = (made.worker = new Worker(httpMasterLink(dialable(s.join), ttlMs), {
    name: s.name || addr,
    addr,
    log,
    keepaliveTtlMs: ttlMs,
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

export interface MasterSettings {
  name: string;
  'master-addr': string;
  'advertise-addr': string;
  'data-dir': string;
  'all-in-one': boolean;
  /** A file with the hex AES-256 key for encrypted passwords ('' = DM's public key). */
  'secret-key-path'?: string;
}

export async function startMaster(s: MasterSettings, log: Logger, configText: string): Promise<Running> {
  const workers: Array<Running> = [];
  const made: { master?: Master } = {};
  useSecretKey(undefined);
  if (s['secret-key-path']) loadSecretKey(s['secret-key-path']);
  const http = await serve(
    s['master-addr'],
    masterRoutes(() => made.master!),
    'dm-master',
  );
  const addr = s['advertise-addr'] || dialable(http.addr);
  const master = (made.master = new Master({
    name: s.name,
    addr,
    dataDir: s['data-dir'] || `default.${s.name}`,
    log,
    link: httpWorkerLink,
    configText,
    needWorker: s['all-in-one']
      ? async () => {
          const name = `${s.name}-worker-${workers.length + 1}`;
          log.info({ worker: name }, 'all-in-one: starting an in-process dm-worker for a source without one');
          workers.push(
            await startWorker(
              { name, 'worker-addr': '127.0.0.1:0', 'advertise-addr': '', join: addr, 'keepalive-ttl': 10 },
              log,
            ),
          );
        }
      : undefined,
  }));
  try {
    await master.open();
  } catch (e) {
    await http.close();
    throw e;
  }
  log.info({ name: s.name, addr, dataDir: s['data-dir'] }, 'dm-master started');
  return {
    addr,
    close: async () => {
      await Promise.all(workers.map((w) => w.close()));
      await master.close();
      await http.close();
    },
  };
}

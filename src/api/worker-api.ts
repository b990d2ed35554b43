// The worker's HTTP API (what the master calls) and the master's HTTP client for it.
import type { HandleErrorRequest, WorkerLink } from '../master/master.js';
import type { WorkerStatus } from '../task/status.js';
import type { Assignment } from '../worker/assignment.js';
import type { Worker } from '../worker/worker.js';
import { call, type Route } from './http.js';

/** `w` gives the worker (it is made once the server knows its port). */
export function workerRoutes(w: () => Worker): Route[] {
  return [
    {
      method: 'POST',
      path: '/api/v1/assignment',
      handler: async (r) => {
        await w().apply(r.body as Assignment);
        return { result: true, msg: '' };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/status',
      handler: async (r) => w().status(r.query.get('task') ?? undefined),
    },
    {
      method: 'POST',
      path: '/api/v1/handle-error',
      handler: async (r) => {
        const b = r.body as HandleErrorRequest;
        return { result: true, msg: w().handleError(b.task, b.op, b.sqls ?? [], b.binlogPos) };
      },
    },
    {
      method: 'POST',
      path: '/api/v1/relay/purge',
      handler: async (r) => {
        const b = r.body as { filename: string; subDir?: string };
        return { result: true, msg: '', purged: await w().purgeRelay(b.filename, b.subDir) };
      },
    },
  ];
}

interface Answer {
  result?: boolean;
  msg?: string;
}

function ok<T extends Answer>(a: T): T {
  if (a.result === false) throw new Error(a.msg);
  return a;
}

export const httpWorkerLink: WorkerLink = {
  async apply(addr: string, a: Assignment): Promise<void> {
    ok(await call<Answer>(addr, 'POST', '/api/v1/assignment', a, 60_000));
  },
  async status(addr: string, task?: string): Promise<WorkerStatus> {
    const q = task ? `?task=${encodeURIComponent(task)}` : '';
    return ok(await call<WorkerStatus>(addr, 'GET', `/api/v1/status${q}`, undefined, 10_000));
  },
  async handleError(addr: string, req: HandleErrorRequest): Promise<string> {
    return ok(await call<Answer>(addr, 'POST', '/api/v1/handle-error', req, 30_000)).msg ?? '';
  },
  async purgeRelay(addr: string, filename: string, subDir?: string): Promise<string[]> {
    const a = ok(
      await call<Answer & { purged: string[] }>(
        addr,
        'POST',
        '/api/v1/relay/purge',
        { filename, subDir },
        60_000,
      ),
    );
    return a.purged;
  },
};

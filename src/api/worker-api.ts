// The worker's HTTP API (what the master calls) and the master's HTTP client for it.
import { Metrics, METRICS_CONTENT_TYPE } from '../metrics/registry.js';
import { workerSamples } from '../metrics/samples.js';
import type { HandleErrorRequest, WorkerLink } from '../master/master.js';
import type { WorkerStatus } from '../task/status.js';
import type { Assignment } from '../worker/assignment.js';
import type { Worker } from '../worker/worker.js';
import { answerError, call, RawAnswer, type Route } from './http.js';
import { BadRequest, checkBody } from './body.js';
import { BINLOG_OPS } from '../units/sync/operators.js';
import { SCHEMA_OPS, type SchemaRequest } from '../units/sync/schema-op.js';
import type { ValidationAnswer, ValidationRequest } from '../units/sync/validator/ops.js';
import { VALIDATION_BODY, validationRequest } from './validation-body.js';

/** The fields of a binlog-schema request (the master's route adds `sources`). */
export const SCHEMA_BODY = {
  task: 'string',
  op: 'string',
  database: 'string',
  table: 'string',
  fromSource: 'boolean?',
  fromTarget: 'boolean?',
  schema: 'string?',
} as const;

/** `w` gives the worker (it is made once the server knows its port). */
export function workerRoutes(w: () => Worker): Route[] {
  const metrics = new Metrics(async () => workerSamples(w().status(), w().name, await w().relaySpace()));
  return [
    {
      method: 'GET',
      path: '/metrics',
      handler: async () => new RawAnswer(METRICS_CONTENT_TYPE, await metrics.render()),
    },
    {
      method: 'POST',
      path: '/apis/v1alpha1/assignment',
      handler: async (r) => {
        await w().apply(
          checkBody<Assignment>(
            r.body,
            { source: 'object?', relay: 'object?', subtasks: 'object[]' },
            'assignment',
          ),
        );
        return { result: true, msg: '' };
      },
    },
    {
      method: 'GET',
      path: '/apis/v1alpha1/status',
      handler: async (r) => w().status(r.query.get('task') ?? undefined),
    },
    {
      method: 'POST',
      path: '/apis/v1alpha1/handle-error',
      handler: async (r) => {
        const b = checkBody<HandleErrorRequest>(
          r.body,
          { task: 'string', op: 'string', sqls: 'string[]?', binlogPos: 'string?' },
          'handle-error',
        );
        if (!BINLOG_OPS.includes(b.op))
          throw new BadRequest(
            `handle-error: body field 'op' must be one of ${BINLOG_OPS.join(', ')}, not '${String(b.op)}'`,
          );
        return { result: true, msg: w().handleError(b.task, b.op, b.sqls ?? [], b.binlogPos) };
      },
    },
    {
      method: 'POST',
      path: '/apis/v1alpha1/schema',
      handler: async (r) => {
        const b = checkBody<SchemaRequest & { task: string }>(r.body, SCHEMA_BODY, 'schema');
        if (!SCHEMA_OPS.includes(b.op))
          throw new BadRequest(
            `schema: body field 'op' must be one of ${SCHEMA_OPS.join(', ')}, not '${String(b.op)}'`,
          );
        const { task, ...req } = b;
        return { result: true, msg: await w().operateSchema(task, req) };
      },
    },
    {
      method: 'POST',
      path: '/apis/v1alpha1/subtask-validation',
      handler: async (r) => {
        const b = checkBody<ValidationRequest & { task: string }>(
          r.body,
          { task: 'string', ...VALIDATION_BODY },
          'validation',
        );
        const { task, ...req } = b;
        return { result: true, ...(await w().validation(task, validationRequest(req))) };
      },
    },
    {
      method: 'POST',
      path: '/apis/v1alpha1/relay/purge',
      handler: async (r) => {
        const b = checkBody<{ filename: string; subDir?: string }>(
          r.body,
          { filename: 'string', subDir: 'string?' },
          'relay/purge',
        );
        return { result: true, msg: '', purged: await w().purgeRelay(b.filename, b.subDir) };
      },
    },
  ];
}

interface Answer {
  result?: boolean;
  msg?: string;
  error?: { code?: number; message?: string; workaround?: string };
}

function ok<T extends Answer>(a: T): T {
  if (a.result === false) throw answerError(a);
  return a;
}

export const httpWorkerLink: WorkerLink = {
  async apply(addr: string, a: Assignment): Promise<void> {
    ok(await call<Answer>(addr, 'POST', '/apis/v1alpha1/assignment', a, 60_000, 'dm-worker'));
  },
  async status(addr: string, task?: string): Promise<WorkerStatus> {
    const q = task ? `?task=${encodeURIComponent(task)}` : '';
    return ok(
      await call<WorkerStatus>(addr, 'GET', `/apis/v1alpha1/status${q}`, undefined, 10_000, 'dm-worker'),
    );
  },
  async handleError(addr: string, req: HandleErrorRequest): Promise<string> {
    return (
      ok(await call<Answer>(addr, 'POST', '/apis/v1alpha1/handle-error', req, 30_000, 'dm-worker')).msg ?? ''
    );
  },
  async operateSchema(addr: string, task: string, req: SchemaRequest): Promise<string> {
    return (
      ok(await call<Answer>(addr, 'POST', '/apis/v1alpha1/schema', { task, ...req }, 30_000, 'dm-worker'))
        .msg ?? ''
    );
  },
  async validation(addr: string, task: string, req: ValidationRequest): Promise<ValidationAnswer> {
    const a = ok(
      await call<Answer & ValidationAnswer>(
        addr,
        'POST',
        '/apis/v1alpha1/subtask-validation',
        { task, ...req },
        30_000,
        'dm-worker',
      ),
    );
    const { result: _r, error: _e, ...answer } = a;
    return answer as ValidationAnswer;
  },
  async purgeRelay(addr: string, filename: string, subDir?: string): Promise<string[]> {
    const a = ok(
      await call<Answer & { purged: string[] }>(
        addr,
        'POST',
        '/apis/v1alpha1/relay/purge',
        { filename, subDir },
        60_000,
        'dm-worker',
      ),
    );
    return a.purged;
  },
};

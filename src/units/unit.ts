// A processing unit of a subtask (Check, Dump, Load, Sync) and the shape of its result. A unit
// keeps its own progress in checkpoints, so `process` can be called again after a pause, an
// error or a crash of the whole process and continues where the last committed work ended.
import { DMError, ERR } from '../errors.js';
import { ConnectionLost, ServerError } from '../mysql/protocol.js';
import { CONNECTION, LOCK } from '../mysql/errno.js';
import type { ProcessError, ProcessResult, UnitName } from '../task/status.js';

export interface Unit {
  readonly name: UnitName;
  /** Connects and prepares; an error here pauses the subtask like a processing error. */
  init(): Promise<void>;
  /** Runs until the unit's work is done, `signal` aborts it (pause/stop), or it fails. */
  process(signal: AbortSignal): Promise<ProcessResult>;
  /** Releases connections and files; the unit may be init'ed again later. */
  close(): Promise<void>;
  /** The unit's part of query-status (`load`, `dump`, `sync`…), numbers as strings. */
  status(): Record<string, unknown>;
  /** Whether the unit has not begun its work in an earlier run (no output or checkpoint yet). */
  isFresh(): Promise<boolean>;
  /** Forgets the unit's earlier work (its checkpoint or output), for start-task --remove-meta. */
  removeMeta(): Promise<void>;
}

/** An error raised while executing SQL on the target: Type ExecSQL in the result. */
export class ExecSQLError extends DMError {
  constructor(
    readonly sqlError: Error,
    where: string,
    retryable: boolean,
  ) {
    const base =
      sqlError instanceof ServerError
        ? `Error ${sqlError.errno}: ${serverMessage(sqlError)}`
        : sqlError.message;
    super(ERR.execSQL, {
      message: `${base}\n${where}`,
      workaround: retryable
        ? 'The target will be retried automatically; check that it is up and reachable.'
        : 'Fix the data or the target table, then resume-task; or set loaders.on-duplicate to replace/ignore for duplicate keys.',
      retryable,
      cause: sqlError,
    });
  }
}

function serverMessage(e: ServerError): string {
  return e.message.replace(/^Error \d+ \([0-9A-Z]+\): /, '');
}

/** Socket errors (Node's codes) that a new connection can heal. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']);

/** Whether an error is transient: the connection went away, the server shuts down or is busy, a
 * lock wait or deadlock. Decided from its type and number, never its text. */
export function isRetryableServerError(e: unknown): boolean {
  if (e instanceof ServerError) return CONNECTION.has(e.errno) || LOCK.has(e.errno);
  if (e instanceof ConnectionLost) return true;
  return e instanceof Error && SOCKET_CODES.has((e as NodeJS.ErrnoException).code ?? '');
}

/** Turns any thrown value into the ProcessError query-status shows. */
export function toProcessError(e: unknown): ProcessError {
  if (e instanceof DMError) {
    const Type: ProcessError['Type'] =
      e instanceof ExecSQLError || (e.cause instanceof ServerError && e.scope !== 'upstream')
        ? 'ExecSQL'
        : e.scope === 'config'
          ? 'ConfigError'
          : e.class === 'task-check'
            ? 'CheckFailed'
            : e.scope === 'upstream'
              ? 'UpstreamError'
              : e.scope === 'downstream'
                ? 'DownstreamError'
                : 'UnknownError';
    return {
      Type,
      msg: e.message,
      ErrCode: e.code,
      ErrClass: e.class,
      ErrScope: e.scope,
      Workaround: e.workaround,
      retryable: e.retryable,
      ErrLevel: e.scope === 'config' ? 'medium' : 'high',
      Message: e.message,
      RawCause: rawCause(e.cause),
    };
  }
  const msg = e instanceof Error ? e.message : String(e);
  return {
    Type: 'UnknownError',
    msg,
    ErrCode: ERR.unknown.code,
    ErrClass: ERR.unknown.class,
    ErrScope: ERR.unknown.scope,
    Workaround: ERR.unknown.workaround,
    retryable: isRetryableServerError(e),
    ErrLevel: 'high',
    Message: msg,
    RawCause: rawCause(e instanceof Error ? e.cause : undefined),
  };
}

/** DM's RawCause: the error below (a server's or the socket's), as text. */
function rawCause(c: unknown): string {
  if (c === undefined || c === null) return '';
  return c instanceof Error ? c.message : String(c);
}

export function okResult(isCanceled = false): ProcessResult {
  return { isCanceled, errors: [], detail: null };
}

export function errorResult(e: unknown): ProcessResult {
  return { isCanceled: false, errors: [toProcessError(e)], detail: null };
}

/** Percent with two decimals, as the seed shows it: "25.44 %". */
export function percent(done: number, total: number): string {
  const p = total > 0 ? (done / total) * 100 : 0;
  return `${(Math.floor(p * 100) / 100).toFixed(2)} %`;
}

/** Runs a unit's work: aborting (pause/stop) closes its connections, which ends the work; an
 * error after an abort is a cancel, any other error the unit's result. */
export async function runCancellable(
  signal: AbortSignal,
  conns: { close(): void }[],
  work: () => Promise<ProcessResult>,
): Promise<ProcessResult> {
  const onAbort = () => conns.forEach((c) => c.close());
  signal.addEventListener('abort', onAbort);
  try {
    return await work();
  } catch (e) {
    return signal.aborted ? okResult(true) : errorResult(e);
  } finally {
    signal.removeEventListener('abort', onAbort);
    conns.forEach((c) => c.close());
  }
}

// The process's structured logger (pino, JSON lines on stderr or a file); level from
// DM_LOG_LEVEL or the process's --log-level. Passwords are redacted wherever they appear in a
// logged object.
import { pino, type Logger } from 'pino';

export type { Logger };

const REDACT = ['password', '*.password', '*.*.password', '*.*.*.password'];

function make(level: string, file?: string): Logger {
  return pino(
    { level, base: { pid: process.pid }, redact: { paths: REDACT, censor: '******' } },
    file
      ? pino.destination({ dest: file, mkdir: true, sync: false })
      : pino.destination({ fd: 2, sync: false }),
  );
}

export let log: Logger = make(process.env.DM_LOG_LEVEL ?? 'info');

/** Sets the level and destination (a file, else stderr) for the rest of the process. */
export function initLog(opts: { level?: string; file?: string }): Logger {
  log = make(opts.level || process.env.DM_LOG_LEVEL || 'info', opts.file || undefined);
  return log;
}

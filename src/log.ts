// The process's structured logger (pino, JSON lines on stderr); level from DM_LOG_LEVEL.
import { pino, type Logger } from 'pino';

export type { Logger };

export const log: Logger = pino(
  { level: process.env.DM_LOG_LEVEL ?? 'info', base: { pid: process.pid } },
  pino.destination({ fd: 2, sync: false }),
);

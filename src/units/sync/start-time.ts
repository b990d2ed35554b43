// start-task --start-time: where in the upstream's binlog the first transaction at or after a
// time begins. The binlog files are searched by the time each was opened (its format description
// event), then the file read from its start to the first transaction that begins at or after it.
import { DMError, ERR } from '../../errors.js';
import { TxnBoundary } from '../../binlog/boundary.js';
import type { BinlogPosition } from '../../binlog/position.js';
import type { EventSource } from '../../binlog/source.js';
import { quoteString } from '../../mysql/connect.js';
import type { SqlSession } from '../../mysql/protocol.js';
import type { Location } from '../../binlog/location.js';
import type { Logger } from '../../log.js';

const FORMAT = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(Z|[+-]\d{2}:\d{2})?$/;
export const START_TIME_HINT = "'2021-10-21 00:01:00', '2021-10-21T00:01:00' or '2021-10-21T00:01:00+08:00'";

/** Checks the text of a start time (DM's formats); an error names the forms allowed. */
export function checkStartTime(text: string): void {
  const m = FORMAT.exec(text.trim());
  if (!m || Number.isNaN(Date.parse(`${m[1]}T${m[2]}${m[3] ?? 'Z'}`)))
    throw new DMError(
      ERR.dmctlUsage,
      `--start-time '${text}' is not a time; write it like ${START_TIME_HINT}`,
    );
}

/** The time in Unix seconds: with an offset as written; without one, in `timeZone` (the task's
 * `timezone`) or else the upstream's session time zone, as the upstream itself reads it. */
export async function unixTimeOf(text: string, upstream: SqlSession, timeZone = ''): Promise<number> {
  checkStartTime(text);
  const m = FORMAT.exec(text.trim())!;
  if (m[3]) return Date.parse(`${m[1]}T${m[2]}${m[3]}`) / 1000;
  const local = `${m[1]} ${m[2]}`;
  const zone = timeZone
    ? `CONVERT_TZ(${quoteString(local)}, ${quoteString(timeZone)}, @@session.time_zone)`
    : quoteString(local);
  const r = await upstream.query(`SELECT UNIX_TIMESTAMP(${zone}) t`);
  const t = Number(r[0]?.t);
  if (!r[0]?.t || !Number.isFinite(t))
    throw new DMError(
      ERR.dmctlUsage,
      `the upstream cannot read --start-time '${text}'${timeZone ? ` in time zone '${timeZone}' (are its time zone tables loaded?)` : ''}`,
    );
  return t;
}

export interface TimedPosition {
  pos: BinlogPosition;
  /** The time is before the oldest binlog file: the position is that file's start. */
  early: boolean;
}

/** Reads events from a position to the end of the binlog (then the source ends). */
export type OpenAt = (pos: BinlogPosition) => EventSource;

/** The start of the first transaction at or after `t` (Unix seconds) in `files` (the upstream's
 * binlog files, oldest first); undefined when none is (the time is later than the binlog). */
export async function positionAtTime(
  t: number,
  files: string[],
  open: OpenAt,
): Promise<TimedPosition | undefined> {
  if (!files.length) return undefined;
  // the last file opened at or before t
  let lo = 0;
  let hi = files.length - 1;
  if ((await openedAt(files[0], open)) > t) return { pos: { file: files[0], pos: 4 }, early: true };
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if ((await openedAt(files[mid], open)) <= t) lo = mid;
    else hi = mid - 1;
  }
  return scan(t, files[lo], open);
}

/** When a binlog file was opened: the timestamp of its format description event. */
async function openedAt(file: string, open: OpenAt): Promise<number> {
  const src = open({ file, pos: 4 });
  try {
    for await (const batch of src.batches()) {
      for (const ev of batch)
        if (ev.kind === 'format_description' && ev.header.logPos) return ev.header.timestamp;
    }
  } finally {
    src.close();
  }
  throw new DMError(ERR.binlogUnavailable, `binlog file ${file} has no format description event`);
}

async function scan(t: number, file: string, open: OpenAt): Promise<TimedPosition | undefined> {
  const src = open({ file, pos: 4 });
  const boundary = new TxnBoundary();
  let current = file;
  try {
    for await (const batch of src.batches()) {
      for (const ev of batch) {
        if (ev.kind === 'rotate') {
          current = ev.nextFile;
          continue;
        }
        const opens = !boundary.open; // a transaction (or a lone statement) starts here
        const step = boundary.feed(ev);
        if (!opens || (step !== 'begin' && step !== 'end')) continue;
        if (ev.header.timestamp >= t && ev.header.logPos)
          return { pos: { file: current, pos: ev.header.logPos - ev.header.eventSize }, early: false };
      }
    }
  } finally {
    src.close();
  }
  return undefined;
}

/** The start of the first transaction at or after `text` in the upstream's binlog (before the
 * oldest file: its start, with a warning; after the last transaction: an error). */
export async function startAtTime(
  text: string,
  upstream: SqlSession,
  scan: OpenAt,
  log: Logger,
  timeZone = '',
): Promise<Location> {
  const t = await unixTimeOf(text, upstream, timeZone);
  const files = (await upstream.query('SHOW BINARY LOGS')).map((r) => String(r.Log_name));
  const at = await positionAtTime(t, files, scan);
  if (!at)
    throw new DMError(ERR.startTimeTooLate, {
      message: `start-time ${text} is too late: no binlog transaction begins at or after it`,
    });
  if (at.early)
    log.warn(
      { startTime: text, at: at.pos },
      'sync: --start-time is before the oldest binlog file; starting at its start',
    );
  else
    log.info(
      { startTime: text, at: at.pos },
      'sync: starting at --start-time (the checkpoint and meta are ignored)',
    );
  return { pos: at.pos, gtid: '' };
}

// A reader of the relay log from a start point, for Sync: when the relay is enabled, ready and
// has that position; else undefined, with a warning saying why (Sync then reads the upstream).
import type { RowColumnsOf } from '../../binlog/decoder.js';
import { formatPosition, type BinlogPosition } from '../../binlog/position.js';
import type { EventSource } from '../../binlog/source.js';
import type { Logger } from '../../log.js';
import { RelayReader } from './reader.js';
import type { RelayUnit } from './relay.js';

export async function openRelayStream(
  relay: RelayUnit,
  start: { pos: BinlogPosition; gtid: string },
  /** Who reads (for purge protection), e.g. the subtask's name. */
  id: string,
  rowColumns: RowColumnsOf,
  log: Logger,
): Promise<EventSource | undefined> {
  const why = !start.pos.file
    ? 'the start point is a GTID set only'
    : !(await relay.ready())
      ? `the relay is ${relay.stage}${relay.result?.errors[0] ? ': ' + relay.result.errors[0].msg : ''}`
      : undefined;
  const at = why ? undefined : await relay.locate(start.pos.file);
  if (!at) {
    log.warn(
      { at: formatPosition(start.pos), why: why ?? `the relay has no ${start.pos.file}` },
      'sync: reading the upstream binlog directly, not the relay',
    );
    return undefined;
  }
  log.info({ at: formatPosition(start.pos), subDir: relay.subDirs[at.sub] }, 'sync: reading the relay log');
  return new RelayReader(relay, { ...at, pos: start.pos.pos }, id, start.gtid, rowColumns);
}

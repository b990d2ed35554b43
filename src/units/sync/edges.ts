// What Sync talks to: target sessions, upstream sessions and a binlog event source. The real ones
// are the servers of the task's configuration; unit tests hand Sync canned events and a
// recording target instead.
import { BinlogClient } from '../../binlog/client.js';
import type { RowColumnsOf } from '../../binlog/decoder.js';
import type { EventSource } from '../../binlog/source.js';
import { downstreamRole, openConnection, upstreamRole } from '../../mysql/connect.js';
import { targetSqlMode } from '../../mysql/session.js';
import type { SqlSession } from '../../mysql/protocol.js';
import type { SubTaskConfig } from '../../task/config.js';
import type { Location } from '../../binlog/location.js';
import type { BinlogPosition } from '../../binlog/position.js';

export interface StreamStart {
  start: Location;
  /** Ask for the stream by GTID set rather than file and position. */
  byGtid: boolean;
  /** What the decoder needs of each table's rows. */
  rowColumns: RowColumnsOf;
  /** Who reads beside Sync (the validator): its own replica server id and relay reader. */
  reader?: string;
}

export interface SyncEdges {
  /** A target session in Sync's settings (utf8mb4, strict sql_mode, no foreign key checks, UTC);
   * `localInfile`: offering LOAD DATA LOCAL (large transactions' inserts). */
  target(opts?: { localInfile?: boolean }): Promise<SqlSession>;
  /** An upstream session (positions, the table list). */
  upstream(): Promise<SqlSession>;
  /** The binlog from `start`. */
  events(from: StreamStart): Promise<EventSource>;
  /** The upstream's binlog from `pos` to its end, rows undecoded (to find --start-time). */
  scan(pos: BinlogPosition): EventSource;
}

/** A target session as Sync and its appliers use it. */
export async function syncTargetSession(cfg: SubTaskConfig, localInfile = false): Promise<SqlSession> {
  const c = await openConnection({ ...cfg.targetDatabase, localInfile }, downstreamRole());
  await c.exec('SET NAMES utf8mb4');
  await c.exec(`SET SESSION sql_mode = '${targetSqlMode(cfg.targetDatabase.session)}'`);
  await c.exec('SET SESSION foreign_key_checks = 0');
  await c.exec("SET SESSION time_zone = '+00:00'");
  return c;
}

/** The upstream's binlog, read as a replica. */
export function replicaStream(cfg: SubTaskConfig, from: StreamStart): EventSource {
  const { start } = from;
  return new BinlogClient({
    ...cfg.source.from,
    serverId:
      (from.reader ? 0 : cfg.source.serverId) || 1_000_000 + Math.floor(Math.random() * 1_000_000_000),
    start: from.byGtid ? { gtid: start.gtid } : { file: start.pos.file, pos: start.pos.pos },
    heartbeatMs: 1000,
    rowColumns: from.rowColumns,
  });
}

/** The task's servers; `relay` reads the relay log instead of the upstream when it can (it
 * returns undefined when it cannot, having said why). */
export function serverEdges(
  cfg: SubTaskConfig,
  relay?: (from: StreamStart) => Promise<EventSource | undefined>,
): SyncEdges {
  return {
    target: (opts) => syncTargetSession(cfg, opts?.localInfile),
    upstream: () => openConnection(cfg.source.from, upstreamRole()),
    events: async (from) => (await relay?.(from)) ?? replicaStream(cfg, from),
    scan: (pos) =>
      new BinlogClient({
        ...cfg.source.from,
        serverId: 1_000_000 + Math.floor(Math.random() * 1_000_000_000),
        start: pos,
        nonBlocking: true,
        reconnectTimeoutMs: 0,
        skipRows: true,
      }),
  };
}

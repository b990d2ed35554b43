// Where a run of Sync starts: its own checkpoint, else the dump's position, else the task's
// `meta`; the transactions beyond it already applied; and whether it starts in safe mode.
import type { BinlogPosition } from '../../binlog/position.js';
import { DMError, ERR } from '../../errors.js';
import { quoteString } from '../../mysql/connect.js';
import type { SqlSession } from '../../mysql/protocol.js';
import type { SubTaskConfig } from '../../task/config.js';
import type { Recovery } from './checkpoint.js';
import { locationOf, type Location } from '../../binlog/location.js';
import type { SyncContext } from './context.js';
import { startAtTime } from './start-time.js';

export interface StartPoint {
  start: Location;
  /** End positions of transactions beyond `start` that are already applied. */
  skip: Set<string>;
  /** Idempotent SQL until the upstream's position at the start (a user-given meta). */
  safeUntil?: BinlogPosition;
  /** Read the stream by GTID set: when the source says so (first start only: a checkpoint's
   * file/pos is exact), or when only a GTID set is known (meta with binlog-gtid alone). */
  byGtid: boolean;
}

export interface StartInput {
  cfg: SubTaskConfig;
  recovered?: Recovery;
  /** The dump's position (task-mode all). */
  hint: () => Promise<Location | undefined>;
  /** The upstream's position now. */
  master?: BinlogPosition;
  upstream: SqlSession;
  /** start-task --start-time: where it is in the binlog (the checkpoint and meta are ignored). */
  atTime?: Location;
}

function noStart(cfg: SubTaskConfig): DMError {
  return new DMError(ERR.metaNotSet, {
    message: `incremental task '${cfg.name}' has no start position for source '${cfg.instance.sourceId}' and no checkpoint`,
    workaround:
      "Set mysql-instances[].meta (binlog-name/binlog-pos, or binlog-gtid) in the task file, or use task-mode 'all'.",
  });
}

/** Where a run starts: start-task --start-time's position (the checkpoint rows, which it replaces,
 * are cleared first), else startPoint() of the checkpoint. */
export async function runStart(
  c: SyncContext,
  target: SqlSession,
  upstream: SqlSession,
  serial: <T>(f: () => Promise<T>) => Promise<T>,
): Promise<{ from: StartPoint; atTime: boolean }> {
  const at = c.startTime && (await startAtTime(c.startTime, upstream, c.edges.scan, c.log, c.cfg.timezone));
  if (at) await serial(() => c.checkpoint.clear(target));
  const from = await startPoint({
    cfg: c.cfg,
    atTime: at || undefined,
    recovered: at ? undefined : await c.checkpoint.load(target),
    hint: c.hint,
    master: c.state.master?.pos,
    upstream,
  });
  return { from, atTime: !!at };
}

export async function startPoint(i: StartInput): Promise<StartPoint> {
  const { cfg, recovered } = i;
  let start = i.atTime ?? recovered?.start ?? (await i.hint());
  // The data may already hold changes after a user-given point: idempotent SQL until the
  // position the upstream had when we started.
  let safeUntil = i.atTime ? i.master : undefined;
  if (!start) {
    const meta = cfg.instance.meta;
    if (!meta || (!meta.binlogName && !meta.binlogGtid)) throw noStart(cfg);
    start = locationOf(meta);
    if (cfg.instance.syncer.safeModeDuration > 0) safeUntil = i.master;
  }
  if (start.pos.file && !start.gtid && i.upstream.flavor === 'mariadb') {
    const r = await i.upstream.query(
      `SELECT BINLOG_GTID_POS(${quoteString(start.pos.file)}, ${start.pos.pos}) g`,
    );
    start = { ...start, gtid: r[0]?.g ?? '' };
  }
  const byGtid = !!start.gtid && (!start.pos.file || (cfg.source.enableGtid && !recovered));
  return { start, skip: (!i.atTime && recovered?.skip) || new Set(), safeUntil, byGtid };
}

/** Where Sync would start next without asking the upstream (for the relay's start and purge
 * protection): the checkpoint, the dump's position, or meta. */
export async function plannedStart(
  recovered: () => Promise<Recovery | undefined>,
  hint: () => Promise<Location | undefined>,
  cfg: SubTaskConfig,
): Promise<BinlogPosition | undefined> {
  const rec = await recovered().catch(() => undefined);
  if (rec) return rec.start.pos;
  const h = await hint().catch(() => undefined);
  if (h?.pos.file) return h.pos;
  const meta = cfg.instance.meta;
  return meta?.binlogName ? { file: meta.binlogName, pos: meta.binlogPos } : undefined;
}

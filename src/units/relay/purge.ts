// Which relay files may be removed (pure): those before a limit, and never the file being written
// or any file a subtask still needs (from the earliest position it may read again on).
import type { PurgeConfig } from '../../task/config.js';
import { comparePosition } from '../../binlog/position.js';

/** A place in the relay: a binlog file of the sub-directory with index `sub` (0 = oldest). */
export interface RelayPoint {
  sub: number;
  file: string;
}

export interface RelayFile extends RelayPoint {
  mtimeMs: number;
  size: number;
}

export function compareRelayPoint(a: RelayPoint, b: RelayPoint): number {
  return a.sub - b.sub || comparePosition({ file: a.file, pos: 0 }, { file: b.file, pos: 0 });
}

/** The files strictly before `upTo` that neither the writer (`active`) nor a reader (`needed`) uses. */
export function purgeable(
  files: RelayFile[],
  upTo: RelayPoint,
  active: RelayPoint,
  needed: RelayPoint[],
): RelayFile[] {
  let limit = upTo;
  for (const p of [active, ...needed]) if (compareRelayPoint(p, limit) < 0) limit = p;
  return files.filter((f) => compareRelayPoint(f, limit) < 0);
}

/** The limit an automatic purge removes files before, or undefined when nothing is due. */
export function autoPurgeLimit(
  files: RelayFile[],
  active: RelayPoint,
  cfg: PurgeConfig,
  now: number,
  freeBytes: number,
): RelayPoint | undefined {
  if (cfg.remainSpace > 0 && freeBytes < cfg.remainSpace * 1024 ** 3) return active;
  if (cfg.expires > 0) {
    const cutoff = now - cfg.expires * 3600_000;
    const young = files.find((f) => f.mtimeMs >= cutoff);
    return young ? { sub: young.sub, file: young.file } : active;
  }
  return undefined;
}

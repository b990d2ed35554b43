// One key range of one target table, compared with its upstream shards while Sync may be running:
// each shard is read in a consistent snapshot whose binlog position is known, the target once its
// subtask has applied that position. Equal checksums end it; a range far larger than a chunk on
// either side is split; otherwise its rows are compared and each differing row is read again, in
// fresh snapshots, until it agrees (it was only in flight) or the retries are spent (a difference).
import type { Location } from '../binlog/location.js';
import type { SqlSession } from '../mysql/protocol.js';
import { compareRows, type Difference, type Row } from './compare.js';
import type { Shard } from './plan.js';
import {
  boundariesSQL,
  boundarySQL,
  checksumSQL,
  keyLiterals,
  rowsByKeySQL,
  rowsSQL,
  type Range,
  type TableShape,
} from './sql.js';

export interface DiffEdges {
  /** A session on the source's upstream, for this worker of the check (kept open). */
  upstream(source: string): Promise<SqlSession>;
  /** A session on the target, for this worker of the check (kept open). */
  target(): Promise<SqlSession>;
  /** Resolves once the source's subtask has applied its binlog up to `at` (at once without Sync);
   * throws saying why it cannot (the subtask is paused, stopped, ...). */
  synced(source: string, at: Location | undefined): Promise<void>;
  /** Sync runs (a row may be in flight): a difference is read again before it is reported. */
  readonly live: boolean;
}

export interface ChunkOutcome {
  rows: number;
  differences: Difference[];
  /** Ranges to check instead (the range was too large on one side). */
  split?: Range[];
}

interface Snapshot {
  source: string;
  c: SqlSession;
  at?: Location;
}

/** Opens a consistent snapshot on each shard's upstream and tells where in the binlog it is
 * (MariaDB says exactly; elsewhere the position after the snapshot, which it does not pass). */
async function snapshots(e: DiffEdges, shards: Shard[]): Promise<Snapshot[]> {
  const out: Snapshot[] = [];
  for (const source of new Set(shards.map((s) => s.source))) {
    const c = await e.upstream(source);
    await c.exec('START TRANSACTION WITH CONSISTENT SNAPSHOT');
    let at: Location | undefined;
    const st = await c.query("SHOW STATUS LIKE 'binlog_snapshot_%'");
    const v = (n: string) => st.find((r) => r.Variable_name?.toLowerCase() === n)?.Value;
    if (v('binlog_snapshot_file')) {
      at = {
        pos: { file: v('binlog_snapshot_file')!, pos: Number(v('binlog_snapshot_position')) },
        gtid: '',
      };
    } else {
      const [m] = await c.query('SHOW MASTER STATUS').catch(() => []);
      if (m?.File) at = { pos: { file: m.File, pos: Number(m.Position) }, gtid: '' };
    }
    out.push({ source, c, at });
  }
  return out;
}

async function release(snaps: Snapshot[]): Promise<void> {
  for (const s of snaps) await s.c.exec('COMMIT');
}

/** `read` on every shard, each in its source's snapshot. */
async function eachShard<T>(
  shards: Shard[],
  snaps: Snapshot[],
  read: (c: SqlSession, s: Shard) => Promise<T>,
): Promise<T[]> {
  const out: T[] = [];
  for (const s of shards) out.push(await read(snaps.find((x) => x.source === s.source)!.c, s));
  return out;
}

async function checksum(c: SqlSession, t: TableShape, db: string, table: string, r: Range) {
  const [row] = await c.query(checksumSQL(t, db, table, r));
  return { n: Number(row.n), x: BigInt(row.x ?? 0) };
}

export class ChunkChecker {
  constructor(
    private readonly e: DiffEdges,
    private readonly t: TableShape,
    private readonly shards: Shard[],
    private readonly o: { chunkRows: number; fetchRows: number; retries: number; retryMs: number },
  ) {}

  async check(r: Range): Promise<ChunkOutcome> {
    const { e, t, shards } = this;
    const snaps = await snapshots(e, shards);
    try {
      const ups = await eachShard(shards, snaps, (c, s) => checksum(c, t, s.db, s.table, r));
      for (const s of snaps) await e.synced(s.source, s.at);
      const target = await e.target();
      const down = await checksum(target, t, t.db, t.table, r);
      const n = ups.reduce((a, u) => a + u.n, 0);
      const x = ups.reduce((a, u) => a ^ u.x, 0n);
      if (n === down.n && x === down.x) return { rows: n, differences: [] };
      // A differing range is halved by checksums until its rows are few enough to read.
      if (n > this.o.fetchRows || down.n > this.o.fetchRows) {
        const split = await this.split(r, snaps, ups, target, down.n);
        if (split) return { rows: 0, differences: [], split };
      }
      const upRows = (await eachShard(shards, snaps, (c, s) => c.query(rowsSQL(t, s.db, s.table, r)))).flat();
      const diffs = compareRows(t, upRows, await target.query(rowsSQL(t, t.db, t.table, r)));
      await release(snaps);
      return { rows: n, differences: diffs.length ? await this.confirm(diffs) : [] };
    } finally {
      await release(snaps).catch(() => undefined);
    }
  }

  /** Ranges of about `fetchRows` rows each, cut at keys of the larger side (undefined: the range
   * cannot be cut: one key wide). One level: a differing range is read once more in checksums. */
  private async split(
    r: Range,
    snaps: Snapshot[],
    ups: { n: number }[],
    target: SqlSession,
    downRows: number,
  ): Promise<Range[] | undefined> {
    const { t, shards } = this;
    const most = ups.reduce((b, u, i) => (u.n > ups[b].n ? i : b), 0);
    const fromTarget = downRows >= ups[most].n;
    const rows = fromTarget ? downRows : ups[most].n;
    const step = Math.max(1, Math.ceil(rows / Math.ceil(rows / this.o.fetchRows)));
    const s = shards[most];
    const c = fromTarget ? target : snaps.find((x) => x.source === s.source)!.c;
    const cuts = (
      await c.query(boundariesSQL(t, fromTarget ? t.db : s.db, fromTarget ? t.table : s.table, r, step))
    ).map((row) => keyLiterals(t, row));
    if (r.upto && cuts.at(-1)?.join() === r.upto.join()) cuts.pop();
    if (!cuts.length) return undefined;
    const out: Range[] = [];
    let after = r.after;
    for (const at of cuts) {
      out.push({ after, upto: at });
      after = at;
    }
    out.push({ after, upto: r.upto });
    return out;
  }

  /** Reads each differing row again in a fresh snapshot (Sync may have had it in flight): a
   * difference read the same twice in a row is confirmed, one that agrees is gone, one that
   * changed is read again (at most `retries` times; without Sync, the first reading stands). */
  private async confirm(diffs: Difference[]): Promise<Difference[]> {
    const { e, t, shards } = this;
    if (!e.live) return diffs;
    const sameAs = (a: Difference, b: Difference) =>
      a.kind === b.kind && JSON.stringify([a.up, a.down]) === JSON.stringify([b.up, b.down]);
    const confirmed: Difference[] = [];
    let left = diffs;
    for (let i = 0; i < this.o.retries && left.length; i++) {
      await new Promise((res) => setTimeout(res, this.o.retryMs));
      const keys = left.map((d) => d.key);
      const snaps = await snapshots(e, shards);
      let up: Row[];
      try {
        up = (await eachShard(shards, snaps, (c, s) => c.query(rowsByKeySQL(t, s.db, s.table, keys)))).flat();
        for (const s of snaps) await e.synced(s.source, s.at);
      } finally {
        await release(snaps).catch(() => undefined);
      }
      const target = await e.target();
      const now = compareRows(t, up, await target.query(rowsByKeySQL(t, t.db, t.table, keys)));
      const before = new Map(left.map((d) => [JSON.stringify(d.key), d]));
      left = [];
      for (const d of now) {
        const prev = before.get(JSON.stringify(d.key));
        if (prev && sameAs(prev, d)) confirmed.push(d);
        else left.push(d);
      }
    }
    return [...confirmed, ...left];
  }
}

/** The key of the row `offset` rows into the range on the target (the next chunk's upper end). */
export async function nextBoundary(
  c: SqlSession,
  t: TableShape,
  r: Range,
  offset: number,
): Promise<string[] | undefined> {
  const [row] = await c.query(boundarySQL(t, t.db, t.table, r, offset));
  if (!row) return undefined;
  return keyLiterals(t, row);
}

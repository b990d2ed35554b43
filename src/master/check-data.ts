// dmctl check-data on the leader: a job per request, which compares a task's target tables with
// their upstream tables (src/diff), waiting for each source's subtask to have applied the point it
// compares at; dmctl polls the job for its progress and report. The statements that would fix the
// target are written to a file beside the master's data; with --fix they are applied too.
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { comparePosition, parsePosition, parseRelayName, type BinlogPosition } from '../binlog/position.js';
import type { Location } from '../binlog/location.js';
import { DMError, ERR } from '../errors.js';
import { downstreamRole, masterStatus, openConnection, upstreamRole } from '../mysql/connect.js';
import type { SqlSession } from '../mysql/protocol.js';
import { SYSTEM_SCHEMAS } from '../rules/balist.js';
import type { SubTaskConfig } from '../task/config.js';
import type { SubTaskStatus } from '../task/status.js';
import type { DiffEdges } from '../diff/chunk.js';
import { planTables, type Skipped } from '../diff/plan.js';
import { CheckData, type CheckDataOptions, type Progress, type TableReport } from '../diff/run.js';

export interface CheckDataRequest {
  sources?: string[];
  /** Target tables `db.table` (all of the task's when absent). */
  tables?: string[];
  fix?: boolean;
  chunkRows?: number;
  threads?: number;
}

export interface CheckDataJob {
  id: string;
  task: string;
  state: 'running' | 'finished' | 'failed';
  startedAt: string;
  seconds: number;
  progress?: Progress;
  tables?: TableReport[];
  skipped?: Skipped[];
  differences: number;
  fixed: number;
  /** Where the statements that fix the target are (on the master's machine). */
  sqlFile: string;
  peakRssBytes: number;
  error?: string;
}

/** What the job needs of the master. */
export interface CheckDataHost {
  subtaskConfigs(task: string): SubTaskConfig[];
  subtaskStatus(task: string, source: string): Promise<SubTaskStatus | string>;
  /** Where the master keeps files (the fix statements go in `check-data/` there). */
  dataDir?: string;
}

const SYNC_MODES = ['all', 'incremental', 'load&sync'];

async function session(open: () => ReturnType<typeof openConnection>): Promise<SqlSession> {
  const c = await open();
  await c.exec("SET NAMES utf8mb4, time_zone = '+00:00'");
  await c.exec('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
  return c;
}

export class CheckDataJobs {
  private readonly jobs = new Map<string, CheckDataJob>();
  private seq = 0;
  /** Per task: each source's binlog position taken before its last complete check that left the
   * target equal (cutover compares the tables changed since). */
  private readonly checked = new Map<string, Map<string, BinlogPosition>>();

  lastCheck(task: string): Map<string, BinlogPosition> | undefined {
    return this.checked.get(task);
  }

  constructor(private readonly host: CheckDataHost) {}

  get(id: string): CheckDataJob {
    const j = this.jobs.get(id);
    if (!j)
      throw new DMError(
        ERR.checkDataJob,
        `no check-data job ${id} on this master (jobs live on the leader that ran them)`,
      );
    return j;
  }

  /** Starts a job; its first problems (no such table, source) are refused at once. */
  async start(task: string, req: CheckDataRequest): Promise<CheckDataJob> {
    const all = this.host.subtaskConfigs(task);
    const unknown = (req.sources ?? []).filter((s) => !all.some((c) => c.instance.sourceId === s));
    if (unknown.length)
      throw new DMError(ERR.checkDataJob, `task '${task}' has no subtask on source(s) ${unknown.join(', ')}`);
    const cfgs = req.sources?.length ? all.filter((c) => req.sources!.includes(c.instance.sourceId)) : all;
    const upstreamTables = new Map<string, { db: string; table: string }[]>();
    const before = new Map<string, BinlogPosition>();
    for (const cfg of cfgs) {
      const c = await openConnection(cfg.source.from, upstreamRole());
      try {
        const m = await masterStatus(c);
        if (m) before.set(cfg.instance.sourceId, m.pos);
        const rows = await c.query(
          `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN (${SYSTEM_SCHEMAS.map((s) => `'${s}'`).join(', ')})`,
        );
        upstreamTables.set(
          cfg.instance.sourceId,
          rows.map((r) => ({ db: r.db!, table: r.t! })),
        );
      } finally {
        c.close();
      }
    }
    const plan = planTables(cfgs, upstreamTables, req.tables ?? []);
    const missing = (req.tables ?? []).filter(
      (n) =>
        !plan.targets.some((t) => `${t.db}.${t.table}` === n) && !plan.skipped.some((s) => s.table === n),
    );
    if (missing.length)
      throw new DMError(ERR.checkDataJob, {
        message: `task '${task}' replicates no table to ${missing.join(', ')}`,
        workaround: 'Name target tables as db.table; without --table every table of the task is compared.',
      });
    const id = String(++this.seq);
    const dir = resolve(this.host.dataDir ?? tmpdir(), 'check-data');
    await mkdir(dir, { recursive: true });
    const job: CheckDataJob = {
      id,
      task,
      state: 'running',
      startedAt: new Date().toISOString(),
      seconds: 0,
      skipped: plan.skipped,
      differences: 0,
      fixed: 0,
      sqlFile: join(dir, `${task}-${id}-${Date.now()}.sql`),
      peakRssBytes: process.memoryUsage().rss,
    };
    this.jobs.set(id, job);
    const complete = !req.tables?.length && !req.sources?.length;
    void this.run(job, cfgs, plan, req).then(() => {
      if (complete && job.state === 'finished' && job.differences === job.fixed)
        this.checked.set(task, before);
    });
    return job;
  }

  private async run(
    job: CheckDataJob,
    cfgs: SubTaskConfig[],
    plan: ReturnType<typeof planTables>,
    req: CheckDataRequest,
  ): Promise<void> {
    const started = Date.now();
    const rss = setInterval(
      () => (job.peakRssBytes = Math.max(job.peakRssBytes, process.memoryUsage().rss)),
      100,
    );
    const sessions: SqlSession[] = [];
    const file: WriteStream = createWriteStream(job.sqlFile);
    const o: CheckDataOptions = {
      chunkRows: req.chunkRows ?? 50_000,
      fetchRows: Math.min(req.chunkRows ?? 2000, 2000),
      threads: req.threads ?? 4,
      retries: 5,
      retryMs: 100,
      fix: !!req.fix,
      maxReported: 100,
    };
    const workers = new Map<number, DiffEdges>();
    const edges = (w: number): DiffEdges => {
      let e = workers.get(w);
      if (!e) {
        e = this.edges(job.task, cfgs, sessions);
        workers.set(w, e);
      }
      return e;
    };
    try {
      const checker = new CheckData(edges, o, {
        progress: (p) => (job.progress = p),
        statement: (sql) => {
          if (!file.write(sql + '\n')) return new Promise<void>((r) => file.once('drain', () => r()));
        },
      });
      job.tables = await checker.run(plan);
      job.differences = job.tables.reduce((a, t) => a + t.differences, 0);
      job.fixed = job.tables.reduce((a, t) => a + t.fixed, 0);
      job.state = 'finished';
    } catch (e) {
      job.state = 'failed';
      job.error = (e as Error).message;
    } finally {
      clearInterval(rss);
      job.peakRssBytes = Math.max(job.peakRssBytes, process.memoryUsage().rss);
      job.seconds = (Date.now() - started) / 1000;
      sessions.forEach((c) => c.close());
      await new Promise<void>((r) => file.end(() => r()));
    }
  }

  /** One worker's sessions, and the wait for a subtask to pass a point. */
  private edges(task: string, cfgs: SubTaskConfig[], all: SqlSession[]): DiffEdges {
    const up = new Map<string, Promise<SqlSession>>();
    let down: Promise<SqlSession> | undefined;
    const keep = (p: Promise<SqlSession>) => p.then((c) => (all.push(c), c));
    return {
      upstream: (source) => {
        let c = up.get(source);
        if (!c) {
          const cfg = cfgs.find((x) => x.instance.sourceId === source)!;
          c = keep(session(() => openConnection(cfg.source.from, upstreamRole())));
          up.set(source, c);
        }
        return c;
      },
      target: () => (down ??= keep(session(() => openConnection(cfgs[0].targetDatabase, downstreamRole())))),
      synced: (source, at) => this.synced(task, cfgs, source, at),
      live: SYNC_MODES.includes(cfgs[0].taskMode),
    };
  }

  /** The last Sync position seen per task and source (most waits need no question). */
  private readonly seen = new Map<string, { file: string; pos: number }>();

  private async synced(
    task: string,
    cfgs: SubTaskConfig[],
    source: string,
    at: Location | undefined,
  ): Promise<void> {
    if (!at || !SYNC_MODES.includes(cfgs[0].taskMode)) return;
    const known = this.seen.get(`${task}\0${source}`);
    if (known && comparePosition(known, at.pos) >= 0) return;
    const deadline = Date.now() + 120_000;
    for (;;) {
      const st = await this.host.subtaskStatus(task, source);
      if (typeof st === 'string') throw new DMError(ERR.checkDataJob, `cannot compare: ${st}`);
      const why = notSyncing(st);
      if (why)
        throw new DMError(ERR.checkDataJob, {
          message: `cannot compare: the subtask of source ${source} ${why}, so the target does not reach the point compared at`,
          workaround: 'Resume the task (query-status shows why it stopped) and run check-data again.',
        });
      const pos = String((st.sync as { syncerBinlog?: string } | undefined)?.syncerBinlog ?? '');
      if (pos) {
        const p = parsePosition(pos);
        const upstream = { file: parseRelayName(p.file).file, pos: p.pos };
        this.seen.set(`${task}\0${source}`, upstream);
        if (comparePosition(upstream, at.pos) >= 0) return;
      }
      if (Date.now() > deadline)
        throw new DMError(ERR.checkDataJob, {
          message: `cannot compare: the subtask of source ${source} has not reached (${at.pos.file}, ${at.pos.pos}) within 120 s (it is at ${pos || 'no position yet'})`,
          workaround: 'Let Sync catch up (query-status shows its lag) and run check-data again.',
        });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function notSyncing(st: SubTaskStatus): string | undefined {
  if (st.stage === 'Paused' || st.stage === 'Stopped' || st.stage === 'New') return `is ${st.stage}`;
  if (st.unit !== 'Sync') return `is in unit ${st.unit}, not Sync yet`;
  return undefined;
}

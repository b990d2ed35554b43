// dmctl cutover (ours): guides the switch of the application to the target. It refuses, with every
// reason, while a subtask does not run Sync, a sharding DDL lock is pending or validation has
// error rows; optionally sets each upstream read-only (--lock-upstream); takes each upstream's
// final position; waits until every subtask has applied it; compares the tables changed since the
// task's last finished check-data (all of them without one), and gives a verdict with the final
// positions: what the application's new connection may rely on.
import { BinlogClient } from '../binlog/client.js';
import {
  comparePosition,
  formatPosition,
  parsePosition,
  parseRelayName,
  type BinlogPosition,
} from '../binlog/position.js';
import { classifyQuery } from '../schema/ddl.js';
import { DMError, ERR } from '../errors.js';
import { masterStatus, openConnection, privilegeError, upstreamRole } from '../mysql/connect.js';
import type { SubTaskConfig } from '../task/config.js';
import type { SubTaskStatus } from '../task/status.js';
import type { CheckDataJob, CheckDataJobs } from './check-data.js';
import { planTables } from '../diff/plan.js';

export interface CutoverHost {
  subtaskConfigs(task: string): SubTaskConfig[];
  subtaskStatus(task: string, source: string): Promise<SubTaskStatus | string>;
  /** The pending sharding DDL locks of the task (their ids). */
  pendingLocks(task: string): string[];
  checkData: CheckDataJobs;
}

export interface CutoverRequest {
  lockUpstream?: boolean;
  /** Seconds to wait for the subtasks to reach the final positions (default 300). */
  waitSeconds?: number;
}

export interface FinalPosition {
  source: string;
  binlog: string;
  gtid: string;
  readOnly: boolean;
}

export interface CutoverJob {
  id: string;
  task: string;
  state: 'running' | 'finished' | 'failed';
  step: string;
  /** Every step so far, in order. */
  steps: string[];
  report?: CutoverReport;
  error?: string;
}

export interface CutoverReport {
  verdict: 'equal' | 'different';
  /** What the verdict means for the application, in one sentence. */
  advice: string;
  final: FinalPosition[];
  lag: Record<string, string>;
  checkedTables: string[];
  check?: Pick<CheckDataJob, 'differences' | 'sqlFile' | 'tables' | 'skipped'>;
}

const SYNC_MODES = ['all', 'incremental', 'load&sync'];

/** Every reason the task cannot be cut over now (empty: it can). Pure. */
export function refusals(
  cfgs: SubTaskConfig[],
  statuses: Array<[string, SubTaskStatus | string]>,
  locks: string[],
): string[] {
  const out: string[] = [];
  if (cfgs.length && !SYNC_MODES.includes(cfgs[0].taskMode))
    out.push(`task-mode ${cfgs[0].taskMode} has no Sync to follow the upstream: run check-data instead`);
  for (const [source, st] of statuses) {
    if (typeof st === 'string') {
      out.push(`source ${source}: ${st}`);
      continue;
    }
    if (st.stage !== 'Running' || st.unit !== 'Sync')
      out.push(
        `the subtask of source ${source} is ${st.stage} in unit ${st.unit}${st.result?.errors[0] ? ` (${st.result.errors[0].Message})` : ''}`,
      );
    const v = st.validation as { errorRowsStatus?: string } | undefined;
    const errors = Number(/new\/ignored\/resolved: (\d+)/.exec(v?.errorRowsStatus ?? '')?.[1] ?? 0);
    if (errors > 0)
      out.push(
        `validation of source ${source} has ${errors} unprocessed error row(s): see validation show-error`,
      );
  }
  for (const id of locks) out.push(`sharding DDL lock ${id} is pending: see shard-ddl-lock`);
  return out;
}

/** The upstream tables whose rows or structure changed between two positions of one binlog. */
async function changedTables(
  cfg: SubTaskConfig,
  from: BinlogPosition,
  to: BinlogPosition,
): Promise<Set<string>> {
  const out = new Set<string>();
  const c = new BinlogClient({
    ...cfg.source.from,
    serverId: 1_000_000 + Math.floor(Math.random() * 1_000_000_000),
    start: from,
    nonBlocking: true,
    reconnectTimeoutMs: 0,
    skipRows: true,
  });
  let file = from.file;
  try {
    for await (const batch of c.batches()) {
      for (const ev of batch) {
        if (ev.kind === 'rotate') file = ev.nextFile;
        if (ev.kind === 'table_map') out.add(`${ev.schema}.${ev.table}`);
        if (ev.kind === 'query') {
          const q = classifyQuery(ev.schema, ev.query);
          if (q.kind === 'ddl') for (const t of q.tables) out.add(`${t.db}.${t.table}`);
        }
        if (ev.header.logPos && comparePosition({ file, pos: ev.header.logPos }, to) >= 0) return out;
      }
    }
  } finally {
    c.close();
  }
  return out;
}

export class Cutover {
  private readonly jobs = new Map<string, CutoverJob>();
  private seq = 0;

  constructor(private readonly host: CutoverHost) {}

  /** Starts a cutover (a job: dmctl follows its steps); a refusal comes back at once. */
  async start(task: string, req: CutoverRequest): Promise<CutoverJob> {
    const job: CutoverJob = {
      id: String(++this.seq),
      task,
      state: 'running',
      step: 'checking the subtasks',
      steps: ['checking the subtasks'],
    };
    this.jobs.set(job.id, job);
    const done = this.run(task, req, (step) => {
      job.step = step;
      job.steps.push(step);
    }).then(
      (report) => Object.assign(job, { state: 'finished', step: 'done', report }),
      (e: unknown) => Object.assign(job, { state: 'failed', error: (e as Error).message }),
    );
    // a refusal (before anything changed) is the answer itself
    await Promise.race([done, new Promise((r) => setTimeout(r, 2000))]);
    if (job.state === 'failed' && job.step === 'checking the subtasks') {
      this.jobs.delete(job.id);
      throw new DMError(ERR.cutoverRefused, job.error!);
    }
    return job;
  }

  get(id: string): CutoverJob {
    const j = this.jobs.get(id);
    if (!j) throw new DMError(ERR.cutoverRefused, `no cutover job ${id} on this master`);
    return j;
  }

  async run(task: string, req: CutoverRequest, progress: (step: string) => void): Promise<CutoverReport> {
    const { host } = this;
    const cfgs = host.subtaskConfigs(task);
    const statuses = await Promise.all(
      cfgs.map(
        async (c) =>
          [c.instance.sourceId, await host.subtaskStatus(task, c.instance.sourceId)] as [
            string,
            SubTaskStatus | string,
          ],
      ),
    );
    const why = refusals(cfgs, statuses, host.pendingLocks(task));
    if (why.length)
      throw new DMError(ERR.cutoverRefused, {
        message: `cutover of task '${task}' refused: ${why.join('; ')}`,
        workaround:
          'Fix each reason (resume-task, shard-ddl-lock, validation resolve-error) and run cutover again.',
      });
    const lag = Object.fromEntries(
      statuses.map(([s, st]) => [s, String((st as SubTaskStatus).sync?.secondsBehindMaster ?? '')]),
    );
    const final: FinalPosition[] = [];
    for (const cfg of cfgs) {
      const c = await openConnection(cfg.source.from, upstreamRole());
      try {
        if (req.lockUpstream) {
          progress(`setting source ${cfg.instance.sourceId} read-only`);
          await c.exec('SET GLOBAL read_only = ON').catch((e: unknown) => {
            throw privilegeError(
              e,
              upstreamRole(),
              cfg.source.from.user,
              'SET GLOBAL read_only',
              'GRANT SUPER ON *.* TO {user}',
            );
          });
        }
        const m = await masterStatus(c);
        if (!m)
          throw new DMError(
            ERR.cutoverRefused,
            `source ${cfg.instance.sourceId} has no binlog position (SHOW MASTER STATUS is empty)`,
          );
        final.push({
          source: cfg.instance.sourceId,
          binlog: formatPosition(m.pos),
          gtid: m.gtid,
          readOnly: !!req.lockUpstream,
        });
      } finally {
        c.close();
      }
    }
    await this.reach(task, final, req.waitSeconds ?? 300, progress);
    const since = this.host.checkData.lastCheck(task);
    const changed = new Set<string>();
    let all = !since;
    for (const cfg of cfgs) {
      const from = since?.get(cfg.instance.sourceId);
      if (!from) {
        all = true;
        continue;
      }
      const to = parsePosition(final.find((f) => f.source === cfg.instance.sourceId)!.binlog);
      for (const t of (await changedTables(cfg, from, to).catch(() => undefined)) ?? new Set(['*']))
        changed.add(t);
      if (changed.has('*')) all = true;
    }
    progress(all ? 'comparing every table' : `comparing ${changed.size} changed table(s)`);
    const job = await this.compare(task, cfgs, all ? undefined : changed);
    const equal = job.state === 'finished' && job.differences === 0;
    return {
      verdict: equal ? 'equal' : 'different',
      advice: equal
        ? `the target holds everything the upstream committed up to the final positions${req.lockUpstream ? ' and the upstream is read-only: point the application at the target' : ": stop the application's writes to the upstream (or use --lock-upstream) before moving it"}`
        : `the target differs (${job.error ?? `${job.differences} row(s)`}): do not move the application; see check.sqlFile and run check-data --fix`,
      final,
      lag,
      checkedTables: all ? ['*'] : (job.tables ?? []).map((t) => t.table),
      check: { differences: job.differences, sqlFile: job.sqlFile, tables: job.tables, skipped: job.skipped },
    };
  }

  /** Waits until every subtask's Sync has applied its source's final position. */
  private async reach(
    task: string,
    final: FinalPosition[],
    seconds: number,
    progress: (s: string) => void,
  ): Promise<void> {
    const deadline = Date.now() + seconds * 1000;
    for (const f of final) {
      const want = parsePosition(f.binlog);
      progress(`waiting for source ${f.source}'s subtask to apply ${f.binlog}`);
      for (;;) {
        const st = await this.host.subtaskStatus(task, f.source);
        const at = typeof st === 'string' ? '' : String(st.sync?.syncerBinlog ?? '');
        if (at) {
          const p = parsePosition(at);
          if (comparePosition({ file: parseRelayName(p.file).file, pos: p.pos }, want) >= 0) break;
        }
        if (typeof st !== 'string' && st.stage !== 'Running')
          throw new DMError(
            ERR.cutoverRefused,
            `the subtask of source ${f.source} became ${st.stage} before it reached ${f.binlog}`,
          );
        if (Date.now() > deadline)
          throw new DMError(ERR.cutoverRefused, {
            message: `the subtask of source ${f.source} did not reach ${f.binlog} within ${seconds} s (it is at ${at || 'no position'})`,
            workaround:
              'Let Sync catch up (query-status shows its lag) and run cutover again, or give --wait more seconds.',
          });
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  private async compare(task: string, cfgs: SubTaskConfig[], changed?: Set<string>): Promise<CheckDataJob> {
    let tables: string[] | undefined;
    if (changed) {
      const upstream = new Map<string, { db: string; table: string }[]>();
      for (const t of changed) {
        const [db, table] = t.split('.');
        for (const c of cfgs)
          upstream.set(c.instance.sourceId, [...(upstream.get(c.instance.sourceId) ?? []), { db, table }]);
      }
      tables = planTables(cfgs, upstream).targets.map((x) => `${x.db}.${x.table}`);
      if (!tables.length)
        return {
          differences: 0,
          fixed: 0,
          state: 'finished',
          sqlFile: '',
          tables: [],
          skipped: [],
        } as unknown as CheckDataJob;
    }
    const job = await this.host.checkData.start(task, { tables });
    while (job.state === 'running') await new Promise((r) => setTimeout(r, 200));
    return job;
  }
}

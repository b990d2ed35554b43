// dmctl check-data and cutover (ours). check-data compares a task's target tables with their
// upstream tables, chunk by chunk, while Sync runs; cutover guides the switch of the application.
// Both are jobs on the leader: their steps on stderr, the report as JSON on stdout; exit code 1
// when a difference is left (as diff(1)), the verdict is not "equal", or the work could not be done.
import type { Command } from 'commander';
import { DMError, ERR } from '../errors.js';
import { ask, sourcesOpt, taskName, type Answer } from './ctl.js';
import type { Progress } from '../diff/run.js';

const usage = (msg: string) => new DMError(ERR.dmctlUsage, msg);

function positive(name: string, max: number) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max)
      throw usage(`--${name} must be an integer from 1 to ${max}, not '${v}'`);
    return n;
  };
}

interface Job extends Answer {
  id: string;
  state: 'running' | 'finished' | 'failed';
  progress?: Progress;
  differences: number;
  fixed: number;
  error?: string;
}

/** Polls a job to its end, printing on stderr each progress line it has not printed yet. */
export async function followJob(path: string, progress: (j: Job) => string[]): Promise<Job> {
  let printed = 0;
  let last = '';
  for (;;) {
    const j = await ask<Job>('GET', path);
    // a growing list prints its new lines; a single line prints when it changes
    const all = progress(j);
    for (const l of all.length > printed ? all.slice(printed) : all.slice(-1)) {
      if (l === last) continue;
      process.stderr.write(l + '\n');
      last = l;
    }
    printed = Math.max(printed, all.length);
    if (j.state !== 'running') return j;
    await new Promise((r) => setTimeout(r, 500));
  }
}

export function checkCommands(program: Command): void {
  program
    .command('cutover')
    .description(
      'cutover <task> [--lock-upstream] [--wait seconds]: check lag, validation and locks, optionally set the upstream read-only, wait until every subtask applied the final position, compare the tables changed since the last check-data, and give a verdict with the final positions',
    )
    .argument('<task-name-or-file>')
    .option('--lock-upstream', 'SET GLOBAL read_only = ON on every source first (needs SUPER)')
    .option(
      '--wait <seconds>',
      'how long the subtasks may take to reach the final positions (default 300)',
      positive('wait', 86_400),
    )
    .action(async (arg: string, o: { lockUpstream?: boolean; wait?: number }) => {
      const task = await taskName(arg);
      const started = await ask<Job>('POST', `/apis/v1alpha1/tasks/${encodeURIComponent(task)}/cutover`, {
        ...(o.lockUpstream ? { lockUpstream: true } : {}),
        ...(o.wait ? { waitSeconds: o.wait } : {}),
      });
      if (started.result === false) {
        process.stdout.write(JSON.stringify(started, null, 4) + '\n');
        process.exitCode = 1;
        return;
      }
      const job = await followJob(`/apis/v1alpha1/cutover/${started.id}`, (j) =>
        ((j.steps as string[] | undefined) ?? []).map((x) => `cutover: ${x}`),
      );
      const report = job.report as { verdict?: string } | undefined;
      const ok = job.state === 'finished' && report?.verdict === 'equal';
      process.stdout.write(JSON.stringify({ ...job, result: ok, msg: job.error ?? '' }, null, 4) + '\n');
      if (!ok) process.exitCode = 1;
    });

  program
    .command('check-data')
    .description(
      'check-data <task> [-s source] [--table db.t] [--fix]: compare the target with the upstream table by table, report each row that differs and the SQL that fixes it (--fix applies it)',
    )
    .argument('<task-name-or-file>')
    .option(...sourcesOpt)
    .option('--table <db.table>', 'only this target table (repeatable)', (v: string, p: string[] = []) => [
      ...p,
      v,
    ])
    .option('--fix', 'apply the statements that make the target equal the upstream')
    .option('--chunk-size <rows>', 'rows per chunk (default 50000)', positive('chunk-size', 10_000_000))
    .option('--threads <n>', 'chunks compared at once (default 4)', positive('threads', 64))
    .action(
      async (
        arg: string,
        o: { source?: string[]; table?: string[]; fix?: boolean; chunkSize?: number; threads?: number },
      ) => {
        for (const t of o.table ?? [])
          if (!/^[^.]+\.[^.]+$/.test(t)) throw usage(`--table '${t}' should be db.table (a target table)`);
        const task = await taskName(arg);
        const started = await ask<Job>(
          'POST',
          `/apis/v1alpha1/tasks/${encodeURIComponent(task)}/check-data`,
          {
            ...(o.source?.length ? { sources: o.source } : {}),
            ...(o.table?.length ? { tables: o.table } : {}),
            ...(o.fix ? { fix: true } : {}),
            ...(o.chunkSize ? { chunkRows: o.chunkSize } : {}),
            ...(o.threads ? { threads: o.threads } : {}),
          },
        );
        if (started.result === false) {
          process.stdout.write(JSON.stringify(started, null, 4) + '\n');
          process.exitCode = 1;
          return;
        }
        const job = await followJob(`/apis/v1alpha1/check-data/${started.id}`, (j) => {
          const p = j.progress;
          return p
            ? [
                `check-data: table ${p.tableIndex + 1}/${p.tables} ${p.table}: ${p.chunks} chunks, ${p.rows} rows, ${p.differences} differences`,
              ]
            : [];
        });
        const ok = job.state === 'finished';
        process.stdout.write(JSON.stringify({ ...job, result: ok, msg: job.error ?? '' }, null, 4) + '\n');
        if (!ok || job.differences > job.fixed) process.exitCode = 1;
      },
    );
}

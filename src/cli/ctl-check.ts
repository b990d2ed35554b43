// dmctl check-data (ours): compare a task's target tables with their upstream tables, chunk by
// chunk, while Sync runs; progress on stderr, the report as JSON on stdout; exit code 1 when a
// difference is left (as diff(1)), or the comparison could not be made.
import type { Command } from 'commander';
import { DMError, ERR } from '../errors.js';
import { ask, sourcesOpt, taskName, type Answer } from './ctl.js';

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
  progress?: {
    table: string;
    tableIndex: number;
    tables: number;
    chunks: number;
    rows: number;
    differences: number;
  };
  differences: number;
  fixed: number;
  error?: string;
}

/** Polls a job to its end, printing its progress on stderr when it changes. */
export async function followJob(path: string, progress: (j: Job) => string | undefined): Promise<Job> {
  let last = '';
  for (;;) {
    const j = await ask<Job>('GET', path);
    const line = progress(j);
    if (line && line !== last) process.stderr.write(line + '\n');
    if (line) last = line;
    if (j.state !== 'running') return j;
    await new Promise((r) => setTimeout(r, 500));
  }
}

export function checkCommands(program: Command): void {
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
    .option('--chunk-size <rows>', 'rows per chunk (default 10000)', positive('chunk-size', 10_000_000))
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
            ? `check-data: table ${p.tableIndex + 1}/${p.tables} ${p.table}: ${p.chunks} chunks, ${p.rows} rows, ${p.differences} differences`
            : undefined;
        });
        const ok = job.state === 'finished';
        process.stdout.write(JSON.stringify({ ...job, result: ok, msg: job.error ?? '' }, null, 4) + '\n');
        if (!ok || job.differences > job.fixed) process.exitCode = 1;
      },
    );
}

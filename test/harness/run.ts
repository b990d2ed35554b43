// Running the project's run-task CLI as a child process (so tests can SIGKILL it), and comparing
// tables between servers.
import { after } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import assert from 'node:assert/strict';
import type { MariaDBSandbox } from '../../src/sandbox/mariadb.js';
import type { QueryStatus, SubTaskStatus } from '../../src/task/status.js';
import { masterStatus } from './index.js';

export interface RunTask {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

export function runTask(task: string, sources: string[], statusFile?: string): RunTask {
  const args = [
    '--import',
    'tsx',
    'src/cli/run-task.ts',
    '--task',
    task,
    ...sources.flatMap((s) => ['--source', s]),
  ];
  if (statusFile) args.push('--status-file', statusFile, '--status-interval-ms', '50');
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // Never outlive the test file (a failed assertion may leave a child running).
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

/** Runs the task to its end; returns the final query-status printed on stdout. */
export async function runTaskToEnd(
  task: string,
  sources: string[],
  timeoutMs = 300_000,
): Promise<{ code: number | null; status: QueryStatus; stderr: string }> {
  const run = runTask(task, sources);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs);
  const r = await run.done;
  clearTimeout(timer);
  if (r.signal === 'SIGKILL') throw new Error(`run-task did not end within ${timeoutMs} ms:\n${r.stderr}`);
  let status: QueryStatus;
  try {
    status = JSON.parse(r.stdout) as QueryStatus;
  } catch {
    throw new Error(`run-task printed no status (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return { code: r.code, status, stderr: r.stderr };
}

export async function readStatus(file: string): Promise<QueryStatus | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as QueryStatus;
  } catch {
    return undefined;
  }
}

/** Asserts that each table has the same row count and CHECKSUM TABLE on both servers. */
export async function assertTablesEqual(
  up: MariaDBSandbox,
  down: MariaDBSandbox,
  tables: string[],
): Promise<void> {
  for (const t of tables) {
    const sql = `SELECT COUNT(*) AS n FROM ${t}; CHECKSUM TABLE ${t}`;
    const [a, b] = (await Promise.all([up.exec(sql), down.exec(sql)])) as [
      [{ n: string }[], { Checksum: string }[]],
      [{ n: string }[], { Checksum: string }[]],
    ];
    assert.equal(b[0][0].n, a[0][0].n, `row count of ${t}`);
    assert.equal(b[1][0].Checksum, a[1][0].Checksum, `CHECKSUM TABLE ${t}`);
  }
}

/** Waits until each subtask in run-task's status file (in source order) has applied its
 * upstream's binlog up to now; a paused subtask fails the test. */
export async function caughtUpInFile(
  statusFile: string,
  ups: MariaDBSandbox[],
  timeoutMs = 120_000,
): Promise<SubTaskStatus[]> {
  const want = await Promise.all(ups.map((u) => masterStatus(u)));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const sts = (await readStatus(statusFile))?.workers.map((w) => w.subTaskStatus[0]) ?? [];
    for (const st of sts) if (st?.stage === 'Paused') assert.fail(JSON.stringify(st.result));
    const at = sts.map((st) => (st?.sync as { syncerBinlog?: string } | undefined)?.syncerBinlog);
    if (at.length === ups.length && at.every((p, i) => p === `(${want[i].file}, ${want[i].pos})`)) return sts;
    if (Date.now() > deadline) assert.fail(`not caught up: ${JSON.stringify(sts)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

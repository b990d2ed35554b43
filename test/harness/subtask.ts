// Subtasks run inside the test process (no master, no worker): made from DM task and source files
// for sandbox servers, stopped when the test file ends, and waited for until Sync has caught up.
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { masterStatus, type MariaDBSandbox } from './index.js';
import { sourceYaml, taskYaml, writeTemp } from './task.js';
import { parseSourceConfig, parseTaskConfig, subTaskConfigs } from '../../src/task/config.js';
import { SubTask } from '../../src/worker/subtask.js';
import type { SubTaskStatus } from '../../src/task/status.js';

export const quiet = pino({ level: 'silent' });

export interface SubtaskOptions {
  /** syncers.global settings (YAML lines). */
  syncer?: string;
  /** The dump directory's parent (default: a fresh temp directory). */
  dir?: string;
  mode?: string;
  /** More task file lines. */
  extra?: string;
  /** More keys of the mysql-instances entry. */
  instance?: string;
}

/** An `all` subtask from `up` to `down`, not started yet. */
export async function subtask(
  up: MariaDBSandbox,
  down: MariaDBSandbox,
  name: string,
  o: SubtaskOptions = {},
): Promise<SubTask> {
  const dir = o.dir ?? (await writeTemp({})).dir;
  const task = parseTaskConfig(
    taskYaml({
      name,
      mode: o.mode ?? 'all',
      target: down,
      sources: ['src'],
      dir,
      syncer: o.syncer,
      extra: o.extra,
      instance: o.instance,
    }),
  );
  const [cfg] = subTaskConfigs(task, [parseSourceConfig(sourceYaml('src', up))]);
  return stopAtEnd(new SubTask(cfg, { log: quiet, autoResumeMs: 500 }));
}

/** Stops the subtask when the test file ends, also after a failed assertion (a running subtask
 * would keep the test process alive). */
export function stopAtEnd(st: SubTask): SubTask {
  after(async () => {
    if (st.stage === 'Running' || st.stage === 'Paused') await st.stop();
  });
  return st;
}

/** Waits until Sync has applied everything the upstream has written so far. */
export async function caughtUp(
  up: MariaDBSandbox,
  status: () => Promise<SubTaskStatus | undefined>,
  timeoutMs = 120_000,
): Promise<SubTaskStatus> {
  const target = await masterStatus(up);
  const want = `(${target.file}, ${target.pos})`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const st = await status();
    if (st?.stage === 'Paused' && st.result?.errors.some((e) => !e.retryable))
      assert.fail(`paused: ${JSON.stringify(st.result)}`);
    const sync = st?.sync as { syncerBinlog?: string } | undefined;
    if (sync?.syncerBinlog === want) return st!;
    if (Date.now() > deadline)
      assert.fail(`not caught up with ${want} within ${timeoutMs} ms: ${JSON.stringify(st)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The user tables of a server, quoted, sorted. */
export async function userTables(s: MariaDBSandbox): Promise<string[]> {
  const rows = (await s.exec(
    "SELECT CONCAT('`', TABLE_SCHEMA, '`.`', TABLE_NAME, '`') t FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN ('mysql','information_schema','performance_schema','sys','dm_meta') AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1",
  )) as { t: string }[];
  return rows.map((r) => r.t);
}

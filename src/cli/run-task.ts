// Runs one task's subtasks inside this process, for a single machine: reads the task file and the
// source files, runs every subtask, shows progress, and writes query-status to a file. It exits 0
// when every subtask finished, 1 when one is paused by an error that needs the operator.
// Like DM's start-task, it runs the precheck first and refuses to start when an item fails
// (`--check` only prints the precheck).
//   run-task --task task.yaml --source source1.yaml [--source source2.yaml] [--check]
//            [--status-file status.json] [--status-interval-ms 500]
import { rename, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { DMError } from '../errors.js';
import { log } from '../log.js';
import { loadSourceFile, loadTaskFile, subTaskConfigs } from '../task/config.js';
import type { QueryStatus } from '../task/status.js';
import { SourceRuntime } from '../worker/runtime.js';
import type { SubTask } from '../worker/subtask.js';
import { localCoordinator, ShardLocks } from '../shard/locks.js';
import { progressLine } from './progress.js';
import { checkTask } from '../units/check/check.js';

const USAGE =
  'usage: run-task --task task.yaml --source source.yaml [--source …] [--status-file F] [--status-interval-ms N]';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      task: { type: 'string' },
      source: { type: 'string', multiple: true },
      'status-file': { type: 'string' },
      'status-interval-ms': { type: 'string', default: '500' },
      check: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || !values.task || !values.source?.length) {
    process.stderr.write(USAGE + '\n');
    return values.help ? 0 : 2;
  }
  const task = await loadTaskFile(values.task);
  const sources = await Promise.all(values.source.map(loadSourceFile));
  for (const w of [...task.warnings, ...sources.flatMap((s) => s.warnings)]) log.warn(`config: ${w}`);
  // One process runs every source: the sharding DDL locks live here too.
  const locks = new ShardLocks();
  // A runtime per source (its relay with enable-relay, relay-dir/<source-id>), as a dm-worker runs it.
  const runtimes = new Map<string, SourceRuntime>();
  const subtasks = subTaskConfigs(task, sources).map((cfg) => {
    const src = cfg.source;
    let rt = runtimes.get(src.sourceId);
    if (!rt) {
      rt = new SourceRuntime(src, {
        log,
        coordinator: (name, source) => localCoordinator(locks, name, source),
      });
      runtimes.set(src.sourceId, rt);
    }
    return rt.add(cfg);
  });

  const status = (): QueryStatus => ({
    result: true,
    msg: '',
    workers: subtasks.map((st) => ({
      result: true,
      worker: `local/${st.cfg.instance.sourceId}`,
      msg: '',
      subTaskStatus: [st.status()],
      relayStatus: runtimes.get(st.cfg.source.sourceId)?.relayStatus() ?? null,
    })),
  });
  const tty = process.stderr.isTTY;
  const statusFile = values['status-file'];
  let reporting: Promise<void> = Promise.resolve();
  const report = () =>
    (reporting = reporting
      .then(writeReport)
      .catch((e: Error) => log.warn({ err: e.message }, 'cannot write the status file')));
  const writeReport = async () => {
    const s = status();
    if (statusFile) {
      await writeFile(statusFile + '.tmp', JSON.stringify(s, null, 2));
      await rename(statusFile + '.tmp', statusFile);
    }
    if (tty)
      process.stderr.write(
        '\r' + s.workers.map((w) => progressLine(w.subTaskStatus[0])).join(' | ') + '\x1b[K',
      );
  };
  const timer = setInterval(() => void report(), Number(values['status-interval-ms']));
  const stop = async () => {
    // Checkpoints make any moment safe to stop at; do not wait forever for a unit to wind down.
    setTimeout(() => {
      log.warn('subtasks did not stop within 10 s; exiting anyway (they resume from their checkpoints)');
      process.exit(130);
    }, 10_000).unref();
    await Promise.all(
      subtasks.map((s) => (s.stage === 'Running' || s.stage === 'Paused' ? s.stop() : undefined)),
    );
    await Promise.all([...runtimes.values()].map((r) => r.relay?.close()));
    await report();
    process.exit(130);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());

  const check = await checkTask(subtasks.map((st) => st.cfg));
  for (const c of check.checkResult) {
    for (const r of c.results) {
      if (r.state !== 'success')
        log.warn(
          { source: c.source, item: r.name, errors: r.errors, instruction: r.instruction },
          `precheck: ${r.state}`,
        );
    }
  }
  if (values.check || !check.result) {
    process.stdout.write(JSON.stringify(check, null, 2) + '\n');
    return check.result ? 0 : 1;
  }

  for (const st of subtasks) st.start();
  for (const r of runtimes.values()) r.relay?.start();
  const needsOperator = (st: SubTask) =>
    st.stage === 'Paused' && !!st.result?.errors.some((e) => !e.retryable);
  while (!subtasks.every((st) => st.stage === 'Finished') && !subtasks.some(needsOperator)) {
    await new Promise((r) => setTimeout(r, 50));
  }
  clearInterval(timer);
  await Promise.all([...runtimes.values()].map((r) => r.relay?.close()));
  await report();
  if (tty) process.stderr.write('\n');
  const s = status();
  process.stdout.write(JSON.stringify(s, null, 2) + '\n');
  return subtasks.every((st) => st.stage === 'Finished') ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${e instanceof DMError ? e.toString() : (e as Error).stack}\n`);
    process.exit(2);
  },
);

// dmctl validation start | stop | status | show-error | ignore-error | resolve-error | clear-error |
// update, with DM's arguments, flags and checks (dm/ctl/master/*validation*.go): each mistake is
// refused here with DM's words before anything is sent.
import type { Command } from 'commander';
import { DMError, ERR } from '../errors.js';
import { checkStartTime } from '../units/sync/start-time.js';
import { request, sourcesOpt, taskName } from './ctl.js';

const usage = (msg: string) => new DMError(ERR.dmctlUsage, msg);

/** `[task-name]` or `--all-task`, exactly one of them (DM's rule). */
function target(args: string[], allTask: boolean | undefined): string | undefined {
  if (args.length > 1) throw usage('too many arguments are specified');
  if (args.length === 1 && allTask) throw usage('either `task-name` or `all-task` should be set');
  if (!args.length && !allTask) throw usage('either `task-name` or `all-task` should be set');
  return args[0];
}

async function send(body: Record<string, unknown>, task?: string, sources?: string[]): Promise<void> {
  return request('POST', '/apis/v1alpha1/validation', {
    ...(task ? { task: await taskName(task) } : {}),
    ...(sources?.length ? { sources } : {}),
    ...body,
  });
}

function errorOp(v: Command, op: 'ignore-error' | 'resolve-error' | 'clear-error', what: string): void {
  v.command(op)
    .description(`${op} <task-name> <error-id|--all>: ${what} validation error row(s)`)
    .argument('<task-name>')
    .argument('[error-id]')
    .option('--all', 'all errors')
    .action(async (task: string, id: string | undefined, o: { all?: boolean }) => {
      if ((id === undefined) === !o.all) throw usage('either `--all` or `error-id` should be set');
      if (id !== undefined && !/^\d+$/.test(id))
        throw usage('`error-id` should be integer when `--all` is not set');
      await send({ op, ...(id !== undefined ? { id: Number(id) } : {}) }, task);
    });
}

export function validationCommands(program: Command): void {
  const v = program
    .command('validation')
    .description(
      'continuous validation: start, stop, status, show-error, ignore-error, resolve-error, clear-error, update',
    );
  v.command('start')
    .description(
      'start [--all-task] [task-name] [--mode full|fast] [--start-time t]: start (or resume) validation',
    )
    .argument('[task-name...]')
    .option('--all-task', 'all tasks')
    .option(...sourcesOpt)
    .option('--mode <mode>', 'full (every column) or fast (existence); only for a validator never started')
    .option('--start-time <time>', 'where in the binlog a validator never started begins')
    .action(
      async (
        args: string[],
        o: { allTask?: boolean; source?: string[]; mode?: string; startTime?: string },
      ) => {
        if (o.mode !== undefined && o.mode !== 'full' && o.mode !== 'fast')
          throw usage(`mode should be either \`full\` or \`fast\`, current is \`${o.mode}\``);
        if (o.startTime !== undefined) checkStartTime(o.startTime);
        const task = target(args, o.allTask);
        await send({ op: 'start', mode: o.mode, startTime: o.startTime }, task, o.source);
      },
    );
  v.command('stop')
    .description('stop [--all-task] [task-name]: stop validation')
    .argument('[task-name...]')
    .option('--all-task', 'all tasks')
    .option(...sourcesOpt)
    .action(async (args: string[], o: { allTask?: boolean; source?: string[] }) => {
      await send({ op: 'stop' }, target(args, o.allTask), o.source);
    });
  v.command('status')
    .description(
      'status [--table-stage running|stopped] <task-name>: where each validator is, with its tables',
    )
    .argument('<task-name>')
    .option('--table-stage <stage>', 'only tables in this stage: running or stopped')
    .action(async (task: string, o: { tableStage?: string }) => {
      if (o.tableStage !== undefined && o.tableStage !== 'running' && o.tableStage !== 'stopped')
        throw usage('stage should be either `running` or `stopped`');
      await send({ op: 'status', tableStage: o.tableStage || undefined }, task);
    });
  v.command('show-error')
    .description('show-error [--error all|ignored|unprocessed] <task-name>: the error rows')
    .argument('<task-name>')
    .option('--error <state>', 'all, ignored or unprocessed', 'unprocessed')
    .action(async (task: string, o: { error: string }) => {
      if (!['all', 'ignored', 'unprocessed'].includes(o.error))
        throw usage('error flag should be either `all`, `ignored`, or `unprocessed`');
      await send({ op: 'show-error', error: o.error }, task);
    });
  errorOp(v, 'ignore-error', 'ignore');
  errorOp(v, 'resolve-error', 'mark as resolved');
  errorOp(v, 'clear-error', 'delete');
  v.command('update')
    .description(
      'update <task-name> --cutover-binlog-pos "(file, pos)" | --cutover-binlog-gtid set: the cut-over point',
    )
    .argument('<task-name>')
    .option(...sourcesOpt)
    .option('--cutover-binlog-pos <pos>', "the cut-over position, e.g. '(mysql-bin.000001, 5989)'")
    .option('--cutover-binlog-gtid <gtid>', 'the cut-over GTID set')
    .action(
      async (
        task: string,
        o: { source?: string[]; cutoverBinlogPos?: string; cutoverBinlogGtid?: string },
      ) => {
        if (o.cutoverBinlogPos === undefined && o.cutoverBinlogGtid === undefined)
          throw usage('either `cutover-binlog-pos` or `cutover-binlog-gtid` should be set');
        if (o.cutoverBinlogPos !== undefined && o.cutoverBinlogGtid !== undefined)
          throw usage('you can only specify one of `cutover-binlog-pos` and `cutover-binlog-gtid`');
        if (o.cutoverBinlogPos !== undefined && !/^\(\s*[^,\s]+\s*,\s*\d+\s*\)$/.test(o.cutoverBinlogPos))
          throw usage(`cutover-binlog-pos '${o.cutoverBinlogPos}' should be like '(mysql-bin.000001, 5989)'`);
        await send(
          { op: 'update', cutoverBinlogPos: o.cutoverBinlogPos, cutoverBinlogGtid: o.cutoverBinlogGtid },
          task,
          o.source,
        );
      },
    );
}

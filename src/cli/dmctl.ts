#!/usr/bin/env node
// dmctl: the operator's CLI, with DM's command names and flags. Prints the master's JSON answer
// and exits 0 when its `result` is true, 1 otherwise; a problem found before asking the master
// (a bad file, an unreachable master) is one line on stderr and exit code 1.
//   dmctl --master-addr 127.0.0.1:8261 <command> [args]
import { DMError, ERR, specOf } from '../errors.js';
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { call, type Route } from '../api/http.js';
import { encryptPassword } from '../task/encrypt.js';
import { parseSourceConfig, parseTaskConfig } from '../task/config.js';
import { configError } from '../task/yaml.js';
import { VERSION } from './version.js';

const program = new Command('dmctl')
  .option('--master-addr <host:port>', 'dm-master address (or DM_MASTER_ADDR)')
  .option('--rpc-timeout <duration>', 'how long to wait for the master (e.g. 30s, 10m; default 10m)')
  .version(VERSION, '-V, --version')
  .showHelpAfterError();

/** `--rpc-timeout` in ms (DM's default: 10 minutes). */
function rpcTimeout(): number {
  const t = program.opts<{ rpcTimeout?: string }>().rpcTimeout;
  if (!t) return 600_000;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(t.trim());
  if (!m) throw new DMError(ERR.dmctlUsage, `--rpc-timeout '${t}' is not a duration; write e.g. 30s or 10m`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

function masterAddr(): string {
  const a = (program.opts<{ masterAddr?: string }>().masterAddr ?? process.env.DM_MASTER_ADDR ?? '').replace(
    /^https?:\/\//,
    '',
  );
  if (!a)
    throw new DMError(
      ERR.dmctlUsage,
      '--master-addr is required, e.g. dmctl --master-addr 127.0.0.1:8261 query-status',
    );
  return a;
}

type Answer = Record<string, unknown> & { result?: boolean };

async function request(
  method: Route['method'],
  path: string,
  body?: unknown,
  shape: (a: Answer) => Answer = (a) => a,
): Promise<void> {
  const addr = masterAddr();
  let answer: Answer;
  try {
    answer = shape(await call<Answer>(addr, method, path, body, rpcTimeout(), 'dm-master'));
  } catch (e) {
    if (e instanceof DMError)
      throw new DMError(specOf(e.code) ?? ERR.unreachable, {
        message: `${e.message}; is dm-master running there? (check --master-addr)`,
        workaround: e.workaround,
        cause: e,
      });
    throw e;
  }
  process.stdout.write(JSON.stringify(answer, null, 4) + '\n');
  if (answer.result === false) process.exitCode = 1;
}

async function readConfig(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw configError(path, `cannot be read: ${(e as Error).message}`, 'Check the path.');
  }
}

/** A task file is validated here first, so its errors name the operator's path and line. */
async function taskFile(path: string): Promise<{ file: string; yaml: string; name: string }> {
  const yaml = await readConfig(path);
  return { file: path, yaml, name: parseTaskConfig(yaml, path).name };
}

/** `pause-task` etc. take a task name or a task file (DM allows both). */
async function taskName(arg: string): Promise<string> {
  return /\.ya?ml$/i.test(arg) ? (await taskFile(arg)).name : arg;
}

/** DM's -s/--source: one value per flag, repeatable, each comma-separated (`-s a,b -s c`); unlike a
 * variadic option it never swallows the task name after it (`query-status -s a task`). */
function collectSources(v: string, prev: string[] = []): string[] {
  return [
    ...prev,
    ...v
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  ];
}

const sourcesOpt = [
  '-s, --source <id>',
  'only these sources (repeatable, comma-separated)',
  collectSources,
] as const;

program
  .command('operate-source')
  .description(
    'create | stop | show sources: operate-source create source.yaml…, stop <source-id|file>…, show [id…]',
  )
  .argument('<op>', 'create, stop or show')
  .argument('[args...]', 'source files (create), source ids or files (stop, show)')
  .action(async (op: string, args: string[]) => {
    if (op === 'create') {
      if (!args.length)
        throw new DMError(ERR.dmctlUsage, 'operate-source create needs at least one source file');
      const files = await Promise.all(
        args.map(async (file) => {
          const yaml = await readConfig(file);
          parseSourceConfig(yaml, file);
          return { file, yaml };
        }),
      );
      return request('POST', '/api/v1/sources', { files });
    }
    const ids = await Promise.all(
      args.map(async (a) => (/\.ya?ml$/i.test(a) ? parseSourceConfig(await readConfig(a), a).sourceId : a)),
    );
    if (op === 'stop') {
      if (!ids.length) throw new DMError(ERR.dmctlUsage, 'operate-source stop needs a source id or file');
      return request('POST', '/api/v1/sources/stop', { ids });
    }
    if (op === 'show') return request('GET', `/api/v1/sources?ids=${ids.map(encodeURIComponent).join(',')}`);
    throw new DMError(ERR.dmctlUsage, `operate-source: unknown operation '${op}'; use create, stop or show`);
  });

program
  .command('start-task')
  .description('start a task from its file (also restarts a Stopped task, from its checkpoint)')
  .argument('<task-file>')
  .option('--remove-meta', 'drop the task’s checkpoints first and migrate from scratch')
  .action(async (path: string, o: { removeMeta?: boolean }) => {
    const { file, yaml } = await taskFile(path);
    return request('POST', '/api/v1/tasks', { files: [{ file, yaml }], removeMeta: !!o.removeMeta });
  });

for (const [name, op, what] of [
  ['pause-task', 'pause', 'pause a Running task'],
  ['resume-task', 'resume', 'resume a Paused task'],
  ['stop-task', 'stop', 'stop a task (stop-task on a Stopped task removes it)'],
] as const) {
  program
    .command(name)
    .description(what)
    .argument(
      op === 'stop' ? '<task-name-or-file>' : '[task-name-or-file]',
      'the task (pause/resume: or every task of -s)',
    )
    .option(...sourcesOpt)
    .action(async (arg: string | undefined, o: { source?: string[] }) => {
      if (arg) {
        return request('POST', `/api/v1/tasks/${encodeURIComponent(await taskName(arg))}/${op}`, {
          sources: o.source,
        });
      }
      if (!o.source?.length)
        throw new DMError(
          ERR.dmctlUsage,
          `${name} needs a task name, or -s <source> for every task of the source`,
        );
      return everyTaskOf(o.source, op);
    });
}

/** pause-task / resume-task -s <source> without a task: the operation on every task of those
 * sources (each answered in turn). */
async function everyTaskOf(sources: string[], op: string): Promise<void> {
  const list = await call<{ tasks?: Array<{ taskName: string; sources: string[] }> }>(
    masterAddr(),
    'GET',
    '/api/v1/status',
    undefined,
    rpcTimeout(),
    'dm-master',
  );
  const tasks = (list.tasks ?? []).filter((t) => t.sources.some((s) => sources.includes(s)));
  if (!tasks.length) {
    process.stdout.write(
      JSON.stringify(
        { result: false, msg: `no task runs on source ${sources.join(', ')}`, sources: [] },
        null,
        4,
      ) + '\n',
    );
    process.exitCode = 1;
    return;
  }
  for (const t of tasks) {
    await request('POST', `/api/v1/tasks/${encodeURIComponent(t.taskName)}/${op}`, {
      sources: t.sources.filter((s) => sources.includes(s)),
    });
  }
}

program
  .command('query-status')
  .description('status of one task (detailed) or of every task (list)')
  .argument('[task-name-or-file]')
  .option(...sourcesOpt)
  .action(async (arg: string | undefined, o: { source?: string[] }) => {
    const path = arg ? `/api/v1/status/${encodeURIComponent(await taskName(arg))}` : '/api/v1/status';
    // -s: only these sources' workers (in the list: the tasks on them)
    const only = (a: Answer): Answer => {
      if (a.result === false) return a;
      const keep = (s?: string) => !!s && o.source!.includes(s);
      const known = new Set([
        ...((a.workers as Array<{ source?: string }> | undefined) ?? []).map((w) => w.source),
        ...((a.tasks as Array<{ sources: string[] }> | undefined) ?? []).flatMap((t) => t.sources),
      ]);
      const unknown = o.source!.filter((s) => !known.has(s));
      if (unknown.length) {
        return {
          result: false,
          msg: `source ${unknown.map((s) => `'${s}'`).join(', ')} ${arg ? `is not a source of task '${arg}'` : 'runs no task'}; operate-source show lists the sources`,
          ...(arg ? { workers: [] } : { tasks: [] }),
        };
      }
      if (Array.isArray(a.workers))
        a.workers = (a.workers as Array<{ source?: string }>).filter((w) => keep(w.source));
      if (Array.isArray(a.tasks))
        a.tasks = (a.tasks as Array<{ sources: string[] }>).filter((t) => t.sources.some(keep));
      return a;
    };
    return request('GET', path, undefined, o.source?.length ? only : undefined);
  });

program
  .command('check-task')
  .description('run the precheck of a task file')
  .argument('<task-file>')
  .action(async (path: string) => {
    const { file, yaml } = await taskFile(path);
    return request('POST', '/api/v1/tasks/check', { files: [{ file, yaml }] });
  });

program
  .command('list-member')
  .description('the master and the workers (free, bound or offline)')
  .option('--leader', 'only the leader')
  .option('--master', 'only the masters')
  .option('--worker', 'only the workers')
  .option('-n, --name <name>', 'only these members (repeatable, comma-separated)', collectSources)
  .action((o: { leader?: boolean; master?: boolean; worker?: boolean; name?: string[] }) =>
    request('GET', '/api/v1/members', undefined, (a) => members(a, o)),
  );

/** DM's list-member filters: the kinds asked for (all when none), the members named. */
function members(
  a: Answer,
  o: { leader?: boolean; master?: boolean; worker?: boolean; name?: string[] },
): Answer {
  if (a.result === false || !Array.isArray(a.members)) return a;
  const kinds = (['leader', 'master', 'worker'] as const).filter((k) => o[k]);
  const named = (m: { name?: string }) => !o.name?.length || o.name.includes(m.name ?? '');
  a.members = (a.members as Array<Record<string, Record<string, unknown>>>)
    .filter((m) => !kinds.length || kinds.some((k) => k in m))
    .map((m) => {
      const [k, v] = Object.entries(m)[0];
      if (k === 'leader') return m;
      const list = (v[`${k}s`] as Array<{ name?: string }>) ?? [];
      return { [k]: { ...v, [`${k}s`]: list.filter(named) } };
    });
  return a;
}

program
  .command('get-config')
  .description('get-config task|source|master|worker <name>')
  .argument('<type>')
  .argument('<name>')
  .action((type: string, name: string) =>
    request('GET', `/api/v1/config/${encodeURIComponent(type)}/${encodeURIComponent(name)}`),
  );

program
  .command('binlog')
  .description(
    'binlog skip <task> | binlog replace <task> <sql…>: get past the change a paused Sync failed on',
  )
  .argument('<op>', 'skip or replace')
  .argument('<task-name-or-file>')
  .argument('[sqls...]', 'replace: the statements to run instead (each one argument)')
  .option(...sourcesOpt)
  .option('-b, --binlog-pos <file:pos>', 'the failed event’s position (default: where the subtask paused)')
  .action(async (op: string, arg: string, sqls: string[], o: { source?: string[]; binlogPos?: string }) => {
    if (op !== 'skip' && op !== 'replace')
      throw new DMError(ERR.dmctlUsage, `binlog: unknown operation '${op}'; use skip or replace`);
    if (op === 'replace' && !sqls.length)
      throw new DMError(ERR.handleErrorArgs, 'binlog replace needs the SQL to run instead');
    return request('POST', `/api/v1/tasks/${encodeURIComponent(await taskName(arg))}/binlog`, {
      op,
      sqls,
      sources: o.source,
      binlogPos: o.binlogPos,
    });
  });

program
  .command('shard-ddl-lock')
  .alias('show-ddl-locks')
  .description(
    'sharding DDL locks: shard-ddl-lock [task] lists them; shard-ddl-lock unlock <lock-id> resolves one by hand',
  )
  .argument('[args...]', '[task] | unlock <lock-id>')
  .action(async (args: string[]) => {
    if (args[0] === 'unlock') {
      if (!args[1])
        throw new DMError(ERR.dmctlUsage, 'shard-ddl-lock unlock needs the lock id, e.g. "test-`db`.`t`"');
      return request('POST', '/api/v1/shard-ddl-locks/unlock', { id: args[1] });
    }
    const q = args[0] ? `?task=${encodeURIComponent(await taskName(args[0]))}` : '';
    return request('GET', `/api/v1/shard-ddl-locks${q}`);
  });

program
  .command('unlock-ddl-lock')
  .description('resolve a sharding DDL lock by hand (same as shard-ddl-lock unlock)')
  .argument('<lock-id>')
  .action((id: string) => request('POST', '/api/v1/shard-ddl-locks/unlock', { id }));

for (const [name, op, what] of [
  ['pause-relay', 'pause', 'pause the relay of the given sources (subtasks go on with what is relayed)'],
  ['resume-relay', 'resume', 'resume a Paused relay'],
] as const) {
  program
    .command(name)
    .description(what)
    .requiredOption(
      '-s, --source <id>',
      'the sources (with enable-relay; repeatable, comma-separated)',
      collectSources,
    )
    .action((o: { source: string[] }) => request('POST', `/api/v1/relay/${op}`, { sources: o.source }));
}

program
  .command('purge-relay')
  .description('remove relay files before --filename (never ones a subtask still needs)')
  .requiredOption(
    '-s, --source <id>',
    'the sources (with enable-relay; repeatable, comma-separated)',
    collectSources,
  )
  .requiredOption('-f, --filename <file>', 'relay files before this binlog file are removed')
  .option('--sub-dir <dir>', 'the relay sub-directory of --filename (default: the current one)')
  .action((o: { source: string[]; filename: string; subDir?: string }) =>
    request('POST', '/api/v1/relay/purge', { sources: o.source, filename: o.filename, subDir: o.subDir }),
  );

program
  .command('encrypt')
  .description('encrypt a password for task and source files')
  .argument('<password>')
  .action((p: string) => {
    process.stdout.write(encryptPassword(p) + '\n');
  });

/** DM's boolean flags also take `=true` / `=false` (`start-task --remove-meta=true`). */
function booleanForms(argv: string[]): string[] {
  return argv.flatMap((a) => {
    const m = /^(--[a-z][a-z-]*)=(true|false)$/.exec(a);
    return !m ? [a] : m[2] === 'true' ? [m[1]] : [];
  });
}

program.parseAsync(booleanForms(process.argv)).catch((e: unknown) => {
  process.stderr.write(`error: ${e instanceof Error ? e.toString().replace(/^Error: /, '') : String(e)}\n`);
  process.exit(1);
});

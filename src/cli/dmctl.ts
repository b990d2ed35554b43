#!/usr/bin/env node
// dmctl: the operator's CLI, with DM's command names and flags. Prints the master's JSON answer
// and exits 0 when its `result` is true, 1 otherwise; a problem found before asking the master
// (a bad file, an unreachable master) is one line on stderr and exit code 1.
//   dmctl --master-addr 127.0.0.1:8261 <command> [args]
import { readFile } from 'node:fs/promises';
import { DMError, ERR } from '../errors.js';
import type { Command } from 'commander';
import { encryptPassword, keepPasswordsEncrypted } from '../task/encrypt.js';
import { parseSourceConfig } from '../task/config.js';
import {
  ask,
  collectSources,
  masterAddr,
  program,
  readConfig,
  request,
  sourcesOpt,
  taskFile,
  taskName,
  type Answer,
} from './ctl.js';
import { configCommands } from './ctl-config.js';
import { validationCommands } from './ctl-validation.js';
import { checkCommands } from './ctl-check.js';
import { checkStartTime, START_TIME_HINT } from '../units/sync/start-time.js';
import { sqlsOfArgs } from './sql-args.js';
import { BINLOG_OPS, operatorPosition } from '../units/sync/operators.js';
import { SCHEMA_OPS } from '../units/sync/schema-op.js';

/** DM's boolean flags that are on unless `=false` is given. */
const TRUE_BY_DEFAULT = new Set(['--flush', '--sync']);

program
  .command('operate-source')
  .description(
    'create | update | stop | show sources: operate-source create source.yaml… [-w worker], update source.yaml…, stop <source-id|file>…, show [id…] [-s id]',
  )
  .argument('[op]', 'create, update, stop or show')
  .argument('[args...]', 'source files (create, update), source ids or files (stop, show)')
  .option(...sourcesOpt)
  .option('-w, --worker <name>', 'create: bind the source to this free worker')
  .option('-p, --print-sample-config', 'print a sample source file')
  .action(
    async (
      op: string | undefined,
      args: string[],
      o: { source?: string[]; worker?: string; printSampleConfig?: boolean },
    ) => {
      if (o.printSampleConfig) {
        process.stdout.write(await readFile(new URL('../../examples/source.yaml', import.meta.url), 'utf8'));
        return;
      }
      if (!op)
        throw new DMError(ERR.dmctlUsage, 'operate-source needs an operation: create, update, stop or show');
      if (o.worker !== undefined && op !== 'create')
        throw new DMError(
          ERR.dmctlUsage,
          `operate-source ${op} takes no -w; only create binds a source to a worker`,
        );
      if (op === 'create' || op === 'update') {
        if (!args.length)
          throw new DMError(ERR.dmctlUsage, `operate-source ${op} needs at least one source file`);
        const files = await Promise.all(
          args.map(async (file) => {
            const yaml = await readConfig(file);
            parseSourceConfig(yaml, file);
            return { file, yaml };
          }),
        );
        if (op === 'update') return request('POST', '/apis/v1alpha1/sources/update', { files });
        return request('POST', '/apis/v1alpha1/sources', {
          files,
          ...(o.worker !== undefined ? { worker: o.worker } : {}),
        });
      }
      const ids = [
        ...(o.source ?? []),
        ...(await Promise.all(
          args.map(async (a) =>
            /\.ya?ml$/i.test(a) ? parseSourceConfig(await readConfig(a), a).sourceId : a,
          ),
        )),
      ];
      if (op === 'stop') {
        if (!ids.length) throw new DMError(ERR.dmctlUsage, 'operate-source stop needs a source id or file');
        return request('POST', '/apis/v1alpha1/sources/stop', { ids });
      }
      if (op === 'show')
        return request('GET', `/apis/v1alpha1/sources?ids=${ids.map(encodeURIComponent).join(',')}`);
      throw new DMError(
        ERR.dmctlUsage,
        `operate-source: unknown operation '${op}'; use create, update, stop or show`,
      );
    },
  );

program
  .command('operate-leader')
  .description(
    'evict: the leader stops leading and does not campaign until cancel-evict (another master takes over); cancel-evict: evicted masters may lead again',
  )
  .argument('<evict|cancel-evict>')
  .option(
    '-n, --name <master>',
    'the master to evict or let lead again (default: the leader / every evicted one; ours)',
  )
  .action((op: string, o: { name?: string }) => {
    if (op !== 'evict' && op !== 'cancel-evict')
      throw new DMError(ERR.dmctlUsage, `invalid operate '${op}' on leader; use evict or cancel-evict`);
    return request('POST', '/apis/v1alpha1/leader', { op, ...(o.name ? { name: o.name } : {}) });
  });

program
  .command('offline-member')
  .description(
    'remove a stopped master or an offline worker from the cluster (offline-member --master|--worker -n name)',
  )
  .option('-m, --master', 'a master')
  .option('-w, --worker', 'a worker')
  .requiredOption('-n, --name <name>', 'the member')
  .action((o: { master?: boolean; worker?: boolean; name: string }) => {
    if (!!o.master === !!o.worker)
      throw new DMError(ERR.dmctlUsage, 'offline-member: give exactly one of --master or --worker');
    return request('POST', '/apis/v1alpha1/members/offline', {
      kind: o.master ? 'master' : 'worker',
      name: o.name,
    });
  });

program
  .command('start-task')
  .description('start a task from its file (also restarts a Stopped task, from its checkpoint)')
  .argument('<task-file>')
  .option(...sourcesOpt)
  .option('--remove-meta', 'drop the task’s checkpoints first and migrate from scratch')
  .option(
    '--start-time <time>',
    `incremental: start at the first binlog transaction at or after it, e.g. ${START_TIME_HINT}`,
  )
  .action(async (path: string, o: { removeMeta?: boolean; startTime?: string; source?: string[] }) => {
    const { file, yaml } = await taskFile(path);
    if (o.startTime !== undefined) checkStartTime(o.startTime);
    return request('POST', '/apis/v1alpha1/tasks', {
      files: [{ file, yaml }],
      removeMeta: !!o.removeMeta,
      ...(o.startTime !== undefined ? { startTime: o.startTime } : {}),
      ...(o.source?.length ? { sources: o.source } : {}),
    });
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
        return request('POST', `/apis/v1alpha1/tasks/${encodeURIComponent(await taskName(arg))}/${op}`, {
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
  const list = await ask<{ tasks?: Array<{ taskName: string; sources: string[] }> }>(
    'GET',
    '/apis/v1alpha1/status',
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
    await request('POST', `/apis/v1alpha1/tasks/${encodeURIComponent(t.taskName)}/${op}`, {
      sources: t.sources.filter((s) => sources.includes(s)),
    });
  }
}

program
  .command('query-status')
  .description('status of one task (detailed) or of every task (list)')
  .argument('[task-name-or-file]')
  .option(...sourcesOpt)
  .option('--more', "every subtask's full status, not the list of tasks (as DM)")
  .action(async (arg: string | undefined, o: { source?: string[]; more?: boolean }) => {
    // DM: without a task, the list of tasks, unless -s or --more asks for the sources' full status
    const path = arg
      ? `/apis/v1alpha1/status/${encodeURIComponent(await taskName(arg))}`
      : o.more || o.source?.length
        ? '/apis/v1alpha1/status?more=true'
        : '/apis/v1alpha1/status';
    // -s: only these sources' workers
    const only = (a: Answer): Answer => {
      if (a.result === false) return a;
      const keep = (s?: string) => !!s && o.source!.includes(s);
      const known = new Set((a.workers as Array<{ source?: string }>).map((w) => w.source));
      const unknown = o.source!.filter((s) => !known.has(s));
      if (unknown.length) {
        return {
          result: false,
          msg: `source ${unknown.map((s) => `'${s}'`).join(', ')} ${arg ? `is not a source of task '${arg}'` : 'runs no task'}; operate-source show lists the sources`,
          workers: [],
        };
      }
      a.workers = (a.workers as Array<{ source?: string }>).filter((w) => keep(w.source));
      return a;
    };
    return request('GET', path, undefined, o.source?.length ? only : undefined);
  });

program
  .command('check-task')
  .description('run the precheck of a task file')
  .argument('<task-file>')
  .option('-e, --error <count>', 'show at most this many failed items per source', '10')
  .option('-w, --warn <count>', 'show at most this many warning items per source', '10')
  .option('--start-time <time>', 'checked for its form (as start-task takes it)')
  .action(async (path: string, o: { error: string; warn: string; startTime?: string }) => {
    const { file, yaml } = await taskFile(path);
    if (o.startTime !== undefined) checkStartTime(o.startTime);
    const limit = { fail: count(o.error, '--error'), warn: count(o.warn, '--warn') };
    return request('POST', '/apis/v1alpha1/tasks/check', { files: [{ file, yaml }] }, (a) => fewer(a, limit));
  });

function count(v: string, flag: string): number {
  if (!/^\d+$/.test(v))
    throw new DMError(ERR.dmctlUsage, `${flag} '${v}' is not a count; give a whole number`);
  return Number(v);
}

/** check-task -e/-w: at most so many failed / warning items of each source shown. */
function fewer(a: Answer, limit: { fail: number; warn: number }): Answer {
  for (const r of (a.checkResult as Array<{ results: Array<{ state: string }> }> | undefined) ?? []) {
    const seen = { fail: 0, warn: 0 };
    r.results = r.results.filter((x) =>
      x.state === 'fail' || x.state === 'warn' ? ++seen[x.state] <= limit[x.state] : true,
    );
  }
  return a;
}

program
  .command('list-member')
  .description('the master and the workers (free, bound or offline)')
  .option('--leader', 'only the leader')
  .option('--master', 'only the masters')
  .option('--worker', 'only the workers')
  .option('-n, --name <name>', 'only these members (repeatable, comma-separated)', collectSources)
  .action((o: { leader?: boolean; master?: boolean; worker?: boolean; name?: string[] }) =>
    request('GET', '/apis/v1alpha1/members', undefined, (a) => members(a, o)),
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

configCommands(program);
validationCommands(program);
checkCommands(program);

const binlogPosOpt = [
  '-b, --binlog-pos <pos>',
  'the event’s end position, as errors show it: "mysql-bin.000003:3270", "(mysql-bin.000003, 3270)" or DM’s "mysql-bin|000001.000003:3270" (default: where the subtask failed)',
] as const;

/** DM's `binlog` and `handle-error` requests: the task, the operation, its SQL. */
async function binlogOp(
  op: string,
  arg: string,
  args: string[],
  o: { source?: string[]; binlogPos?: string },
): Promise<void> {
  if (!(BINLOG_OPS as readonly string[]).includes(op))
    throw new DMError(ERR.dmctlUsage, `binlog: unknown operation '${op}'; use ${BINLOG_OPS.join(', ')}`);
  const withSql = op === 'replace' || op === 'inject';
  if (!withSql && args.length)
    throw new DMError(ERR.handleErrorArgs, `binlog ${op} takes no SQL; only replace and inject do`);
  if (o.binlogPos) operatorPosition(o.binlogPos); // a bad position is refused here
  return request('POST', `/apis/v1alpha1/tasks/${encodeURIComponent(await taskName(arg))}/binlog`, {
    op,
    sqls: withSql ? sqlsOfArgs(args) : [],
    sources: o.source,
    binlogPos: o.binlogPos,
  });
}

program
  .command('binlog')
  .description(
    'binlog skip|replace|inject|revert|list <task> [sql…]: skip the event a paused Sync failed on (or the one at -b), run other SQL instead (replace) or first (inject), cancel such an operation (revert), list the pending ones',
  )
  .argument('<op>', 'skip, replace, inject, revert or list')
  .argument('<task-name-or-file>')
  .argument('[sqls...]', 'replace/inject: the statements, separated by ";"')
  .option(...sourcesOpt)
  .option(...binlogPosOpt)
  .action(binlogOp);

// DM's hidden older form: handle-error <task> [-s] [-b] skip|replace|revert [sql…]
program
  .command('handle-error', { hidden: true })
  .argument('<task-name-or-file>')
  .argument('<op>', 'skip, replace or revert')
  .argument('[sqls...]')
  .option(...sourcesOpt)
  .option(...binlogPosOpt)
  .action((arg: string, op: string, sqls: string[], o: { source?: string[]; binlogPos?: string }) => {
    if (!['skip', 'replace', 'revert'].includes(op))
      throw new DMError(
        ERR.dmctlUsage,
        `handle-error: invalid operation '${op}'; use skip, replace or revert`,
      );
    return binlogOp(op, arg, sqls, o);
  });

interface SchemaFlags {
  source?: string[];
  fromSource?: boolean;
  fromTarget?: boolean;
  flush?: boolean;
  sync?: boolean;
}

/** binlog-schema's request; DM's --flush and --sync are met by design (Sync's schema is the
 * target table, which the coordination of shard DDLs reads too). */
async function schemaOp(
  op: string,
  arg: string,
  db: string,
  table: string,
  file: string | undefined,
  o: SchemaFlags,
): Promise<void> {
  if (!(SCHEMA_OPS as readonly string[]).includes(op))
    throw new DMError(
      ERR.dmctlUsage,
      `binlog-schema: unknown operation '${op}'; use ${SCHEMA_OPS.join(', ')}`,
    );
  if (o.fromSource && o.fromTarget)
    throw new DMError(ERR.dmctlUsage, 'from-source and from-target can not be used together');
  if (op === 'update' && !o.fromSource && !o.fromTarget && !file)
    throw new DMError(
      ERR.dmctlUsage,
      'binlog-schema update needs a schema file, --from-source or --from-target',
    );
  if (file && (o.fromSource || o.fromTarget))
    throw new DMError(ERR.dmctlUsage, 'can not set schema-file when use from-source or from-target');
  if (file && op !== 'update') throw new DMError(ERR.dmctlUsage, `binlog-schema ${op} takes no schema file`);
  return request('POST', `/apis/v1alpha1/tasks/${encodeURIComponent(await taskName(arg))}/schema`, {
    op,
    database: db,
    table,
    ...(o.source?.length ? { sources: o.source } : {}),
    ...(o.fromSource ? { fromSource: true } : {}),
    ...(o.fromTarget ? { fromTarget: true } : {}),
    ...(file ? { schema: await readConfig(file) } : {}),
  });
}

program
  .command('binlog-schema')
  .description(
    'binlog-schema list|update|delete <task> <database> <table> [schema-file]: show the schema Sync uses for an upstream table (its target table), or read it again from the target (update --from-target, delete)',
  )
  .argument('<op>', 'list, update or delete')
  .argument('<task-name-or-file>')
  .argument('<database>', 'the upstream database')
  .argument('<table>', 'the upstream table')
  .argument('[schema-file]')
  .option(...sourcesOpt)
  .option('--from-source', "use the upstream table's schema")
  .option('--from-target', "use the target table's schema")
  .option('--no-flush', "DM's: met by design")
  .option('--no-sync', "DM's: met by design")
  .action(schemaOp);

// DM's hidden older form: operate-schema get|set|remove <task> -d db -t table [schema-file]
program
  .command('operate-schema', { hidden: true })
  .argument('<op>', 'get, set or remove')
  .argument('<task-name-or-file>')
  .argument('[schema-file]')
  .requiredOption('-d, --database <db>')
  .requiredOption('-t, --table <table>')
  .option(...sourcesOpt)
  .option('--no-flush')
  .option('--no-sync')
  .action(
    (
      op: string,
      arg: string,
      file: string | undefined,
      o: SchemaFlags & { database: string; table: string },
    ) => {
      const ours = ({ get: 'list', set: 'update', remove: 'delete' } as Record<string, string>)[op];
      if (!ours)
        throw new DMError(
          ERR.dmctlUsage,
          `operate-schema: invalid operation '${op}'; use get, set or remove`,
        );
      return schemaOp(ours, arg, o.database, o.table, file, o);
    },
  );

interface UnlockFlags {
  owner?: string;
  forceRemove?: boolean;
  action?: string;
  source?: string[];
  database?: string;
  table?: string;
}

/** DM's unlock flags, for `unlock-ddl-lock` and `shard-ddl-lock unlock`. */
function unlockFlags(c: Command): Command {
  return c
    .option('-o, --owner <source>', 'this source executes the DDLs (it must have reached them)')
    .option('-a, --action <exec|skip>', 'exec (default): the owner executes the DDLs; skip: no source does')
    .option('-f, --force-remove', "DM's: remove the lock even if the owner's DDL fails (refused)")
    .option(...sourcesOpt)
    .option('-d, --database <db>', "DM's, for optimistic locks (refused)")
    .option('-t, --table <table>', "DM's, for optimistic locks (refused)");
}

function unlock(id: string, o: UnlockFlags): Promise<void> {
  if (o.forceRemove)
    throw new DMError(
      ERR.dmctlUsage,
      "unlock --force-remove is not supported: when the owner's DDL fails its subtask pauses with the error; fix it there with 'binlog skip' or 'binlog replace' (or unlock with -a skip), and the lock resolves",
    );
  if (o.source?.length || o.database !== undefined || o.table !== undefined)
    throw new DMError(
      ERR.dmctlUsage,
      'unlock -s/-d/-t are for optimistic locks, and shard-mode optimistic keeps none here (each DDL is executed or skipped when it arrives); unlock a pessimistic lock by its id (with -o to pick its owner, -a skip to skip the DDLs everywhere)',
    );
  if (o.action !== undefined && o.action !== 'exec' && o.action !== 'skip')
    throw new DMError(ERR.dmctlUsage, `--action '${o.action}': only exec and skip are accepted (as DM)`);
  return request('POST', '/apis/v1alpha1/shard-ddl-locks/unlock', {
    id,
    ...(o.owner ? { owner: o.owner } : {}),
    ...(o.action ? { action: o.action } : {}),
  });
}

unlockFlags(
  program
    .command('shard-ddl-lock')
    .alias('show-ddl-locks')
    .description(
      'sharding DDL locks: shard-ddl-lock [task] lists them; shard-ddl-lock unlock <lock-id> [-o source] [-a exec|skip] resolves one by hand',
    )
    .argument('[args...]', '[task] | unlock <lock-id>'),
).action(async (args: string[], o: UnlockFlags) => {
  if (args[0] === 'unlock') {
    if (!args[1])
      throw new DMError(ERR.dmctlUsage, 'shard-ddl-lock unlock needs the lock id, e.g. "test-`db`.`t`"');
    return unlock(args[1], o);
  }
  if (Object.values(o).some((v) => v !== undefined))
    throw new DMError(ERR.dmctlUsage, 'shard-ddl-lock takes -o/-a/-f/-s/-d/-t only with unlock');
  const q = args[0] ? `?task=${encodeURIComponent(await taskName(args[0]))}` : '';
  return request('GET', `/apis/v1alpha1/shard-ddl-locks${q}`);
});

unlockFlags(
  program
    .command('unlock-ddl-lock')
    .description('resolve a sharding DDL lock by hand (same as shard-ddl-lock unlock)')
    .argument('<lock-id>'),
).action((id: string, o: UnlockFlags) => unlock(id, o));

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
    .action((o: { source: string[] }) =>
      request('POST', `/apis/v1alpha1/relay/${op}`, { sources: o.source }),
    );
}

for (const op of ['start', 'stop'] as const) {
  program
    .command(`${op}-relay`)
    .description(
      `${op === 'start' ? 'start' : 'stop'} pulling the relay log for a source (as enable-relay: ${op === 'start'} in its file); its subtasks continue from their checkpoints`,
    )
    .argument('[worker...]', "DM's older form: the workers to run it (here: the source's own worker)")
    .requiredOption('-s, --source <id>', 'the source (one)', collectSources)
    .action((w: string[], o: { source: string[] }) => {
      if (o.source.length !== 1)
        throw new DMError(ERR.dmctlUsage, `${op}-relay: must specify one source (-s / --source)`);
      return request('POST', `/apis/v1alpha1/relay/${op}`, { sources: o.source, workers: w });
    });
}

program
  .command('transfer-source')
  .description(
    'move a source to a free worker (its running subtasks must be in Sync); they continue from their checkpoints there',
  )
  .argument('<source-id>')
  .argument('<worker-name>')
  .action((src: string, w: string) =>
    request('POST', `/apis/v1alpha1/sources/${encodeURIComponent(src)}/transfer`, { worker: w }),
  );

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
    request('POST', '/apis/v1alpha1/relay/purge', {
      sources: o.source,
      filename: o.filename,
      subDir: o.subDir,
    }),
  );

program
  .command('encrypt')
  .description(
    "encrypt a password for task and source files: by the master's key (secret-key-path) when a master address is given, else by DM's default key",
  )
  .argument('<password>')
  .action(async (p: string) => {
    let addr: string | undefined;
    try {
      addr = masterAddr();
    } catch {
      // No master: DM v2's offline form, with DM's default key.
    }
    const text = addr
      ? (await ask<{ ciphertext: string }>('POST', '/apis/v1alpha1/encrypt', { plaintext: p })).ciphertext
      : encryptPassword(p);
    process.stdout.write(text + '\n');
  });

/** DM's boolean flags also take `=true` / `=false` (`start-task --remove-meta=true`). */
function booleanForms(argv: string[]): string[] {
  return argv.flatMap((a) => {
    if (TRUE_BY_DEFAULT.has(a)) return []; // on already
    const m = /^(--[a-z][a-z-]*)=(true|false)$/.exec(a);
    if (m && TRUE_BY_DEFAULT.has(m[1])) return m[2] === 'true' ? [] : [`--no-${m[1].slice(2)}`];
    return !m ? [a] : m[2] === 'true' ? [m[1]] : [];
  });
}

keepPasswordsEncrypted();
program.parseAsync(booleanForms(process.argv)).catch((e: unknown) => {
  process.stderr.write(`error: ${e instanceof Error ? e.toString().replace(/^Error: /, '') : String(e)}\n`);
  process.exit(1);
});

// dmctl's client side: the program with its global flags, the request to dm-master (its JSON
// answer printed; exit code 1 when its result is false) and the arguments every command reads.
import { DMError, ERR, specOf } from '../errors.js';
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { callAny, type Route } from '../api/http.js';
import { parseTaskConfig } from '../task/config.js';
import { configError } from '../task/yaml.js';
import { VERSION } from './version.js';
import { readToml, type Settings } from './config-file.js';
import { readProcessTls, setProcessTls } from '../api/process-tls.js';

export const program = new Command('dmctl')
  .option('--master-addr <host:port>', 'dm-master address (or DM_MASTER_ADDR)')
  .option('--rpc-timeout <duration>', 'how long to wait for the master (e.g. 30s, 10m; default 10m)')
  .option('--config <file>', 'a TOML file with master-addr, rpc-timeout and the ssl-* keys (flags win)')
  .option('--ssl-ca <file>', "TLS: the CA of the masters' certificates")
  .option('--ssl-cert <file>', "TLS: dmctl's certificate (the master asks for one)")
  .option('--ssl-key <file>', "TLS: dmctl's key")
  .version(VERSION, '-V, --version')
  .showHelpAfterError()
  .hook('preAction', async () => {
    const o = program.opts<{ config?: string; sslCa?: string; sslCert?: string; sslKey?: string }>();
    if (o.config)
      fileSettings = await readToml(
        o.config,
        ['master-addr', 'rpc-timeout', 'ssl-ca', 'ssl-cert', 'ssl-key'],
        [],
      );
    const pick = (flag: string | undefined, key: string) => flag ?? (fileSettings[key] as string | undefined);
    setProcessTls(
      readProcessTls(
        {
          'ssl-ca': pick(o.sslCa, 'ssl-ca'),
          'ssl-cert': pick(o.sslCert, 'ssl-cert'),
          'ssl-key': pick(o.sslKey, 'ssl-key'),
        },
        'dmctl',
      ),
    );
  });

/** What `--config` gave. */
let fileSettings: Settings = {};

/** `--rpc-timeout` in ms (DM's default: 10 minutes). */
export function rpcTimeout(): number {
  const t =
    program.opts<{ rpcTimeout?: string }>().rpcTimeout ?? (fileSettings['rpc-timeout'] as string | undefined);
  if (!t) return 600_000;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(t.trim());
  if (!m) throw new DMError(ERR.dmctlUsage, `--rpc-timeout '${t}' is not a duration; write e.g. 30s or 10m`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

export function masterAddr(): string {
  const a = String(
    program.opts<{ masterAddr?: string }>().masterAddr ??
      fileSettings['master-addr'] ??
      process.env.DM_MASTER_ADDR ??
      '',
  ).replace(/^https?:\/\//, '');
  if (!a)
    throw new DMError(
      ERR.dmctlUsage,
      '--master-addr is required, e.g. dmctl --master-addr 127.0.0.1:8261 query-status',
    );
  return a;
}

export type Answer = Record<string, unknown> & { result?: boolean };

/** DM's --master-addr a,b,c: the first that answers (a follower forwards to the leader). */
export function ask<T>(method: Route['method'], path: string, body?: unknown): Promise<T> {
  const addrs = masterAddr()
    .split(',')
    .map((a) => a.trim().replace(/^https?:\/\//, ''));
  return callAny<T>(addrs, method, path, body, rpcTimeout(), 'dm-master', 10_000);
}

export async function request(
  method: Route['method'],
  path: string,
  body?: unknown,
  shape: (a: Answer) => Answer | Promise<Answer> = (a) => a,
): Promise<void> {
  let answer: Answer;
  try {
    answer = await shape(await ask<Answer>(method, path, body));
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

export async function readConfig(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw configError(path, `cannot be read: ${(e as Error).message}`, 'Check the path.');
  }
}

/** A task file is validated here first, so its errors name the operator's path and line. */
export async function taskFile(path: string): Promise<{ file: string; yaml: string; name: string }> {
  const yaml = await readConfig(path);
  return { file: path, yaml, name: parseTaskConfig(yaml, path).name };
}

/** `pause-task` etc. take a task name or a task file (DM allows both). */
export async function taskName(arg: string): Promise<string> {
  return /\.ya?ml$/i.test(arg) ? (await taskFile(arg)).name : arg;
}

/** DM's -s/--source: one value per flag, repeatable, each comma-separated (`-s a,b -s c`); unlike a
 * variadic option it never swallows the task name after it (`query-status -s a task`). */
export function collectSources(v: string, prev: string[] = []): string[] {
  return [
    ...prev,
    ...v
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  ];
}

export const sourcesOpt = [
  '-s, --source <id>',
  'only these sources (repeatable, comma-separated)',
  collectSources,
] as const;

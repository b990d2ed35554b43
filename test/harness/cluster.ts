// The project's processes as children of a test: dm-master, dm-worker (killable by PID) and
// dmctl (run to its end), from the TypeScript sources.
import { after } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export interface Proc {
  child: ChildProcess;
  /** host:port the process serves on. */
  addr: string;
  output(): string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

// Killed when the test file ends (registered at import, so a process started inside one test
// outlives that test).
const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) c.kill('SIGKILL');
});

function node(script: string, args: string[], cwd?: string): ChildProcess {
  // tsx by its absolute URL: a worker may run in another directory.
  const tsx = import.meta.resolve('tsx');
  const child = spawn(process.execPath, ['--import', tsx, `${process.cwd()}/src/cli/${script}.ts`, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd,
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

/** Starts a dm-master named `m` with its data in `<dir>/m`, on `addr` (default: a free port). */
export function startMaster(dir: string, addr = '127.0.0.1:0'): Promise<Proc> {
  return daemon('dm-master', ['--name', 'm', '--master-addr', addr, '--data-dir', join(dir, 'm')]);
}

/** Starts dm-master or dm-worker and resolves once it serves. */
export async function daemon(script: 'dm-master' | 'dm-worker', args: string[], cwd?: string): Promise<Proc> {
  const child = node(script, args, cwd);
  let out = '';
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  const addr = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /serving on (\S+)/.exec(out);
      if (m) resolve(m[1].replace(/,$/, ''));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    void exited.then((c) => reject(new Error(`${script} exited (${c}) before serving:\n${out}`)));
  });
  return {
    child,
    addr,
    output: () => out,
    exited,
    kill: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}

export interface CtlResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON, when it is. */
  json: Record<string, unknown> & { result?: boolean; msg?: string };
}

/** Runs dmctl to its end. */
export async function dmctl(master: string | undefined, ...args: string[]): Promise<CtlResult> {
  const child = node('dmctl', master ? ['--master-addr', master, ...args] : args);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  let json = {};
  try {
    json = JSON.parse(stdout) as Record<string, unknown>;
  } catch {
    /* not JSON */
  }
  return { code, stdout, stderr, json };
}

/** Polls `f` until it returns something truthy (an error counts as not yet); fails the test after
 * `timeoutMs` naming `what` and the last answer. */
export async function waitFor<T>(
  what: string,
  f: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const { fail } = await import('node:assert/strict');
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      fail(
        `${what}: not within ${timeoutMs} ms (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

// The etcd member a dm-master runs as its child process (DM embeds one; here it is Debian's
// `etcd` binary), with its data under `<data-dir>/etcd`: started with the master, restarted when
// it dies, stopped with the master. The flags are decided in `memberArgs` (pure); this module
// only starts, watches and stops the process.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { DMError, ERR } from '../errors.js';
import type { Logger } from '../log.js';
import { sleep } from '../async.js';

export interface MemberSettings {
  name: string;
  dataDir: string;
  /** host:port etcd serves its clients on (this master only). */
  clientAddr: string;
  peerUrls: string;
  advertisePeerUrls: string;
  initialCluster: string;
  initialClusterState: 'new' | 'existing';
  /** DM's etcd tuning keys of master.toml, passed on as etcd flags. */
  tuning: Record<string, string | number>;
  /** The master's TLS files: the member serves its clients and peers over TLS with them and
   * requires their certificates (signed by the same CA). */
  tls?: { ca: string; cert: string; key: string };
}

/** The etcd command line of a member (pure). */
export function memberArgs(s: MemberSettings): string[] {
  const client = `${s.tls ? 'https' : 'http'}://${s.clientAddr}`;
  const args = [
    `--name=${s.name}`,
    `--data-dir=${join(s.dataDir, 'etcd')}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${s.peerUrls}`,
    `--initial-advertise-peer-urls=${s.advertisePeerUrls}`,
    `--initial-cluster=${s.initialCluster}`,
    `--initial-cluster-state=${s.initialClusterState}`,
    '--heartbeat-interval=100',
    '--election-timeout=1000',
    '--logger=zap',
    '--log-outputs=stderr',
  ];
  if (s.tls) {
    const { ca, cert, key } = s.tls;
    args.push(
      `--cert-file=${cert}`,
      `--key-file=${key}`,
      `--trusted-ca-file=${ca}`,
      '--client-cert-auth',
      `--peer-cert-file=${cert}`,
      `--peer-key-file=${key}`,
      `--peer-trusted-ca-file=${ca}`,
      '--peer-client-cert-auth',
    );
  }
  for (const [k, v] of Object.entries(s.tuning)) args.push(`--${k}=${v}`);
  return args;
}

/** The host:port of each URL in a comma-separated list. */
export function urlAddrs(urls: string): Array<{ host: string; port: number }> {
  return urls.split(',').map((u) => {
    const url = new URL(u.trim());
    return { host: url.hostname, port: Number(url.port) };
  });
}

/** Refuses a port some other process listens on, naming the flag (etcd would only log it). */
export async function checkPortFree(host: string, port: number, flag: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new DMError(
          ERR.masterEtcd,
          `${flag}: ${host}:${port} is in use (${e.code ?? e.message}); give this master a free port (each master needs its own)`,
        ),
      ),
    );
    srv.listen(port, host, () => srv.close(() => resolve()));
  });
}

/** A free port on `host` (the kernel's choice). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

const WATCHDOG = `p=$1; shift
"$@" & e=$!
trap 'kill -TERM $e 2>/dev/null' TERM INT
while kill -0 $p 2>/dev/null && kill -0 $e 2>/dev/null; do sleep 0.3; done
kill -TERM $e 2>/dev/null
wait $e`;

/** Waits up to `ms` for a port to be free (a member of a master killed just before is still
 * stopping), then refuses it naming the flag. */
async function waitPortFree(host: string, port: number, flag: string, ms = 5000): Promise<void> {
  for (const deadline = Date.now() + ms; ;) {
    try {
      return await checkPortFree(host, port, flag);
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(200);
    }
  }
}

export class EtcdMember {
  private child?: ChildProcess;
  private stopping = false;
  private restarts = 0;
  private readonly logFile: string;

  constructor(
    private readonly s: MemberSettings,
    private readonly log: Logger,
  ) {
    this.logFile = join(s.dataDir, 'etcd.log');
  }

  /** Starts etcd; resolves once the process runs (the client waits until it answers). */
  async start(): Promise<void> {
    await mkdir(this.s.dataDir, { recursive: true });
    const { host, port } = urlAddrs(`http://${this.s.clientAddr}`)[0];
    for (const p of urlAddrs(this.s.peerUrls)) await waitPortFree(p.host, p.port, '--peer-urls');
    await waitPortFree(
      host,
      port,
      'the etcd client port (--etcd-client-addr, default the master port + 10000)',
    );
    this.spawn();
  }

  private spawn(): void {
    const out = createWriteStream(this.logFile, { flags: 'a' });
    // Through a small shell that ends etcd when this process dies, even by SIGKILL (as DM's
    // embedded etcd dies with its master), and passes a SIGTERM on.
    const child = spawn(
      '/bin/sh',
      ['-c', WATCHDOG, 'sh', String(process.pid), 'etcd', ...memberArgs(this.s)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    child.once('error', (e) =>
      this.log.error({ err: e.message }, 'etcd member: cannot start etcd (is etcd-server installed?)'),
    );
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (this.stopping) return;
      this.restarts++;
      this.log.warn({ code, signal, restarts: this.restarts }, 'etcd member exited; restarting it');
      setTimeout(
        () => {
          if (!this.stopping) this.spawn();
        },
        Math.min(5000, 500 * this.restarts),
      ).unref();
    });
    this.child = child;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Why etcd stopped, from its log: the last error line. */
  async lastError(): Promise<string> {
    const text = await readFile(this.logFile, 'utf8').catch(() => '');
    const lines = text.split('\n').filter((l) => /"level":"(fatal|error|panic)"|^panic|fatal/i.test(l));
    const last = lines.at(-1) ?? '';
    try {
      const j = JSON.parse(last) as { msg?: string; error?: string };
      return [j.msg, j.error].filter(Boolean).join(': ');
    } catch {
      return last.slice(0, 300);
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const c = this.child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    await Promise.race([exited, sleep(5000).then(() => c.kill('SIGKILL'))]);
    await exited;
  }
}

// A local MariaDB server in its own datadir on its own 127.0.0.1 port, started as a child process
// and stopped by its PID. Used by the test harness, the benchmarks and the playground.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, rm, cp, readFile, access } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';

const execFileP = promisify(execFile);

export interface SandboxOptions {
  /** Directory that holds the datadir; created. Default: a fresh directory under the OS temp dir. */
  baseDir?: string;
  /** server_id; default: derived from the port. */
  serverId?: number;
  /** gtid_domain_id; default 0. */
  gtidDomainId?: number;
  /** Extra `--option=value` arguments for mariadbd. */
  extraArgs?: string[];
  /** Port to listen on; default: a free one. */
  port?: number;
  /** TLS only (require_secure_transport=ON) with these PEM files; the sandbox's own connections
   * then use its Unix socket, which the server counts as secure. */
  tls?: { ca: string; cert: string; key: string };
  /** The binlog settings users run with. Default: ours (`preferred`); `defaults` is MariaDB's own
   * (no row metadata, no GTID strict mode); each field overrides one setting. ROW format and the
   * FULL row image always (the precheck requires them, as DM's). */
  binlog?: BinlogProfile;
}

export interface BinlogProfile {
  /** binlog_row_metadata; preferred FULL, MariaDB's default NO_LOG. */
  rowMetadata?: 'FULL' | 'MINIMAL' | 'NO_LOG';
  /** binlog_checksum; CRC32 in both. */
  checksum?: 'CRC32' | 'NONE';
  /** binlog_annotate_row_events; ON in both. */
  annotate?: boolean;
  /** gtid_strict_mode; preferred ON, MariaDB's default OFF. */
  gtidStrict?: boolean;
}

/** MariaDB's own defaults for the settings of BinlogProfile. */
export const MARIADB_DEFAULTS: Required<BinlogProfile> = {
  rowMetadata: 'NO_LOG',
  checksum: 'CRC32',
  annotate: true,
  gtidStrict: false,
};

const PREFERRED: Required<BinlogProfile> = {
  rowMetadata: 'FULL',
  checksum: 'CRC32',
  annotate: true,
  gtidStrict: true,
};

function binlogArgs(p: BinlogProfile = {}): string[] {
  const b = { ...PREFERRED, ...p };
  return [
    `--binlog-row-metadata=${b.rowMetadata}`,
    `--binlog-checksum=${b.checksum}`,
    `--binlog-annotate-row-events=${b.annotate ? 'ON' : 'OFF'}`,
    `--gtid-strict-mode=${b.gtidStrict ? 'ON' : 'OFF'}`,
  ];
}

const INNODB_ARGS = [
  '--innodb-buffer-pool-size=128M',
  '--innodb-log-file-size=32M',
  '--innodb-flush-log-at-trx-commit=2',
  '--innodb-doublewrite=0',
];

/** Finds an executable by name on PATH or in the sbin directories Debian installs servers into. */
export function findExecutable(names: string[]): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/usr/bin'];
  for (const name of names) {
    for (const dir of dirs) {
      const p = join(dir, name);
      if (dir && existsSync(p)) return p;
    }
  }
  return undefined;
}

function requireExecutable(names: string[]): string {
  const p = findExecutable(names);
  if (!p) {
    throw new Error(
      `${names[0]} not found on PATH or in /usr/sbin. Install MariaDB: 'apt-get install -y mariadb-server' (as root), or run 'bash scripts/setup.sh'.`,
    );
  }
  return p;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

let templateDir: Promise<string> | undefined;

/** Runs mariadb-install-db once per process into a template datadir that every server copies. */
function template(): Promise<string> {
  templateDir ??= (async () => {
    const dir = join(tmpdir(), `dm-ts-template-${process.pid}-${Date.now()}`);
    await mkdir(dir, { recursive: true });
    const installer = requireExecutable(['mariadb-install-db', 'mysql_install_db']);
    const args = [
      '--no-defaults',
      `--datadir=${dir}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      ...INNODB_ARGS,
    ];
    if (process.getuid?.() === 0) args.push('--user=root');
    // mariadbd's bootstrap has been seen to crash now and then (SIGSEGV in a temporary table's
    // cleanup); a second attempt in a clean directory succeeds.
    for (let attempt = 1; ; attempt++) {
      try {
        await execFileP(installer, args, { maxBuffer: 16 << 20 });
        break;
      } catch (e) {
        if (attempt >= 3) throw new Error(`mariadb-install-db failed: ${(e as Error).message}`);
        await rm(dir, { recursive: true, force: true });
        await mkdir(dir, { recursive: true });
      }
    }
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    return dir;
  })();
  return templateDir;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export class MariaDBSandbox {
  readonly host = '127.0.0.1';
  readonly user = 'root';
  readonly password = '';
  port = 0;
  serverId = 0;
  datadir = '';
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private ownsBaseDir = false;

  constructor(private readonly opts: SandboxOptions = {}) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Creates the datadir (on first start) and starts the server; resolves when it accepts connections. */
  async start(): Promise<this> {
    if (this.child) throw new Error('sandbox server already running');
    const mariadbd = requireExecutable(['mariadbd', 'mysqld']);
    if (!this.datadir) {
      this.port = this.opts.port ?? (await freePort());
      this.serverId = this.opts.serverId ?? this.port;
      let base = this.opts.baseDir;
      if (!base) {
        base = join(tmpdir(), `dm-ts-mariadb-${this.port}-${process.pid}`);
        this.ownsBaseDir = true;
      }
      this.datadir = join(base, 'data');
      await rm(this.datadir, { recursive: true, force: true });
      await mkdir(base, { recursive: true });
      await cp(await template(), this.datadir, { recursive: true });
      // A private directory for the server's internal temporary tables (each server its own).
      await mkdir(join(base, 'tmp'), { recursive: true });
    }
    const args = [
      '--no-defaults',
      `--datadir=${this.datadir}`,
      `--port=${this.port}`,
      '--bind-address=127.0.0.1',
      `--socket=${join(this.datadir, 'mysqld.sock')}`,
      `--pid-file=${join(this.datadir, 'mysqld.pid')}`,
      `--log-error=${join(this.datadir, 'error.log')}`,
      `--tmpdir=${join(this.datadir, '..', 'tmp')}`,
      `--server-id=${this.serverId}`,
      `--gtid-domain-id=${this.opts.gtidDomainId ?? 0}`,
      '--log-bin=mysql-bin',
      '--binlog-format=ROW',
      '--binlog-row-image=FULL',
      ...binlogArgs(this.opts.binlog),
      '--log-slave-updates=ON',
      '--sync-binlog=0',
      '--skip-name-resolve',
      '--max-connections=500',
      '--character-set-server=utf8mb4',
      '--collation-server=utf8mb4_general_ci',
      ...INNODB_ARGS,
      ...(this.opts.extraArgs ?? []),
    ];
    if (this.opts.tls) {
      const t = this.opts.tls;
      args.push(
        `--ssl-ca=${t.ca}`,
        `--ssl-cert=${t.cert}`,
        `--ssl-key=${t.key}`,
        '--require-secure-transport=ON',
      );
    }
    if (process.getuid?.() === 0) args.push('--user=root');
    const child = spawn(mariadbd, args, { stdio: 'ignore' });
    this.child = child;
    running.add(child);
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        running.delete(child);
        resolve();
      }),
    );
    await this.waitReady();
    return this;
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + 60_000;
    let exited = false;
    void this.exited?.then(() => (exited = true));
    let lastErr: unknown;
    while (Date.now() < deadline) {
      if (exited) {
        this.child = undefined;
        throw new Error(`mariadbd exited during startup on port ${this.port}:\n${await this.errorLogTail()}`);
      }
      try {
        await access(join(this.datadir, 'mysqld.sock'));
        const conn = await mysql.createConnection({
          socketPath: join(this.datadir, 'mysqld.sock'),
          user: 'root',
        });
        await conn.query('SET sql_log_bin = 0'); // keep the harness's own setup out of the binlog
        // root over TCP from 127.0.0.1 (skip-name-resolve does not map it to 'localhost').
        await conn.query("CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ''");
        await conn.query("GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION");
        await conn.end();
        return;
      } catch (e) {
        lastErr = e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`mariadbd on port ${this.port} not ready after 60 s: ${String(lastErr)}`);
  }

  async errorLogTail(lines = 20): Promise<string> {
    try {
      const text = await readFile(join(this.datadir, 'error.log'), 'utf8');
      return text.split('\n').slice(-lines).join('\n');
    } catch {
      return '(no error log)';
    }
  }

  /** Stops the server gracefully (SIGTERM to its PID), SIGKILL after 30 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await this.exited;
    clearTimeout(timer);
    this.child = undefined;
  }

  /** Kills the server with SIGKILL, as a crash would. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGKILL');
    await this.exited;
    this.child = undefined;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Stops the server and removes its datadir. */
  async destroy(): Promise<void> {
    await this.stop();
    if (this.datadir) {
      await rm(this.ownsBaseDir ? join(this.datadir, '..') : this.datadir, { recursive: true, force: true });
    }
  }

  connectionOptions(): { host: string; port: number; user: string; password: string } {
    return { host: this.host, port: this.port, user: this.user, password: this.password };
  }

  async connect(database?: string): Promise<mysql.Connection> {
    return mysql.createConnection({
      ...this.connectionOptions(),
      ...(this.opts.tls ? { socketPath: join(this.datadir, 'mysqld.sock') } : {}),
      database,
      multipleStatements: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
    });
  }

  /** Runs SQL (several statements allowed) on a fresh connection. */
  async exec(sql: string, database?: string): Promise<unknown> {
    const conn = await this.connect(database);
    try {
      const [rows] = await conn.query(sql);
      return rows;
    } finally {
      await conn.end();
    }
  }
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<MariaDBSandbox> {
  return new MariaDBSandbox(opts).start();
}

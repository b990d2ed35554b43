// The playground: a migration between two sandbox MariaDB servers on 127.0.0.1. Fills the upstream
// with a small shop schema and sysbench-shaped tables, writes a DM task file and source file, runs
// it with the real control plane (dm-master in all-in-one mode, driven by dmctl: operate-source
// create, start-task; task-mode all: Dump → Load → Sync) with a live progress line, then writes to
// the upstream for a few seconds (sysbench-style transactions and a DDL) while Sync follows,
// prints query-status, and checks every table with CHECKSUM TABLE on both sides.
//   npm run playground [-- --rows 100000]
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { call } from '../api/http.js';
import { comparePosition, parsePosition } from '../binlog/position.js';
import { initLog } from '../log.js';
import { MariaDBSandbox } from '../sandbox/mariadb.js';
import { oltpWriteOnly, sysbenchTables } from '../sandbox/workload.js';
import type { QueryStatus, SubTaskStatus } from '../task/status.js';
import { progressLine } from './progress.js';
import { startMaster } from './serve-master.js';

/** The commented example files the playground starts from (also in the repo for users). */
const EXAMPLES = fileURLToPath(new URL('../../examples', import.meta.url));

/** Polls `get` until `done` holds; an error that needs the operator ends the playground. */
async function until(
  get: () => Promise<SubTaskStatus | undefined>,
  done: (st: SubTaskStatus) => boolean,
): Promise<void> {
  for (;;) {
    const st = await get();
    if (st?.stage === 'Paused' && st.result?.errors.some((e) => !e.retryable)) {
      throw new Error(`the task paused: ${JSON.stringify(st.result)}`);
    }
    if (st && done(st)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Runs the real dmctl, showing the command and what it prints, as an operator would see it. */
async function dmctl(master: string, ...args: string[]): Promise<void> {
  console.log(`\n$ dmctl --master-addr ${master} ${args.join(' ')}`);
  const script = fileURLToPath(
    new URL(import.meta.url.endsWith('.ts') ? './dmctl.ts' : './dmctl.js', import.meta.url),
  );
  const child = spawn(process.execPath, [...process.execArgv, script, '--master-addr', master, ...args], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`dmctl ${args[0]} failed (exit ${code})`);
}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

async function main(): Promise<void> {
  const rows = arg('rows', 100_000);
  const began = Date.now();
  let verdict = '\nVerdict: the playground did not finish (see the error below).';
  const work = await mkdtemp(join(tmpdir(), 'dm-ts-playground-'));
  console.log('Starting two sandbox MariaDB servers (upstream and target) on 127.0.0.1 …');
  const [up, down] = await Promise.all([new MariaDBSandbox().start(), new MariaDBSandbox().start()]);
  const cleanup = async () => {
    await Promise.all([up.destroy(), down.destroy()]);
    await rm(work, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    console.log(
      `  upstream 127.0.0.1:${up.port} (pid ${up.pid}), target 127.0.0.1:${down.port} (pid ${down.pid})`,
    );
    console.log(
      `Filling the upstream: shop.orders, shop.customers and sbtest.sbtest1..4 (${rows} rows each) …`,
    );
    await up.exec(`CREATE DATABASE shop;
      CREATE TABLE shop.customers (id INT PRIMARY KEY, name VARCHAR(40) CHARACTER SET utf8mb4, email VARCHAR(80) UNIQUE);
      CREATE TABLE shop.orders (id BIGINT PRIMARY KEY AUTO_INCREMENT, customer INT, amount DECIMAL(10,2),
        placed DATETIME(3), status ENUM('new','paid','shipped'), note JSON, KEY (customer));
      INSERT INTO shop.customers VALUES (1, 'Ada', 'ada@example.com'), (2, 'Zoë', 'zoe@example.com'), (3, '李雷', 'li@example.com');
      INSERT INTO shop.orders (customer, amount, placed, status, note)
        SELECT 1 + seq % 3, seq * 1.25, NOW(3) - INTERVAL seq MINUTE, ELT(1 + seq % 3, 'new', 'paid', 'shipped'),
               CONCAT('{"gift": ', IF(seq % 2, 'true', 'false'), '}')
        FROM mysql.seq_1_to_5000;`);
    await sysbenchTables(up, 'sbtest', 4, rows);

    const u = up.connectionOptions();
    const d = down.connectionOptions();
    const sourceFile = join(work, 'source.yaml');
    const taskFile = join(work, 'task.yaml');
    // The shipped examples, pointed at the sandbox servers.
    const source = parseDocument(await readFile(join(EXAMPLES, 'source.yaml'), 'utf8'));
    source.set('source-id', 'playground-01');
    source.set('enable-relay', true);
    source.set('relay-dir', join(work, 'relay'));
    source.setIn(['from', 'host'], u.host);
    source.setIn(['from', 'port'], u.port);
    source.setIn(['from', 'user'], u.user);
    await writeFile(sourceFile, source.toString());
    const task = parseDocument(await readFile(join(EXAMPLES, 'task.yaml'), 'utf8'));
    task.set('name', 'playground');
    task.setIn(['target-database', 'host'], d.host);
    task.setIn(['target-database', 'port'], d.port);
    task.setIn(['target-database', 'user'], d.user);
    task.setIn(['mysql-instances', 0, 'source-id'], 'playground-01');
    task.setIn(
      ['block-allow-list', 'my-tables', 'do-dbs'],
      task.createNode(['shop', 'sbtest'], { flow: true }),
    );
    task.setIn(['loaders', 'global', 'dir'], join(work, 'dumped_data'));
    await writeFile(taskFile, task.toString());
    console.log(`\nThe task file (DM format), ${taskFile}:\n`);
    console.log((await import('node:fs')).readFileSync(taskFile, 'utf8').replace(/^/gm, '  '));

    console.log('Starting dm-master in all-in-one mode (it runs a dm-worker for the source) …');
    const master = await startMaster(
      {
        name: 'playground-master',
        'master-addr': '127.0.0.1:0',
        'advertise-addr': '',
        'data-dir': join(work, 'master'),
        'all-in-one': true,
      },
      initLog({ level: 'warn' }),
      '',
    );
    console.log(
      `The dashboard: http://${master.addr}/dashboard/ (DM's OpenAPI: http://${master.addr}/api/v1/docs)`,
    );
    try {
      await dmctl(master.addr, 'operate-source', 'create', sourceFile);
      const started = Date.now();
      await dmctl(master.addr, 'start-task', taskFile);
      const status = () => call<QueryStatus>(master.addr, 'GET', '/apis/v1alpha1/status/playground');
      const line = async () => {
        const st = (await status()).workers[0]?.subTaskStatus[0];
        if (st) process.stdout.write('\r  ' + progressLine(st) + '\x1b[K');
        return st;
      };
      await until(line, (st) => st.stage === 'Running' && st.unit === 'Sync');
      console.log(
        `\n\nDump and Load done in ${((Date.now() - started) / 1000).toFixed(1)} s; Sync follows the binlog.`,
      );
      console.log(
        'Writing to the upstream for 5 s (sysbench-style transactions, an ALTER TABLE, new orders) …',
      );
      const stop = new AbortController();
      const writes = oltpWriteOnly(up, 'sbtest', {
        tables: 4,
        rows,
        txns: 0,
        concurrency: 4,
        signal: stop.signal,
      });
      await up.exec(`ALTER TABLE shop.orders ADD COLUMN coupon VARCHAR(10) NULL;
        INSERT INTO shop.orders (customer, amount, placed, status, coupon) VALUES (2, 9.99, NOW(3), 'new', 'WELCOME');
        UPDATE shop.customers SET name = 'Zoë Ä.' WHERE id = 2`);
      await new Promise((r) => setTimeout(r, 5000));
      stop.abort();
      const txns = await writes;
      const [m] = (await up.exec('SHOW MASTER STATUS')) as { File: string; Position: string }[];
      const want = `(${m.File}, ${m.Position})`;
      const at = (st: SubTaskStatus) => (st.sync as { syncerBinlog?: string } | undefined)?.syncerBinlog;
      await until(line, (st) => {
        const p = at(st);
        return !!p && comparePosition(parsePosition(p), { file: m.File, pos: Number(m.Position) }) >= 0;
      });
      console.log(`\n\n${txns} upstream transactions replicated; Sync is at ${want}, like the upstream.`);
      const relay = join(work, 'relay', 'playground-01');
      const sub = (await readdir(relay)).find((x) => /\.\d{6}$/.test(x)) ?? '';
      console.log(
        `The relay unit keeps the upstream binlog in ${relay}/${sub}: ${(await readdir(join(relay, sub))).join(', ')}`,
      );
      await dmctl(master.addr, 'query-status', 'playground');
      await dmctl(master.addr, 'query-status');
    } finally {
      await master.close();
    }

    console.log('\nCHECKSUM TABLE, upstream vs target:');
    const tables = [
      'shop.customers',
      'shop.orders',
      'sbtest.sbtest1',
      'sbtest.sbtest2',
      'sbtest.sbtest3',
      'sbtest.sbtest4',
    ];
    const differ: string[] = [];
    for (const t of tables) {
      const [a, b] = (await Promise.all([
        up.exec(`CHECKSUM TABLE ${t}`),
        down.exec(`CHECKSUM TABLE ${t}`),
      ])) as { Checksum: string }[][];
      const same = a[0].Checksum === b[0].Checksum;
      if (!same) differ.push(t);
      console.log(
        `  ${t.padEnd(16)} ${String(a[0].Checksum).padStart(11)} ${String(b[0].Checksum).padStart(11)}  ${same ? 'equal' : 'DIFFERENT'}`,
      );
    }
    const secs = ((Date.now() - began) / 1000).toFixed(1);
    if (differ.length) process.exitCode = 1;
    verdict = differ.length
      ? `\nVerdict: ${differ.length} of ${tables.length} tables DIFFER (${differ.join(', ')}), after ${secs} s.`
      : `\nVerdict: all ${tables.length} tables equal on upstream and target, after ${secs} s (dump, load and sync).`;
  } finally {
    console.log('\nStopping the sandbox servers.');
    await cleanup();
    console.log(verdict);
  }
}

main().catch((e: unknown) => {
  console.error(String(e));
  process.exit(1);
});

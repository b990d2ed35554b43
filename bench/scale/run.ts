// How cost grows with the work (issue 22): each part prints a table and records its figures.
//   npm run bench:scale [-- --parts sizes,tables,txn --sizes 1,4,10 --tables 10000 --txn-rows 1000000]
// sizes:  full copy (run-task, Dump + Load) of one table of 1M, 4M, 10M rows: time per row and
//         peak RSS should stay flat.
// tables: 10 000 small tables in one schema, this project vs mydumper + myloader -e.
// txn:    one upstream transaction of 1M rows through Sync (task-mode incremental): time from its
//         commit to the target having it, peak RSS.
// Every copy ends with CHECKSUM TABLE equal on both servers.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MariaDBSandbox } from '../../src/sandbox/mariadb.js';
import { NODE_FLAGS } from '../../src/cli/daemon.js';
import { cpuSeconds, native } from '../native.js';
import { comparePosition, parsePosition } from '../../src/binlog/position.js';
import { sysbench } from '../sysbench.js';
import { mydumperCopy } from '../full-peers.js';
import { record } from '../summary.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}

async function vmHwmMb(pid: number): Promise<number> {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

interface RunTask {
  exited: Promise<number | null>;
  pid: number;
  /** Peak RSS so far (sampled from VmHWM every 100 ms). */
  peakMb(): number;
  kill(): void;
}

/** run-task with a task file and a source file (status written to `status` when given). */
function runTask(work: string, task: string, status?: string): RunTask {
  const child = spawn(
    process.execPath,
    [
      ...NODE_FLAGS,
      'dist/cli/run-task.js',
      '--task',
      task,
      '--source',
      join(work, 'source.yaml'),
      ...(status ? ['--status-file', status, '--status-interval-ms', '100'] : []),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DM_LOG_LEVEL: 'warn' } },
  );
  let peak = 0;
  const t = setInterval(async () => (peak = Math.max(peak, await vmHwmMb(child.pid!))), 100);
  const exited = new Promise<number | null>((r) =>
    child.on('exit', (c) => {
      clearInterval(t);
      r(c);
    }),
  );
  return { exited, pid: child.pid!, peakMb: () => peak, kill: () => child.kill('SIGTERM') };
}

async function files(
  work: string,
  up: MariaDBSandbox,
  down: MariaDBSandbox,
  name: string,
  body: string,
): Promise<string> {
  const u = up.connectionOptions();
  const d = down.connectionOptions();
  await writeFile(
    join(work, 'source.yaml'),
    `source-id: up\nfrom: {host: ${u.host}, port: ${u.port}, user: ${u.user}, password: ""}\n`,
  );
  const task = join(work, `${name}.yaml`);
  await writeFile(
    task,
    `name: ${name}\ntarget-database: {host: ${d.host}, port: ${d.port}, user: ${d.user}, password: ""}\n${body}`,
  );
  return task;
}

async function checksums(s: MariaDBSandbox, tables: string[]): Promise<string> {
  const out: string[] = [];
  for (let i = 0; i < tables.length; i += 500) {
    const rows = (await s.exec(`CHECKSUM TABLE ${tables.slice(i, i + 500).join(', ')}`)) as {
      Checksum: string;
    }[];
    out.push(...rows.map((r) => r.Checksum));
  }
  return out.join(',');
}

async function fullCopy(work: string, up: MariaDBSandbox, down: MariaDBSandbox, name: string, db: string) {
  const task = await files(
    work,
    up,
    down,
    name,
    `task-mode: full\nblock-allow-list:\n  only: {do-dbs: ["${db}"]}\nmysql-instances:\n  - {source-id: up, block-allow-list: only, mydumper: {threads: 4}, loader: {pool-size: 4, dir: "${join(work, name)}"}}\n`,
  );
  const t0 = Date.now();
  const r = runTask(work, task);
  const code = await r.exited;
  if (code !== 0) throw new Error(`run-task ${name} failed (${code})`);
  return { seconds: (Date.now() - t0) / 1000, rssMb: r.peakMb() };
}

async function sizes(work: string): Promise<void> {
  const list = arg('sizes', '1,4,10')
    .split(',')
    .map((m) => Math.round(Number(m) * 1_000_000));
  console.log('\nfull copy of one table, by size');
  console.log('rows        seconds  µs/row  peak RSS');
  for (const rows of list) {
    const up = await new MariaDBSandbox().start();
    const down = await new MariaDBSandbox().start();
    try {
      await sysbench(up, 'prepare', { tables: 1, rows });
      const r = await fullCopy(work, up, down, `size${rows}`, 'sbtest');
      const same = (await checksums(up, ['sbtest.sbtest1'])) === (await checksums(down, ['sbtest.sbtest1']));
      if (!same) throw new Error(`${rows} rows: CHECKSUM TABLE differs`);
      const us = (r.seconds * 1e6) / rows;
      console.log(
        `${String(rows).padEnd(11)} ${r.seconds.toFixed(2).padStart(7)}  ${us.toFixed(2).padStart(6)}  ${r.rssMb.toFixed(0)} MB`,
      );
      record({
        bench: 'scale',
        what: `full copy, 1 table of ${rows / 1e6}M rows: µs per row`,
        ratio: us,
        unit: ' µs',
        target: 'flat',
        detail: `${r.seconds.toFixed(2)} s, peak RSS ${r.rssMb.toFixed(0)} MB`,
      });
    } finally {
      await Promise.all([up.destroy(), down.destroy()]);
    }
  }
}

async function manyTables(work: string): Promise<void> {
  const n = Number(arg('tables', '10000'));
  const up = await new MariaDBSandbox().start();
  try {
    console.log(`\n${n} small tables (10 rows each) in one schema …`);
    await up.exec('CREATE DATABASE many');
    for (let i = 0; i < n; i += 200) {
      const stmts: string[] = [];
      for (let j = i; j < Math.min(n, i + 200); j++)
        stmts.push(
          `CREATE TABLE many.t${j} (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO many.t${j} SELECT seq, CONCAT('v', seq) FROM mysql.seq_1_to_10`,
        );
      await up.exec(stmts.join(';\n'));
    }
    const names = Array.from({ length: n }, (_, i) => `many.t${i}`);
    const want = await checksums(up, names);
    const results: Record<string, number> = {};
    for (const who of ['dm-ts', 'myloader-e']) {
      const down = await new MariaDBSandbox().start();
      try {
        const t0 = Date.now();
        if (who === 'dm-ts') await fullCopy(work, up, down, 'many', 'many');
        else await mydumperCopy(up, down, join(work, 'many-mydumper'), true, 'many');
        results[who] = (Date.now() - t0) / 1000;
        if ((await checksums(down, names)) !== want) throw new Error(`${who}: CHECKSUM TABLE differs`);
      } finally {
        await down.destroy();
      }
      console.log(`${who.padEnd(11)} ${results[who].toFixed(2)} s`);
    }
    const ratio = results['myloader-e'] / results['dm-ts'];
    console.log(`ratio (myloader -e time / dm-ts time): ${ratio.toFixed(2)}x`);
    record({
      bench: 'scale',
      what: `${n} small tables: myloader -e time / dm-ts time`,
      ratio,
      target: '> 1×',
      detail: `${results['dm-ts'].toFixed(2)} s vs ${results['myloader-e'].toFixed(2)} s`,
    });
  } finally {
    await up.destroy();
  }
}

const toPos = (m: { File: string; Position: number | string }) => ({ file: m.File, pos: Number(m.Position) });

async function bigTransaction(work: string): Promise<void> {
  const rows = Number(arg('txn-rows', '1000000'));
  const up = await new MariaDBSandbox().start();
  const down = await new MariaDBSandbox().start();
  const replica = await new MariaDBSandbox().start();
  try {
    console.log(`\none upstream transaction of ${rows} rows through Sync …`);
    for (const s of [up, down, replica])
      await s.exec(
        'CREATE DATABASE big; CREATE TABLE big.t (id INT PRIMARY KEY, k INT, c CHAR(60), pad CHAR(60))',
      );
    const [m] = (await up.exec('SHOW MASTER STATUS')) as { File: string; Position: number }[];
    const status = join(work, 'txn-status.json');
    const task = await files(
      work,
      up,
      down,
      'bigtxn',
      `task-mode: incremental\nblock-allow-list:\n  only: {do-dbs: ["big"]}\nmysql-instances:\n  - {source-id: up, block-allow-list: only, meta: {binlog-name: ${m.File}, binlog-pos: ${m.Position}}, syncer: {safe-mode-duration: 0s}}\n`,
    );
    const r = runTask(work, task, status);
    await new Promise((res) => setTimeout(res, 2000));
    const before = r.peakMb();
    await up.exec(
      `INSERT INTO big.t SELECT seq, seq % 1000, REPEAT('c', 60), REPEAT('p', 60) FROM mysql.seq_1_to_${rows}`,
    );
    const t0 = Date.now();
    const cpu0 = [await cpuSeconds(r.pid), await cpuSeconds(down.pid)];
    const [end] = (await up.exec('SHOW MASTER STATUS')) as { File: string; Position: number }[];
    for (;;) {
      try {
        const st = JSON.parse(await readFile(status, 'utf8')).workers[0].subTaskStatus[0];
        if (st.result?.errors?.length) throw new Error(JSON.stringify(st.result.errors[0]));
        const at = st.sync?.syncerBinlog;
        if (at && comparePosition(parsePosition(at), toPos(end)) >= 0) break;
      } catch (e) {
        if (!(e instanceof SyntaxError) && (e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      await new Promise((res) => setTimeout(res, 50));
    }
    const seconds = (Date.now() - t0) / 1000;
    const cpu = [(await cpuSeconds(r.pid)) - cpu0[0], (await cpuSeconds(down.pid)) - cpu0[1]];
    const peak = r.peakMb();
    r.kill();
    await r.exited;
    if ((await checksums(up, ['big.t'])) !== (await checksums(down, ['big.t'])))
      throw new Error('CHECKSUM TABLE differs');
    // the peer: native replication applies the same binlog range (parallel threads do not split one transaction)
    const nat = await native(up, replica, { file: m.File, pos: Number(m.Position) }, toPos(end), 0);
    if ((await checksums(up, ['big.t'])) !== (await checksums(replica, ['big.t'])))
      throw new Error('CHECKSUM TABLE differs (native replica)');
    console.log(
      `${rows} rows in one transaction: applied ${seconds.toFixed(2)} s after its commit, peak RSS ${peak.toFixed(0)} MB (${before.toFixed(0)} MB before), CPU ${cpu[0].toFixed(1)} s ours + ${cpu[1].toFixed(1)} s target's; native replication ${nat.seconds.toFixed(2)} s (CPU ${nat.cpu.toFixed(1)} s)`,
    );
    record({
      bench: 'scale',
      what: `one ${rows / 1e6}M-row transaction through Sync: native replication time / dm-ts time`,
      ratio: nat.seconds / seconds,
      target: 'reported',
      detail: `dm-ts ${seconds.toFixed(2)} s, peak RSS ${peak.toFixed(0)} MB (${before.toFixed(0)} MB idle); native ${nat.seconds.toFixed(2)} s`,
    });
  } finally {
    await Promise.all([up.destroy(), down.destroy(), replica.destroy()]);
  }
}

async function main(): Promise<void> {
  const parts = arg('parts', 'sizes,tables,txn').split(',');
  const work = await mkdtemp(join(tmpdir(), 'dm-ts-bench-scale-'));
  try {
    if (parts.includes('sizes')) await sizes(work);
    if (parts.includes('tables')) await manyTables(work);
    if (parts.includes('txn')) await bigTransaction(work);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

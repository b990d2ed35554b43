// check-data benchmark: sysbench tables (default 4 x 250k rows) copied by a `full` task through
// dm-master and dm-worker, 10 differences planted on the target (changed, missing, extra rows
// across the tables), then `dmctl check-data` timed against `CHECKSUM TABLE` of the same tables
// on both servers at once (what an operator runs instead, which says only "differs"). Checks that
// exactly the 10 are found, --fix repairs them, a second run finds none and CHECKSUM TABLE agrees;
// prints times, the master's peak RSS (VmHWM) and the ratio.
//   npm run bench:check-data [-- --tables 4 --rows 250000]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MariaDBSandbox } from '../../src/sandbox/mariadb.js';
import { NODE_FLAGS } from '../../src/cli/daemon.js';
import { sysbench } from '../sysbench.js';
import { record } from '../summary.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

function daemon(script: string, args: string[], cwd: string): Promise<{ child: ChildProcess; addr: string }> {
  const child = spawn(process.execPath, [...NODE_FLAGS, `${process.cwd()}/dist/cli/${script}.js`, ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DM_LOG_LEVEL: 'warn' },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const on = (d: Buffer) => {
      out += d.toString();
      const m = /serving on (\S+)/.exec(out);
      if (m) resolve({ child, addr: m[1].replace(/,$/, '') });
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.on('exit', (c) => reject(new Error(`${script} exited ${c}: ${out}`)));
  });
}

async function dmctl(
  master: string,
  ...args: string[]
): Promise<{ code: number | null; json: Record<string, unknown>; err: string }> {
  const child = spawn(
    process.execPath,
    [`${process.cwd()}/dist/cli/dmctl.js`, '--master-addr', master, ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(out);
  } catch {
    /* not JSON */
  }
  return { code, json, err };
}

async function vmHwmMb(pid: number): Promise<number> {
  const m = /VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

async function checksumBoth(
  up: MariaDBSandbox,
  down: MariaDBSandbox,
  names: string,
): Promise<{ seconds: number; equal: boolean }> {
  const t0 = process.hrtime.bigint();
  const [a, b] = (await Promise.all([
    up.exec(`CHECKSUM TABLE ${names}`),
    down.exec(`CHECKSUM TABLE ${names}`),
  ])) as Array<{ Checksum: string }[]>;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { seconds, equal: a.map((r) => r.Checksum).join() === b.map((r) => r.Checksum).join() };
}

interface Report {
  state: string;
  seconds: number;
  differences: number;
  fixed: number;
  peakRssBytes: number;
  error?: string;
}

async function main(): Promise<void> {
  const tables = arg('tables', 4);
  const rows = arg('rows', 250_000);
  const work = await mkdtemp(join(tmpdir(), 'dm-ts-bench-check-'));
  const [up, down] = await Promise.all([new MariaDBSandbox().start(), new MariaDBSandbox().start()]);
  const procs: ChildProcess[] = [];
  try {
    console.log(`sysbench prepare: ${tables} x ${rows} rows …`);
    await sysbench(up, 'prepare', { tables, rows }, [`--threads=${Math.min(tables, 4)}`]);
    const u = up.connectionOptions();
    const d = down.connectionOptions();
    await writeFile(
      join(work, 'source.yaml'),
      `source-id: up\nfrom: {host: ${u.host}, port: ${u.port}, user: ${u.user}, password: "${u.password}"}\n`,
    );
    await writeFile(
      join(work, 'task.yaml'),
      `name: check\ntask-mode: full\ntarget-database: {host: ${d.host}, port: ${d.port}, user: ${d.user}, password: "${d.password}"}\n` +
        `block-allow-list:\n  only: {do-dbs: ["sbtest"]}\nmysql-instances:\n  - {source-id: up, block-allow-list: only, loader: {dir: ${join(work, 'dump')}}}\n`,
    );
    const master = await daemon(
      'dm-master',
      ['--name', 'm', '--master-addr', '127.0.0.1:0', '--data-dir', join(work, 'm')],
      work,
    );
    procs.push(master.child);
    const worker = await daemon(
      'dm-worker',
      ['--name', 'w', '--worker-addr', '127.0.0.1:0', '--join', master.addr],
      work,
    );
    procs.push(worker.child);
    await dmctl(master.addr, 'operate-source', 'create', join(work, 'source.yaml'));
    console.log('full copy through dm-master/dm-worker …');
    await dmctl(master.addr, 'start-task', join(work, 'task.yaml'));
    for (;;) {
      const q = await dmctl(master.addr, 'query-status', 'check');
      const st = (q.json.workers as Array<{ subTaskStatus: Array<{ stage: string }> }> | undefined)?.[0]
        ?.subTaskStatus[0];
      if (st?.stage === 'Finished') break;
      if (st?.stage === 'Paused') throw new Error(JSON.stringify(q.json));
      await new Promise((r) => setTimeout(r, 500));
    }
    // 10 differences: 4 changed, 3 missing, 3 extra, spread over the tables
    const planted: string[] = [];
    for (let i = 0; i < 10; i++) {
      const t = `sbtest.sbtest${(i % tables) + 1}`;
      const id = 1000 + i * 7919;
      planted.push(
        i < 4
          ? `UPDATE ${t} SET c = 'planted' WHERE id = ${id}`
          : i < 7
            ? `DELETE FROM ${t} WHERE id = ${id}`
            : `INSERT INTO ${t} (id, k, c, pad) VALUES (${rows + 1000 + i}, 1, 'extra', 'extra')`,
      );
    }
    await down.exec(planted.join(';\n'));
    const names = Array.from({ length: tables }, (_, i) => `sbtest.sbtest${i + 1}`).join(', ');
    const cs = await checksumBoth(up, down, names);
    console.log(`CHECKSUM TABLE on both servers at once: ${cs.seconds.toFixed(2)} s (equal: ${cs.equal})`);

    const first = await dmctl(master.addr, 'check-data', 'check');
    const r1 = first.json as unknown as Report;
    if (r1.state !== 'finished') throw new Error(`check-data failed: ${r1.error ?? first.err}`);
    console.log(
      `check-data: ${r1.seconds.toFixed(2)} s, ${r1.differences} differences, master peak RSS in the job ${(r1.peakRssBytes / 1048576).toFixed(0)} MB`,
    );
    if (r1.differences !== 10)
      throw new Error(`expected the 10 planted differences, found ${r1.differences}`);
    const fix = (await dmctl(master.addr, 'check-data', 'check', '--fix')).json as unknown as Report;
    if (fix.fixed !== 10) throw new Error(`--fix repaired ${fix.fixed} of 10`);
    const again = (await dmctl(master.addr, 'check-data', 'check')).json as unknown as Report;
    if (again.differences !== 0) throw new Error(`after --fix: ${again.differences} differences`);
    const after = await checksumBoth(up, down, names);
    if (!after.equal) throw new Error('CHECKSUM TABLE differs after --fix');
    const hwm = await vmHwmMb(master.child.pid!);
    const ratio = r1.seconds / cs.seconds;
    console.log(
      `\nrows: ${tables * rows}; check-data ${r1.seconds.toFixed(2)} s (finds and locates the 10, with their SQL), CHECKSUM TABLE x2 ${cs.seconds.toFixed(2)} s (says only that tables differ)`,
    );
    console.log(
      `ratio (check-data time / CHECKSUM TABLE time): ${ratio.toFixed(2)}x; dm-master peak RSS (VmHWM) ${hwm.toFixed(0)} MB; after --fix: 0 differences, CHECKSUM TABLE equal`,
    );
    record({
      bench: 'check-data',
      what: 'check-data time / CHECKSUM TABLE (both servers) time',
      ratio,
      target: 'reported',
      detail: `${tables * rows} rows, 10 planted found and fixed: ${r1.seconds.toFixed(2)} s vs ${cs.seconds.toFixed(2)} s; master peak RSS ${hwm.toFixed(0)} MB`,
    });
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    await Promise.all([up.destroy(), down.destroy()]);
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

// Full-migration benchmark: sysbench tables (default 4 x 250k rows) copied from one sandbox
// MariaDB to fresh targets, by this project (run-task: Dump then Load; also with loaders
// sql-log-bin: false), by `mariadb-dump --single-transaction | mariadb`, by mydumper + myloader
// (-e: the target's binlog on, as ours; and myloader's default, off) and by the machine's ingest
// limit (a tab dump, then LOAD DATA LOCAL INFILE of all tables at once), alternating in one run;
// every target's CHECKSUM TABLE must equal the upstream's; prints rates and the ratios.
//   npm run bench:full [-- --tables 4 --rows 250000 --rounds 2 --only dm-ts,loaddata]
import { record } from '../summary.js';
import { spawn } from 'node:child_process';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MariaDBSandbox } from '../../src/sandbox/mariadb.js';
import { NODE_FLAGS } from '../../src/cli/daemon.js';
import { settle } from '../settle.js';
import { sysbench } from '../sysbench.js';
import { dumpPipe } from '../dump-pipe.js';
import { loadDataIngest, mydumperCopy } from '../full-peers.js';
import { cpuSeconds } from '../native.js';

const MB = 1024 * 1024;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

/** Peak RSS of a child, sampled from /proc (VmHWM is the high-water mark), and its CPU seconds
 * at the last sample. */
function peakRss(pid: number): { stop: () => Promise<number>; cpu: () => number } {
  let peak = 0;
  let cpu = 0;
  const sample = async () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) / 1024);
      cpu = await cpuSeconds(pid);
    } catch {
      /* exited */
    }
  };
  const t = setInterval(() => void sample(), 50);
  return {
    stop: async () => {
      clearInterval(t);
      return peak;
    },
    cpu: () => cpu,
  };
}

interface Run {
  seconds: number;
  bytes: number;
  rssMb?: number;
  /** CPU seconds of this project's process (its last sample). */
  cpu?: number;
}

/** This project's full copy; `noBinlog`: with loaders sql-log-bin: false (the target's binlog is
 * not written by the load). */
async function ours(
  up: MariaDBSandbox,
  down: MariaDBSandbox,
  work: string,
  round: number,
  noBinlog = false,
): Promise<Run> {
  const u = up.connectionOptions();
  const d = down.connectionOptions();
  const src = join(work, 'source.yaml');
  const task = join(work, `task${round}${noBinlog ? 'n' : ''}.yaml`);
  await writeFile(
    src,
    `source-id: up\nfrom:\n  host: ${u.host}\n  port: ${u.port}\n  user: ${u.user}\n  password: "${u.password}"\n`,
  );
  await writeFile(
    task,
    `name: bench${round}${noBinlog ? 'n' : ''}\ntask-mode: full\nclean-dump-file: false\ntarget-database:\n  host: ${d.host}\n  port: ${d.port}\n  user: ${d.user}\n  password: "${d.password}"\n` +
      `mysql-instances:\n  - source-id: up\n    block-allow-list: only\n    mydumper:\n      threads: 4\n    loader:\n      pool-size: 4\n      dir: ${join(work, 'dump')}\n${noBinlog ? '      sql-log-bin: false\n' : ''}` +
      `block-allow-list:\n  only:\n    do-dbs: ["sbtest"]\n`,
  );
  const started = process.hrtime.bigint();
  const child = spawn(
    process.execPath,
    [...NODE_FLAGS, 'dist/cli/run-task.js', '--task', task, '--source', src],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, DM_LOG_LEVEL: process.env.DM_LOG_LEVEL ?? 'warn' },
    },
  );
  const rss = peakRss(child.pid!);
  let out = '';
  child.stdout.on('data', (x) => (out += x));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rssMb = await rss.stop();
  if (code !== 0) throw new Error(`run-task failed (${code}): ${out}`);
  const st = JSON.parse(out).workers[0].subTaskStatus[0];
  return { seconds, bytes: Number(st.load.totalBytes), rssMb, cpu: rss.cpu() };
}

async function pipe(up: MariaDBSandbox, down: MariaDBSandbox): Promise<Run> {
  const started = process.hrtime.bigint();
  const bytes = await dumpPipe(up, down);
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, bytes };
}

async function checksum(s: MariaDBSandbox, tables: number): Promise<string> {
  const names = Array.from({ length: tables }, (_, i) => `sbtest.sbtest${i + 1}`).join(', ');
  const rows = (await s.exec(`CHECKSUM TABLE ${names}`)) as { Checksum: string }[];
  return rows.map((r) => r.Checksum).join(',');
}

async function main(): Promise<void> {
  const tables = arg('tables', 4);
  const rows = arg('rows', 250_000);
  const rounds = arg('rounds', 2);
  const work = await mkdtemp(join(tmpdir(), 'dm-ts-bench-full-'));
  const up = await new MariaDBSandbox().start();
  const servers: MariaDBSandbox[] = [up];
  try {
    console.log(`sysbench prepare: ${tables} x ${rows} rows on 127.0.0.1:${up.port} …`);
    await sysbench(up, 'prepare', { tables, rows }, [`--threads=${Math.min(tables, 4)}`]);
    const want = await checksum(up, tables);
    const results: { name: string; run: Run }[] = [];
    for (let round = 1; round <= rounds; round++) {
      const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : '';
      const order = ['dm-ts', 'dm-ts-nobin', 'pipe', 'myloader-e', 'myloader', 'loaddata'].filter(
        (n) => !only || only.split(',').includes(n),
      );
      for (const name of round % 2 ? order : order.reverse()) {
        const down = await new MariaDBSandbox().start();
        servers.push(down);
        const peer = async (f: () => Promise<{ seconds: number; parts: Record<string, number> }>) => {
          const r = await f();
          console.log(
            `  ${name}: ${Object.entries(r.parts)
              .map(([k, v]) => `${k} ${v.toFixed(2)} s`)
              .join(', ')}`,
          );
          return { seconds: r.seconds, bytes: 0 } as Run;
        };
        await settle([up, down]); // what the previous contender left (dirty pages, purge) is done
        const cpu0 = [await cpuSeconds(up.pid), await cpuSeconds(down.pid)];
        const run =
          name === 'pipe'
            ? await pipe(up, down)
            : name === 'myloader-e' || name === 'myloader'
              ? await peer(() => mydumperCopy(up, down, join(work, 'mydumper'), name === 'myloader-e'))
              : name === 'loaddata'
                ? await peer(() => loadDataIngest(up, down, join(work, 'tab')))
                : await ours(up, down, work, round, name === 'dm-ts-nobin');
        const got = await checksum(down, tables);
        if (got !== want) throw new Error(`${name}: target checksum ${got} != upstream ${want}`);
        results.push({ name, run });
        console.log(
          `round ${round} ${name.padEnd(11)} ${run.seconds.toFixed(2)} s  ${((tables * rows) / run.seconds).toFixed(0)} rows/s` +
            (run.bytes ? `  ${(run.bytes / MB / run.seconds).toFixed(1)} MB/s of SQL` : '') +
            (run.rssMb ? `  peak RSS ${run.rssMb.toFixed(0)} MB` : '') +
            `  CPU s: ${run.cpu !== undefined ? `ours ${run.cpu.toFixed(1)}, ` : ''}upstream ${((await cpuSeconds(up.pid)) - cpu0[0]).toFixed(1)}, target ${((await cpuSeconds(down.pid)) - cpu0[1]).toFixed(1)}`,
        );
        await down.destroy();
        servers.pop();
      }
    }
    const best = (n: string) => Math.min(...results.filter((r) => r.name === n).map((r) => r.run.seconds));
    /** Whether every one of `names` ran (`--only` may leave some out: their lines are not shown). */
    const ran = (...names: string[]) => names.every((n) => results.some((r) => r.name === n));
    const rss = Math.max(...results.filter((r) => r.name === 'dm-ts').map((r) => r.run.rssMb ?? 0));
    console.log(
      `\nrows: ${tables * rows}; best of ${rounds}: dm-ts ${best('dm-ts').toFixed(2)} s, peak RSS ${rss.toFixed(0)} MB (target < 300 MB)`,
    );
    if (ran('dm-ts', 'pipe')) {
      const ratio = best('pipe') / best('dm-ts');
      console.log(
        `mariadb-dump | mariadb ${best('pipe').toFixed(2)} s: ratio (pipe time / dm-ts time) ${ratio.toFixed(2)}x (reported: the target is the LOAD DATA ingest below)`,
      );
      // Issue 3 asked for 3x the pipe; issue 22 measured that the target server's own ingest of
      // the same rows (LOAD DATA, the cheapest way in) takes about 0.6x the pipe on this machine,
      // so 3x cannot be had from the loading side: the bar is now "within 1.15x of that ingest".
      record({
        bench: 'full',
        what: 'mariadb-dump | mariadb time / dm-ts time',
        ratio,
        target: 'reported',
        detail: `${tables * rows} rows: ${best('dm-ts').toFixed(2)} s vs ${best('pipe').toFixed(2)} s, peak RSS ${rss.toFixed(0)} MB`,
      });
    }
    if (ran('dm-ts', 'dm-ts-nobin')) {
      console.log(
        `loaders sql-log-bin: false: ${best('dm-ts-nobin').toFixed(2)} s, ${(best('dm-ts') / best('dm-ts-nobin')).toFixed(2)}x dm-ts with the target's binlog`,
      );
      record({
        bench: 'full',
        what: 'dm-ts time / dm-ts sql-log-bin: false time',
        ratio: best('dm-ts') / best('dm-ts-nobin'),
        target: '-',
        detail: `${best('dm-ts-nobin').toFixed(2)} s without the target's binlog`,
      });
    }
    if (ran('dm-ts', 'myloader-e')) {
      const myl = best('myloader-e') / best('dm-ts');
      const dflt = ran('myloader')
        ? `; myloader's default (binlog off) ${best('myloader').toFixed(2)} s: ${(best('myloader') / best('dm-ts')).toFixed(2)}x`
        : '';
      console.log(
        `mydumper + myloader -e (binlog on) ${best('myloader-e').toFixed(2)} s: ratio ${myl.toFixed(2)}x (target >= 1.3x)${dflt}`,
      );
      record({
        bench: 'full',
        what: 'mydumper + myloader -e time / dm-ts time',
        ratio: myl,
        target: '≥ 1.3×',
        detail: `${best('myloader-e').toFixed(2)} s vs ${best('dm-ts').toFixed(2)} s${ran('myloader') ? `; myloader default (no binlog) ${best('myloader').toFixed(2)} s` : ''}`,
      });
    }
    if (ran('dm-ts', 'loaddata')) {
      const ingest = best('dm-ts') / best('loaddata');
      console.log(
        `LOAD DATA ingest (tab dump + 4 tables at once, binlog on) ${best('loaddata').toFixed(2)} s: dm-ts takes ${ingest.toFixed(2)}x that (target <= 1.15x)`,
      );
      record({
        bench: 'full',
        what: 'dm-ts time / LOAD DATA ingest time',
        ratio: ingest,
        target: '≤ 1.15×',
        detail: `${best('dm-ts').toFixed(2)} s vs ${best('loaddata').toFixed(2)} s (tab dump + LOAD DATA LOCAL INFILE)`,
      });
    }
  } finally {
    for (const s of servers) await s.destroy();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

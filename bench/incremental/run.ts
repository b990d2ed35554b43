// Incremental-apply benchmark: a backlog of sysbench oltp_write_only row changes on a sandbox
// upstream, applied from the same start position to identical targets by this project (run-task,
// task-mode incremental) and by native MariaDB replication with slave_parallel_threads 0 and 4, in
// one run; prints row changes/s and the ratios. Then a steady phase at a fixed rate measures the
// lag of this project.
// Each contender applies the backlog `--runs` times (default 2, on targets seeded alike, the order
// of contenders alternating) and its best run counts: one slow run of a noisy machine does not
// decide a ratio.
//   npm run bench:incremental [-- --txns 60000 --rate 2500 --seconds 20 --runs 2]
import { record } from '../summary.js';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MariaDBSandbox } from '../../src/sandbox/mariadb.js';
import { NODE_FLAGS } from '../../src/cli/daemon.js';
import { sysbench } from '../sysbench.js';
import { dumpPipe } from '../dump-pipe.js';
import { settle } from '../settle.js';
import { cpuSeconds, native, type Result } from '../native.js';
import { comparePosition, parsePosition, type BinlogPosition } from '../../src/binlog/position.js';

const TABLES = 4;
/** How the summary names a run through the relay (--relay 1). */
const VIA = process.argv.includes('--relay') && arg('relay', 0) ? ' via relay' : '';
const ROWS = 25_000;
const SB = { tables: TABLES, rows: ROWS };

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

async function masterPos(s: MariaDBSandbox): Promise<BinlogPosition> {
  const [r] = (await s.exec('SHOW MASTER STATUS')) as { File: string; Position: string }[];
  return { file: r.File, pos: Number(r.Position) };
}

async function checksum(s: MariaDBSandbox): Promise<string> {
  const names = Array.from({ length: TABLES }, (_, i) => `sbtest.sbtest${i + 1}`).join(', ');
  return ((await s.exec(`CHECKSUM TABLE ${names}`)) as { Checksum: string }[])
    .map((r) => r.Checksum)
    .join(',');
}

interface Ours {
  child: ReturnType<typeof spawn>;
  statusFile: string;
}

function startOurs(
  up: MariaDBSandbox,
  down: MariaDBSandbox,
  work: string,
  from: BinlogPosition,
): Promise<Ours> {
  const u = up.connectionOptions();
  const d = down.connectionOptions();
  const src = join(work, 'source.yaml');
  const task = join(work, 'task.yaml');
  const statusFile = join(work, 'status.json');
  return (async () => {
    await mkdir(work, { recursive: true });
    await writeFile(
      src,
      `source-id: up\nfrom:\n  host: ${u.host}\n  port: ${u.port}\n  user: ${u.user}\n  password: ""\n` +
        // --relay 1: Sync reads the relay log, which starts at the backlog's first file.
        (arg('relay', 0)
          ? `enable-relay: true\nrelay-binlog-name: ${from.file}\nrelay-dir: ${join(work, 'relay')}\n`
          : ''),
    );
    await writeFile(
      task,
      `name: benchinc\ntask-mode: incremental\ntarget-database:\n  host: ${d.host}\n  port: ${d.port}\n  user: ${d.user}\n  password: ""\n` +
        `mysql-instances:\n  - source-id: up\n    meta:\n      binlog-name: ${from.file}\n      binlog-pos: ${from.pos}\n` +
        `    syncer:\n      worker-count: ${arg('workers', 16)}\n${arg('batch', 0) ? `      batch: ${arg('batch', 0)}\n` : ''}      safe-mode-duration: 0s\n` +
        (arg('compact', 0) ? `      compact: true\n      multiple-rows: true\n` : ''),
    );
    const prof = process.env.DM_CPU_PROFILE_DIR
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.DM_CPU_PROFILE_DIR}`]
      : [];
    const child = spawn(
      process.execPath,
      [
        ...NODE_FLAGS,
        ...prof,
        'dist/cli/run-task.js',
        '--task',
        task,
        '--source',
        src,
        '--status-file',
        statusFile,
        '--status-interval-ms',
        '50', // read every 20 ms below, as native replication's status is
      ],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, DM_LOG_LEVEL: process.env.DM_LOG_LEVEL ?? 'warn' },
      },
    );
    return { child, statusFile };
  })();
}

async function oursAt(o: Ours): Promise<BinlogPosition | undefined> {
  try {
    const s = JSON.parse(await readFile(o.statusFile, 'utf8'));
    const st = s.workers[0].subTaskStatus[0];
    if (st.result?.errors?.length && !st.result.errors[0].retryable)
      throw new Error(`dm-ts paused: ${st.result.errors[0].msg}`);
    return st.sync?.syncerBinlog ? parsePosition(st.sync.syncerBinlog) : undefined;
  } catch (e) {
    if (e instanceof SyntaxError || (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function main(): Promise<void> {
  const txns = arg('txns', 60_000);
  const rate = arg('rate', 2500); // 10k row changes/s (issue 22's steady-lag target)
  const steadySeconds = arg('seconds', 20);
  const work = await mkdtemp(join(tmpdir(), 'dm-ts-bench-inc-'));
  const up = await new MariaDBSandbox().start();
  // Every target writes what it applies to its own binlog (native replicas need log_slave_updates
  // for that), so all do the same work.
  const runs = arg('runs', 2);
  const targets = await Promise.all(
    Array.from({ length: 3 * runs }, () =>
      new MariaDBSandbox({ extraArgs: ['--log-slave-updates=ON'] }).start(),
    ),
  );
  try {
    console.log(`sysbench prepare ${TABLES} x ${ROWS} rows; seeding ${targets.length} targets …`);
    await sysbench(up, 'prepare', SB, [`--threads=${TABLES}`]);
    for (const t of targets) await dumpPipe(up, t);
    // the backlog starts a binlog file: a relay starts at a file's beginning (relay-binlog-name),
    // so it copies the backlog and nothing before it, as native replication reads it from `from`
    await up.exec('FLUSH BINARY LOGS');
    const from = await masterPos(up);
    console.log(`backlog: sysbench oltp_write_only, ${txns} transactions (4 row changes each) …`);
    await sysbench(up, 'run', SB, ['--threads=4', '--time=0', `--events=${txns}`]);
    const to = await masterPos(up);
    const changes = txns * 4;
    const want = await checksum(up);

    const oursName = `dm-ts (${arg('workers', 16)} appliers${arg('batch', 0) ? `, batch ${arg('batch', 0)}` : ''}${arg('compact', 0) ? ', compact' : ''}${arg('relay', 0) ? ', via relay' : ''})`;
    const names = [oursName, 'native, slave_parallel_threads=0', 'native, slave_parallel_threads=4'];
    const best: (Result | undefined)[] = [undefined, undefined, undefined];
    let ours: Ours | undefined;
    const runOurs = async (down: MariaDBSandbox, dir: string): Promise<Result> => {
      if (ours) {
        ours.child.kill('SIGTERM');
        await new Promise((r) => ours!.child.on('exit', r));
      }
      const targetCpu0 = await cpuSeconds(down.pid);
      const started = Date.now();
      const o = (ours = await startOurs(up, down, dir, from));
      let firstProgress = 0;
      for (;;) {
        const at = await oursAt(o);
        if (at && !firstProgress && comparePosition(at, from) > 0) firstProgress = Date.now();
        if (at && comparePosition(at, to) >= 0) break;
        if (o.child.exitCode !== null) throw new Error('run-task exited');
        await new Promise((r) => setTimeout(r, 20));
      }
      const seconds = (Date.now() - started) / 1000;
      console.log(`  (dm-ts started applying after ${((firstProgress - started) / 1000).toFixed(2)} s)`);
      return { seconds, cpu: (await cpuSeconds(down.pid)) - targetCpu0, own: await cpuSeconds(o.child.pid) };
    };
    for (let r = 0; r < runs; r++) {
      const [t0, t1, t2] = targets.slice(3 * r, 3 * r + 3);
      const order = r % 2 === 0 ? [0, 1, 2] : [2, 1, 0];
      await settle([up, ...targets]);
      console.log(`run ${r + 1} of ${runs}:`);
      for (const i of order) {
        const res =
          i === 0
            ? await runOurs(t0, join(work, `run${r}`))
            : await native(up, i === 1 ? t1 : t2, from, to, i === 1 ? 0 : 4);
        console.log(
          `  ${names[i].padEnd(34)} ${res.seconds.toFixed(2)} s  (CPU: target ${res.cpu.toFixed(2)} s${res.own === undefined ? '' : `, dm-ts ${res.own.toFixed(2)} s`})`,
        );
        if (!best[i] || res.seconds < best[i]!.seconds) best[i] = res;
      }
    }
    for (const [i, t] of targets.entries()) {
      const got = await checksum(t);
      if (got !== want) throw new Error(`target ${i}: checksum ${got} != upstream ${want}`);
    }
    const results = names.map((n, i) => [n, best[i]!] as [string, Result]);
    console.log(
      `\nbacklog of ${changes} row changes (${from.file}:${from.pos} → ${to.file}:${to.pos}), best of ${runs}:`,
    );
    for (const [name, r] of results)
      console.log(
        `  ${name.padEnd(34)} ${r.seconds.toFixed(2)} s  ${(changes / r.seconds).toFixed(0)} row changes/s` +
          `  (CPU: target ${r.cpu.toFixed(2)} s${r.own === undefined ? '' : `, dm-ts ${r.own.toFixed(2)} s`})`,
      );
    const ourRate = changes / results[0][1].seconds;
    const perS = (i: number) => `${(changes / results[i][1].seconds).toFixed(0)} row changes/s`;
    record({
      bench: 'incremental',
      what: `dm-ts${VIA} / native parallel (4)`,
      ratio: ourRate / (changes / results[2][1].seconds),
      target: '≥ 1.5×',
      detail: `${perS(0)} vs ${perS(2)}`,
    });
    record({
      bench: 'incremental',
      what: `dm-ts${VIA} / native serial`,
      ratio: ourRate / (changes / results[1][1].seconds),
      target: '> 1×',
      detail: `${perS(0)} vs ${perS(1)}`,
    });
    console.log(
      `ratio vs native parallel (4): ${(ourRate / (changes / results[2][1].seconds)).toFixed(2)}x; vs native serial: ${(ourRate / (changes / results[1][1].seconds)).toFixed(2)}x (target: faster than native parallel)`,
    );

    // Steady state: a fixed rate, lag sampled (an upper bound at 50 ms resolution).
    console.log(`\nsteady state: ${rate} txn/s (${rate * 4} row changes/s) for ${steadySeconds} s …`);
    const samples: { t: number; pos: BinlogPosition }[] = [];
    let maxLag = 0;
    let sumLag = 0;
    let n = 0;
    let done = false;
    const load = sysbench(up, 'run', SB, [
      '--threads=4',
      `--time=${steadySeconds}`,
      `--rate=${rate}`,
      '--events=0',
    ]).finally(() => (done = true));
    while (!done) {
      const now = Date.now();
      samples.push({ t: now, pos: await masterPos(up) });
      const at = await oursAt(ours!);
      if (at) {
        const firstAhead = samples.find((s) => comparePosition(s.pos, at) > 0);
        const lag = firstAhead ? (Date.now() - firstAhead.t) / 1000 : 0;
        maxLag = Math.max(maxLag, lag);
        sumLag += lag;
        n++;
      }
      while (samples.length > 2 && comparePosition(samples[1].pos, at ?? samples[0].pos) <= 0)
        samples.shift();
      await new Promise((r) => setTimeout(r, 50));
    }
    await load;
    console.log(
      `dm-ts lag: mean ${(sumLag / Math.max(1, n)).toFixed(3)} s, max ${maxLag.toFixed(3)} s (target < 1 s)`,
    );
    record({
      bench: 'incremental',
      what: `steady lag${VIA}, max`,
      ratio: maxLag,
      unit: ' s',
      target: '< 1 s',
      detail: `mean ${(sumLag / Math.max(1, n)).toFixed(3)} s at ${rate * 4} row changes/s`,
    });
    ours!.child.kill('SIGTERM');
    await new Promise((r) => ours!.child.on('exit', r));
  } finally {
    for (const s of [up, ...targets]) await s.destroy();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

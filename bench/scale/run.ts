// How cost grows with the work (issue 22): each part prints a table and records its figures.
//   npm run bench:scale [-- --parts sizes,tables,txn,shards,relay --sizes 1,4,10 --tables 10000
//     --txn-rows 1000000 --sources 1,2,4 --shard-rate 250 --shard-seconds 20 --relay-seconds 20]
// sizes:  full copy (run-task, Dump + Load) of one table of 1M, 4M, 10M rows: time per row and
//         peak RSS should stay flat.
// tables: 10 000 small tables in one schema, this project vs mydumper + myloader -e.
// txn:    one upstream transaction of 1M rows through Sync (task-mode incremental): time from its
//         commit to the target having it, peak RSS; native replication of the same beside it.
// shards: 1, 2 and 4 sources merged into one table (shard-mode pessimistic, extract-source), each
//         under a sysbench write load: row changes applied per second per source, lag.
// relay:  the relay's write rate on a backlog against the upstream's binlog write rate, and its
//         lag when both run at once.
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
function runTask(
  work: string,
  task: string,
  status?: string,
  sources = [join(work, 'source.yaml')],
): RunTask {
  const child = spawn(
    process.execPath,
    [
      ...NODE_FLAGS,
      'dist/cli/run-task.js',
      '--task',
      task,
      ...sources.flatMap((s) => ['--source', s]),
      ...(status ? ['--status-file', status, '--status-interval-ms', '100'] : []),
    ],
    {
      stdio: ['ignore', process.env.BENCH_LOG ? 'inherit' : 'ignore', 'inherit'],
      env: { ...process.env, DM_LOG_LEVEL: process.env.DM_LOG_LEVEL ?? 'warn' },
    },
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
    const loads = async () =>
      Number(((await down.exec("SHOW GLOBAL STATUS LIKE 'Com_load'")) as { Value: string }[])[0].Value);
    const loads0 = await loads();
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
    const statements = (await loads()) - loads0;
    r.kill();
    await r.exited;
    if ((await checksums(up, ['big.t'])) !== (await checksums(down, ['big.t'])))
      throw new Error('CHECKSUM TABLE differs');
    // the peer: native replication applies the same binlog range (parallel threads do not split one transaction)
    const nat = await native(up, replica, { file: m.File, pos: Number(m.Position) }, toPos(end), 0);
    if ((await checksums(up, ['big.t'])) !== (await checksums(replica, ['big.t'])))
      throw new Error('CHECKSUM TABLE differs (native replica)');
    console.log(
      `${rows} rows in one transaction (${statements ? `as ${statements} LOAD DATA statements` : 'as INSERTs'}): applied ${seconds.toFixed(2)} s after its commit, peak RSS ${peak.toFixed(0)} MB (${before.toFixed(0)} MB before), CPU ${cpu[0].toFixed(1)} s ours + ${cpu[1].toFixed(1)} s target's; native replication ${nat.seconds.toFixed(2)} s (CPU ${nat.cpu.toFixed(1)} s)`,
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

type Status = {
  workers: {
    subTaskStatus: {
      stage: string;
      unit: string;
      result?: { errors?: unknown[] };
      sync?: Record<string, string>;
    }[];
    relayStatus?: { relayBinlog: string } | null;
  }[];
};

async function readStatus(file: string): Promise<Status | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Status;
  } catch {
    return undefined;
  }
}

async function masterPos(s: MariaDBSandbox) {
  const [m] = (await s.exec('SHOW MASTER STATUS')) as { File: string; Position: number }[];
  return toPos(m);
}

/** Waits until every subtask's Sync has applied everything its upstream has; the seconds it took. */
async function caughtUp(status: string, ups: MariaDBSandbox[], timeoutS = 600): Promise<number> {
  const t0 = Date.now();
  const want = await Promise.all(ups.map(masterPos));
  for (;;) {
    const st = await readStatus(status);
    const sts = st?.workers.map((w) => w.subTaskStatus[0]) ?? [];
    for (const x of sts) if (x.result?.errors?.length) throw new Error(JSON.stringify(x.result.errors[0]));
    if (
      sts.length === ups.length &&
      sts.every((x, i) => {
        const at = x.sync?.syncerBinlog;
        return at && comparePosition(parsePosition(at), want[i]) >= 0;
      })
    )
      return (Date.now() - t0) / 1000;
    if (Date.now() - t0 > timeoutS * 1000) throw new Error(`not caught up in ${timeoutS} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Rows of one source in a merged table (count, sum of k, a checksum of every column). */
const SHARD_SUMMARY = "COUNT(*) n, SUM(k) k, BIT_XOR(CRC32(CONCAT_WS(',', id, k, c, pad))) x";

async function shards(work: string): Promise<void> {
  const counts = arg('sources', '1,2,4').split(',').map(Number);
  const rate = Number(arg('shard-rate', '250'));
  const seconds = Number(arg('shard-seconds', '20'));
  console.log(
    `\nshard merge (pessimistic, extract-source into one table), each source under sysbench oltp_write_only at ${rate} txn/s for ${seconds} s`,
  );
  console.log('sources  row changes/s per source  total/s  max lag  caught up after');
  for (const n of counts) {
    const ups = await Promise.all(Array.from({ length: n }, () => new MariaDBSandbox().start()));
    const down = await new MariaDBSandbox().start();
    let stop = () => {};
    try {
      await Promise.all(ups.map((u) => sysbench(u, 'prepare', { tables: 1, rows: 50_000 })));
      await down.exec(`CREATE DATABASE merged; CREATE TABLE merged.sbtest1 (id INT NOT NULL, k INT NOT NULL DEFAULT 0,
        c CHAR(120) NOT NULL DEFAULT '', pad CHAR(60) NOT NULL DEFAULT '', c_source VARCHAR(32) NOT NULL,
        PRIMARY KEY (id, c_source), KEY k_1 (k))`);
      const sources: string[] = [];
      for (const [i, u] of ups.entries()) {
        const o = u.connectionOptions();
        const f = join(work, `shard-s${i}.yaml`);
        await writeFile(
          f,
          `source-id: s${i}\nfrom: {host: ${o.host}, port: ${o.port}, user: ${o.user}, password: ""}\n`,
        );
        sources.push(f);
      }
      const name = `shards${n}`;
      const task = await files(
        work,
        ups[0],
        down,
        name,
        `task-mode: all\nshard-mode: pessimistic\nblock-allow-list:\n  only: {do-dbs: ["sbtest"]}\n` +
          `routes:\n  merge: {schema-pattern: sbtest, table-pattern: sbtest1, target-schema: merged, target-table: sbtest1, extract-source: {source-regexp: "s(.*)", target-column: c_source}}\n` +
          `  schemas: {schema-pattern: sbtest, target-schema: merged}\n` +
          `mysql-instances:\n${ups.map((_, i) => `  - {source-id: s${i}, block-allow-list: only, route-rules: [merge, schemas], loader: {dir: "${join(work, name, `s${i}`)}"}, syncer: {worker-count: 8}}`).join('\n')}\n`,
      );
      const status = join(work, `${name}-status.json`);
      const r = runTask(work, task, status, sources);
      stop = () => r.kill();
      await caughtUp(status, ups);
      const startRows = async () =>
        ((await readStatus(status))?.workers ?? []).map((w) =>
          Number(w.subTaskStatus[0].sync?.totalRows ?? 0),
        );
      const before = await startRows();
      let maxLag = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const st = await readStatus(status);
          for (const w of st?.workers ?? [])
            maxLag = Math.max(maxLag, Number(w.subTaskStatus[0].sync?.secondsBehindMaster ?? 0));
          await new Promise((res) => setTimeout(res, 200));
        }
      })();
      const t0 = Date.now();
      await Promise.all(
        ups.map((u) =>
          sysbench(u, 'run', { tables: 1, rows: 50_000 }, [
            '--threads=2',
            `--rate=${rate}`,
            `--time=${seconds}`,
          ]),
        ),
      );
      const after = await caughtUp(status, ups);
      const elapsed = (Date.now() - t0) / 1000;
      sampling = false;
      await sampler;
      const applied = (await startRows()).map((x, i) => x - before[i]);
      const peak = r.peakMb();
      r.kill();
      await r.exited;
      for (const [i, u] of ups.entries()) {
        const [a] = (await u.exec(`SELECT ${SHARD_SUMMARY} FROM sbtest.sbtest1`)) as Record<string, string>[];
        const [b] = (await down.exec(
          `SELECT ${SHARD_SUMMARY} FROM merged.sbtest1 WHERE c_source = '${i}'`,
        )) as Record<string, string>[];
        if (JSON.stringify(a) !== JSON.stringify(b))
          throw new Error(`source ${i}: merged rows differ: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
      }
      const perSource = applied.reduce((x, y) => x + y, 0) / n / elapsed;
      console.log(
        `${String(n).padEnd(8)} ${perSource.toFixed(0).padStart(24)}  ${(perSource * n).toFixed(0).padStart(7)}  ${String(maxLag).padStart(5)} s  ${after.toFixed(1)} s (peak RSS ${peak.toFixed(0)} MB)`,
      );
      record({
        bench: 'scale',
        what: `shard merge of ${n} source(s) at ${rate} txn/s each: row changes/s per source`,
        ratio: perSource,
        unit: '/s',
        target: 'keeps up',
        detail: `max lag ${maxLag} s, caught up ${after.toFixed(1)} s after the writes, merged rows equal`,
      });
    } finally {
      stop();
      await Promise.all([...ups, down].map((s) => s.destroy()));
    }
  }
}

/** Relay write throughput against the upstream's binlog write rate: a backlog written by sysbench
 * at full speed, then read by the relay (its catch-up rate); then both at once (the relay's lag). */
async function relay(work: string): Promise<void> {
  const seconds = Number(arg('relay-seconds', '20'));
  const up = await new MariaDBSandbox().start();
  const down = await new MariaDBSandbox().start();
  try {
    console.log(
      `\nrelay: a sysbench oltp_write_only backlog (${seconds} s at full speed), then written live`,
    );
    await sysbench(up, 'prepare', { tables: 4, rows: 25_000 });
    await up.exec('FLUSH BINARY LOGS');
    const from = await masterPos(up);
    const size = async () =>
      ((await up.exec('SHOW BINARY LOGS')) as { Log_name: string; File_size: string }[])
        .filter((l) => l.Log_name >= from.file)
        .reduce((n, l) => n + Number(l.File_size), 0);
    let t0 = Date.now();
    await sysbench(up, 'run', { tables: 4, rows: 25_000 }, ['--threads=4', `--time=${seconds}`]);
    const upRate = (await size()) / ((Date.now() - t0) / 1000);
    const backlog = await size();
    const u = up.connectionOptions();
    const relayDir = join(work, 'relay');
    const source = join(work, 'relay-source.yaml');
    await writeFile(
      source,
      `source-id: up\nfrom: {host: ${u.host}, port: ${u.port}, user: ${u.user}, password: ""}\nenable-relay: true\nrelay-binlog-name: ${from.file}\nrelay-dir: "${relayDir}"\n`,
    );
    // a task whose rules take no table: Sync reads the relay and applies nothing
    const task = await files(
      work,
      up,
      down,
      'relaybench',
      `task-mode: incremental\nblock-allow-list:\n  none: {do-dbs: ["no_such_db"]}\nmysql-instances:\n  - {source-id: up, block-allow-list: none, meta: {binlog-name: ${from.file}, binlog-pos: 4}}\n`,
    );
    const status = join(work, 'relay-status.json');
    t0 = Date.now();
    const r = runTask(work, task, status, [source]);
    try {
      const relayAt = async () => {
        const rb = (await readStatus(status))?.workers[0].relayStatus?.relayBinlog;
        return rb ? parsePosition(rb) : undefined;
      };
      const reach = async (
        want: { file: string; pos: number },
        timeoutS = Number(arg('relay-timeout', '600')),
      ) => {
        for (const start = Date.now(); ;) {
          const at = await relayAt();
          if (at && comparePosition(at, want) >= 0) return (Date.now() - start) / 1000;
          if (Date.now() - start > timeoutS * 1000)
            throw new Error(
              `the relay did not reach ${JSON.stringify(want)} in ${timeoutS} s: ${JSON.stringify((await readStatus(status))?.workers[0])}`,
            );
          await new Promise((res) => setTimeout(res, 20));
        }
      };
      await reach(await masterPos(up));
      const relayRate = backlog / ((Date.now() - t0) / 1000);
      // live: sysbench at full speed with the relay following
      const liveFrom = await size();
      t0 = Date.now();
      await sysbench(up, 'run', { tables: 4, rows: 25_000 }, ['--threads=4', `--time=${seconds}`]);
      const liveRate = ((await size()) - liveFrom) / ((Date.now() - t0) / 1000);
      const lag = await reach(await masterPos(up));
      const peak = r.peakMb();
      const mb = (x: number) => (x / (1 << 20)).toFixed(1);
      console.log(
        `upstream writes its binlog at ${mb(upRate)} MB/s; the relay writes a ${mb(backlog)} MB backlog at ${mb(relayRate)} MB/s (${(relayRate / upRate).toFixed(1)}x); ` +
          `live at ${mb(liveRate)} MB/s it is ${lag.toFixed(2)} s behind at the end (peak RSS ${peak.toFixed(0)} MB)`,
      );
      record({
        bench: 'scale',
        what: "relay write rate / upstream's binlog write rate",
        ratio: relayRate / upRate,
        target: '> 1×',
        detail: `relay ${mb(relayRate)} MB/s, upstream ${mb(upRate)} MB/s; live: ${lag.toFixed(2)} s behind at the end`,
      });
    } finally {
      r.kill();
      await r.exited;
    }
  } finally {
    await Promise.all([up.destroy(), down.destroy()]);
  }
}

async function main(): Promise<void> {
  const parts = arg('parts', 'sizes,tables,txn,shards,relay').split(',');
  const work = await mkdtemp(join(tmpdir(), 'dm-ts-bench-scale-'));
  try {
    if (parts.includes('sizes')) await sizes(work);
    if (parts.includes('tables')) await manyTables(work);
    if (parts.includes('txn')) await bigTransaction(work);
    if (parts.includes('shards')) await shards(work);
    if (parts.includes('relay')) await relay(work);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

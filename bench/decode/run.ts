// bench/decode: decode speed of this project's binlog client vs @vlasky/zongji vs mariadb-binlog,
// on the same sysbench binlog from the same sandbox server, in one run; prints rates and ratios.
// Each decoder runs `--runs` times (default 2, order alternating) and its best run counts. Neither
// zongji nor mariadb-binlog (by default) verifies the events' checksums; this project does, so it
// runs both ways: the ratio to zongji compares the same work, the verified run is shown beside it.
//   bash scripts/setup.sh --bench && npm run bench:decode [-- --events 130000 --runs 2]
import { record } from '../summary.js';
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { MariaDBSandbox, findExecutable } from '../../src/sandbox/mariadb.js';
import { sysbench } from '../sysbench.js';
import { BinlogClient } from '../../src/binlog/client.js';
import { BinlogDecoder } from '../../src/binlog/decoder.js';
import { readBinlogFile } from '../../src/binlog/file.js';

const require = createRequire(import.meta.url);

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

const MB = 1024 * 1024;

interface Result {
  name: string;
  rowEvents: number;
  rows: number;
  seconds: number;
  maxRssMb?: number;
}

function rssSampler(): { stop: () => number } {
  let max = process.memoryUsage().rss;
  const t = setInterval(() => (max = Math.max(max, process.memoryUsage().rss)), 50);
  return {
    stop: () => {
      clearInterval(t);
      return Math.max(max, process.memoryUsage().rss) / MB;
    },
  };
}

async function ours(server: MariaDBSandbox, verify: boolean): Promise<Result> {
  const rss = rssSampler();
  const t0 = performance.now();
  const c = new BinlogClient({
    ...server.connectionOptions(),
    serverId: 7001,
    start: { file: 'mysql-bin.000001', pos: 4 },
    nonBlocking: true,
    verifyChecksum: verify,
  });
  let rowEvents = 0;
  let rows = 0;
  for await (const batch of c.batches()) {
    for (const ev of batch) {
      if (ev.kind === 'rows') {
        rowEvents++;
        rows += ev.rows.length;
      }
    }
  }
  return {
    name: `dm-ts BinlogClient (network, decode all columns${verify ? ', checksums verified' : ''})`,
    rowEvents,
    rows,
    seconds: (performance.now() - t0) / 1000,
    maxRssMb: rss.stop(),
  };
}

async function oursFromFiles(server: MariaDBSandbox, files: string[]): Promise<Result> {
  const rss = rssSampler();
  const t0 = performance.now();
  let rowEvents = 0;
  let rows = 0;
  for (const f of files) {
    const d = new BinlogDecoder({ file: f });
    for await (const raw of readBinlogFile(`${server.datadir}/${f}`)) {
      const ev = d.decode(raw.buf, raw.start, raw.end);
      if (ev.kind === 'rows') {
        rowEvents++;
        rows += ev.rows.length;
      }
    }
  }
  return {
    name: 'dm-ts BinlogDecoder (local files)',
    rowEvents,
    rows,
    seconds: (performance.now() - t0) / 1000,
    maxRssMb: rss.stop(),
  };
}

async function zongji(server: MariaDBSandbox, expectRowEvents: number): Promise<Result> {
  const mod = require('@vlasky/zongji');
  const ZongJi = mod.default ?? mod;
  const rss = rssSampler();
  const t0 = performance.now();
  const z = new ZongJi({ ...server.connectionOptions(), dateStrings: true });
  let rowEvents = 0;
  let rows = 0;
  await new Promise<void>((resolve, reject) => {
    z.on('error', reject);
    z.on('binlog', (evt: { getEventName(): string; rows?: unknown[] }) => {
      if (evt.getEventName() === 'tablemap') return;
      rowEvents++;
      rows += evt.rows?.length ?? 0;
      if (rowEvents >= expectRowEvents) resolve();
    });
    z.start({
      serverId: 7002,
      filename: 'mysql-bin.000001',
      position: 4,
      includeEvents: ['tablemap', 'writerows', 'updaterows', 'deleterows'],
    });
  });
  const seconds = (performance.now() - t0) / 1000;
  z.stop();
  return { name: '@vlasky/zongji (network)', rowEvents, rows, seconds, maxRssMb: rss.stop() };
}

async function mariadbBinlog(server: MariaDBSandbox, rowEvents: number, rows: number): Promise<Result> {
  const bin = findExecutable(['mariadb-binlog', 'mysqlbinlog']);
  if (!bin) throw new Error('mariadb-binlog not found (apt-get install -y mariadb-client)');
  const devnull = openSync('/dev/null', 'w');
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const p = spawn(
      bin,
      [
        '--read-from-remote-server',
        '--host=127.0.0.1',
        `--port=${server.port}`,
        '--user=root',
        '--base64-output=decode-rows',
        '-v',
        '--to-last-log',
        'mysql-bin.000001',
      ],
      { stdio: ['ignore', devnull, 'inherit'] },
    );
    p.on('error', reject);
    p.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`mariadb-binlog exited with ${code}`)),
    );
  });
  closeSync(devnull);
  return {
    name: 'mariadb-binlog --base64-output=decode-rows -v (network)',
    rowEvents,
    rows,
    seconds: (performance.now() - t0) / 1000,
  };
}

async function main(): Promise<void> {
  const transactions = arg('events', 130_000);
  const server = new MariaDBSandbox({ extraArgs: ['--max-binlog-size=256M'] });
  await server.start();
  try {
    console.log(
      `sandbox mariadbd on 127.0.0.1:${server.port}; sysbench oltp_write_only, ${transactions} transactions …`,
    );
    const t = performance.now();
    await sysbench(server, 'prepare', { tables: 4, rows: 25_000 });
    await sysbench(server, 'run', { tables: 4, rows: 25_000 }, [
      '--threads=4',
      '--time=0',
      `--events=${transactions}`,
    ]);
    const logs = (await server.exec('SHOW BINARY LOGS')) as { Log_name: string; File_size: string }[];
    const bytes = logs.reduce((a, l) => a + Number(l.File_size), 0);
    console.log(
      `binlog: ${logs.length} file(s), ${(bytes / MB).toFixed(1)} MB, written in ${((performance.now() - t) / 1000).toFixed(1)} s\n`,
    );

    const files = logs.map((l) => l.Log_name);
    const first = await ours(server, true);
    const contenders: (() => Promise<Result>)[] = [
      () => ours(server, true),
      () => ours(server, false),
      () => oursFromFiles(server, files),
      () => zongji(server, first.rowEvents),
      () => mariadbBinlog(server, first.rowEvents, first.rows),
    ];
    const results: Result[] = [];
    const runs = arg('runs', 2);
    for (let r = 0; r < runs; r++) {
      const order = contenders.map((_, i) => i);
      if (r % 2) order.reverse();
      for (const i of order) {
        const res = await contenders[i]();
        if (!results[i] || res.seconds < results[i].seconds) results[i] = res;
      }
    }
    const [verified, a, files_, zj, mb] = results;
    if (a.rowEvents < 500_000) console.log(`note: only ${a.rowEvents} row events (< 500k); raise --events`);
    console.log(`best of ${runs} runs each:`);
    console.log('| decoder | row events | rows | seconds | row events/s | MB/s | max RSS MB |');
    console.log('|---|---|---|---|---|---|---|');
    for (const r of results) {
      console.log(
        `| ${r.name} | ${r.rowEvents} | ${r.rows} | ${r.seconds.toFixed(2)} | ${Math.round(r.rowEvents / r.seconds)} | ${(bytes / MB / r.seconds).toFixed(1)} | ${r.maxRssMb?.toFixed(0) ?? '-'} |`,
      );
    }
    const rate = (r: Result): number => r.rowEvents / r.seconds;
    const perS = (r: Result) => `${Math.round(rate(r))} row events/s`;
    // what, ours, the peer, the target ('-': none; '': shown only, not recorded)
    const ratios: [string, Result, Result, string][] = [
      ['dm-ts / @vlasky/zongji (neither verifies checksums)', a, zj, '≥ 5×'],
      ['dm-ts verifying checksums / @vlasky/zongji', verified, zj, '-'],
      ['dm-ts verifying checksums / mariadb-binlog', verified, mb, '≥ 0.5×'],
      ['dm-ts files / mariadb-binlog', files_, mb, ''],
    ];
    console.log('');
    for (const [what, x, y, target] of ratios) {
      const ratio = rate(x) / rate(y);
      console.log(
        `ratio ${what}:`.padEnd(60) +
          ` ${ratio.toFixed(2)}×${target.startsWith('≥') ? ` (target ${target})` : ''}`,
      );
      if (target) record({ bench: 'decode', what, ratio, target, detail: `${perS(x)} vs ${perS(y)}` });
    }
  } finally {
    await server.destroy();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(String(e));
    process.exit(1);
  },
);

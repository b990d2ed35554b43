// The benchmarks' standing in one table: each benchmark records its ratios (record(), appended to
// the file $DM_BENCH_SUMMARY when `npm run bench` sets it), and `npm run bench` ends by printing
// them with the peers' versions (`node --import tsx bench/summary.ts <file>`).
import { execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export interface Entry {
  bench: string;
  what: string;
  ratio: number;
  /** How the ratio reads (default '×'; ' s' for a time). */
  unit?: string;
  target: string;
  detail: string;
}

/** Records one ratio of a benchmark (nothing without $DM_BENCH_SUMMARY). */
export function record(e: Entry): void {
  const file = process.env.DM_BENCH_SUMMARY;
  if (file) appendFileSync(file, JSON.stringify(e) + '\n');
}

function version(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .trim()
      .split('\n')[0];
  } catch {
    return 'not installed';
  }
}

/** The summary table of a run's file (Markdown, as the README keeps it). */
export function table(entries: Entry[]): string {
  const cell = (t: string) => t.replace(/\|/g, '\\|');
  const rows = entries.map(
    (e) =>
      `| ${e.bench} | ${cell(e.what)} | ${e.ratio.toFixed(2)}${e.unit ?? '×'} | ${e.target} | ${cell(e.detail)} |`,
  );
  return ['| benchmark | of | value | target | measured |', '|---|---|---|---|---|', ...rows].join('\n');
}

if (process.argv[1]?.endsWith('summary.ts')) {
  const file = process.argv[2];
  const entries = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Entry);
  // its package.json is not exported: read it from where the package is
  const zongjiMain = createRequire(import.meta.url).resolve('@vlasky/zongji');
  const zongjiPkg = join(
    zongjiMain.slice(0, zongjiMain.lastIndexOf('@vlasky/zongji') + '@vlasky/zongji'.length),
    'package.json',
  );
  const zongji = (JSON.parse(readFileSync(zongjiPkg, 'utf8')) as { version: string }).version;
  console.log(
    `\n## Summary (${new Date().toISOString().slice(0, 10)}, ${process.arch}, ${(await import('node:os')).cpus().length} cores)\n`,
  );
  console.log(table(entries));
  console.log(
    `\npeers: ${version('mariadbd', ['--version'])}; ${version('mariadb-dump', ['--version'])}; ${version('mariadb-binlog', ['--version'])}; @vlasky/zongji ${zongji}; ${version('sysbench', ['--version'])}; Node ${process.version}`,
  );
}

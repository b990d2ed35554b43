// `npm run bench`: decode, full, incremental (directly and via the relay) and scale in turn (each
// builds what it needs), then one summary table of every ratio with the peers' versions.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'dm-ts-bench-'));
const file = join(dir, 'summary.jsonl');
let failed = false;
const runs: string[][] = [
  ['bench:decode'],
  ['bench:full'],
  ['bench:incremental'],
  ['bench:incremental', '--', '--relay', '1'],
  ['bench:scale'],
];
for (const [b, ...args] of runs) {
  const r = spawnSync('npm', ['run', b, ...args], {
    stdio: 'inherit',
    env: { ...process.env, DM_BENCH_SUMMARY: file },
  });
  if (r.status !== 0) {
    console.error(`${b} failed (${r.status})`);
    failed = true;
  }
}
spawnSync(process.execPath, ['--import', 'tsx', 'bench/summary.ts', file], { stdio: 'inherit' });
rmSync(dir, { recursive: true, force: true });
process.exit(failed ? 1 : 0);

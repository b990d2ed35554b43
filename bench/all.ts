// `npm run bench`: decode, full and incremental in turn (each builds what it needs), then one
// summary table of every ratio with the peers' versions.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'dm-ts-bench-'));
const file = join(dir, 'summary.jsonl');
let failed = false;
for (const b of ['bench:decode', 'bench:full', 'bench:incremental']) {
  const r = spawnSync('npm', ['run', b], {
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

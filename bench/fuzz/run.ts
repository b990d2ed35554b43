// The decoder fuzzer at length (the unit test runs 100k cases):
//   npm run bench:fuzz -- [--cases 2000000] [--seed 1]
// Prints the cases decoded and refused per second and every failure (exit 1 when there is one).
import { fuzzDecoder } from '../../test/harness/decoder-fuzz.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

const cases = arg('cases', 2_000_000);
const seed = arg('seed', 1);
const started = Date.now();
let failures = 0;
for (let done = 0, s = seed; done < cases; s++) {
  const n = Math.min(250_000, cases - done);
  const r = fuzzDecoder(n, s);
  done += n;
  failures += r.failures.length;
  for (const f of r.failures) console.log(f);
  console.log(
    `seed ${s}: ${n} cases, ${r.decoded} decoded, ${r.refused} refused, ${r.failures.length} failures`,
  );
}
const secs = (Date.now() - started) / 1000;
console.log(`${cases} cases in ${secs.toFixed(1)} s (${Math.round(cases / secs)}/s), ${failures} failures`);
process.exitCode = failures ? 1 : 0;

// The benchmarks' summary table: one row per recorded ratio, pipes in cells escaped, units kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { table } from '../../bench/summary.js';

test('bench summary: a Markdown row per ratio, with its target and figures', () => {
  assert.equal(
    table([
      {
        bench: 'full',
        what: 'mariadb-dump | mariadb time / dm-ts time',
        ratio: 1.734,
        target: '≥ 3×',
        detail: '9.7 s vs 16.8 s',
      },
      {
        bench: 'incremental',
        what: 'steady lag, max',
        ratio: 0.11,
        unit: ' s',
        target: '< 1 s',
        detail: 'mean 0.03 s',
      },
    ]),
    [
      '| benchmark | of | value | target | measured |',
      '|---|---|---|---|---|',
      '| full | mariadb-dump \\| mariadb time / dm-ts time | 1.73× | ≥ 3× | 9.7 s vs 16.8 s |',
      '| incremental | steady lag, max | 0.11 s | < 1 s | mean 0.03 s |',
    ].join('\n'),
  );
});

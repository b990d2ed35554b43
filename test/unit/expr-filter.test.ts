// expression-filter: the parser's refusals, DM's rule semantics per kind of change, and the task
// file's errors (each naming the rule's key and the fix).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExpr } from '../../src/rules/expr/parse.js';
import { ExprFilters, UnknownColumnError } from '../../src/rules/expr/row-filter.js';
import { ColumnType as T } from '../../src/binlog/constants.js';
import { parseTaskConfig } from '../../src/task/config.js';

test('expressions outside the subset are refused naming what is wrong', () => {
  for (const [src, want] of [
    ['c REGEXP "a"', /REGEXP is not supported/],
    ['NOW() > c', /NOW\(\) is not supported: its result depends on when the row is read/],
    ['SLEEP(1)', /function SLEEP\(\) is not supported/],
    ['c & 1', /bit operators are not supported/],
    ['(c > 1', /'\)' expected, found at the end/],
    ['c > ', /unexpected at the end/],
    ['', /empty/],
    ["c = 'abc", /unterminated string/],
    ['ROUND()', /ROUND\(\) takes 1 to 2 arguments, not 0/],
    ['c IS 5', /NULL, TRUE or FALSE expected after IS/],
  ] as const) {
    assert.throws(() => parseExpr(src), want, src);
  }
  assert.doesNotThrow(() => parseExpr("c % 2 = 0 AND name LIKE 'a%' OR d BETWEEN 1 AND 2 AND x IS NOT NULL"));
});

const INT = { binlogType: T.LONG, def: { type: 'int(11)', collation: null } };
const cols: Record<string, { idx: number } & typeof INT> = { id: { idx: 0, ...INT }, c: { idx: 1, ...INT } };

test('rules as DM: any insert or delete rule skips; an update needs old AND new of one rule', () => {
  const f = new ExprFilters(
    [
      ['even', { schema: 'd', table: 't', insertValueExpr: 'c % 2 = 0' }],
      ['big', { schema: 'd', table: 't', insertValueExpr: 'c > 100' }],
      ['del', { schema: 'd', table: 't', deleteValueExpr: 'c IS NULL' }],
      ['up', { schema: 'd', table: 't', updateOldValueExpr: 'c = 1', updateNewValueExpr: 'c = 2' }],
      ['up-new', { schema: 'd', table: 't', updateNewValueExpr: 'c = 9' }],
    ],
    false,
  ).forTable('D', 'T', (n) => cols[n]);
  assert.ok(f);
  assert.deepEqual(f.beforeColumns, [1]);
  assert.equal(f.skip('insert', undefined, [1, 4]), true);
  assert.equal(f.skip('insert', undefined, [1, 101]), true);
  assert.equal(f.skip('insert', undefined, [1, 3]), false);
  assert.equal(f.skip('insert', undefined, [1, null]), false, 'NULL is not true');
  assert.equal(f.skip('delete', [1, null]), true);
  assert.equal(f.skip('delete', [1, 4]), false, 'insert rules do not filter deletes');
  assert.equal(f.skip('update', [1, 1], [1, 2]), true);
  assert.equal(f.skip('update', [1, 1], [1, 3]), false, 'old matches, new does not');
  assert.equal(f.skip('update', [1, 5], [1, 2]), false, 'new matches, old does not');
  assert.equal(f.skip('update', [1, 5], [1, 9]), true, 'a missing side is true');
});

test('a table no rule names has no filter; case-sensitive names; an unknown column is an error', () => {
  const rules: [string, { schema: string; table: string; insertValueExpr: string }][] = [
    ['r', { schema: 'd', table: 't', insertValueExpr: 'nope > 1' }],
  ];
  assert.equal(
    new ExprFilters(rules, false).forTable('d', 'other', (n) => cols[n]),
    undefined,
  );
  assert.equal(
    new ExprFilters(rules, true).forTable('D', 't', (n) => cols[n]),
    undefined,
  );
  assert.throws(
    () => new ExprFilters(rules, false).forTable('d', 't', (n) => cols[n]),
    (e: unknown) => e instanceof UnknownColumnError && e.rule === 'r' && e.column === 'nope',
  );
});

const task = (extra: string) => `
name: t
task-mode: incremental
target-database: {host: 127.0.0.1, port: 3306, user: root, password: ''}
mysql-instances:
  - source-id: s1
    meta: {binlog-name: mysql-bin.000001, binlog-pos: 4}
    expression-filters: [r]
${extra}`;

test('task file: rules are read, and every bad one is an error naming its key and the fix', () => {
  const ok = parseTaskConfig(
    task(
      `expression-filter:\n  r: {schema: d, table: t, update-old-value-expr: "c > 1", update-new-value-expr: "c < 1"}`,
    ),
  );
  assert.deepEqual(ok.exprFilters.get('r'), {
    schema: 'd',
    table: 't',
    updateOldValueExpr: 'c > 1',
    updateNewValueExpr: 'c < 1',
  });
  assert.deepEqual(ok.mysqlInstances[0].exprFilterRules, ['r']);
  assert.deepEqual(ok.warnings, [], 'incremental: nothing to warn of');

  const bad = (extra: string, want: RegExp) => assert.throws(() => parseTaskConfig(task(extra)), want, extra);
  bad(
    `expression-filter:\n  r: {schema: d, table: t, insert-value-expr: "NOW() > c"}`,
    /'expression-filter.r.insert-value-expr'.*NOW\(\) is not supported/,
  );
  bad(
    `expression-filter:\n  r: {schema: d, table: t, insert-value-expr: "c > 1", delete-value-expr: "c > 1"}`,
    /has insert-value-expr and delete-value-expr: one rule filters one kind of change.*Split it/,
  );
  bad(`expression-filter:\n  r: {schema: d, table: t}`, /has no expression/);
  bad(
    `expression-filter:\n  other: {schema: d, table: t, insert-value-expr: "c > 1"}`,
    /names expression-filter 'r', which is not defined/,
  );
  bad(`expression-filter:\n  r: {schema: d, table: t, insert-value-exp: "c > 1"}`, /insert-value-exp/);

  const all = parseTaskConfig(
    task(`expression-filter:\n  r: {schema: d, table: t, insert-value-expr: "c > 1"}`).replace(
      'incremental',
      'all',
    ),
  );
  assert.match(all.warnings.join('\n'), /applies to the binlog \(Sync\), as in DM: the rows the full copy/);
});

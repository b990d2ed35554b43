// binlog-schema on Sync's view of a table: list shows the routed target table; update
// --from-target and delete drop what Sync cached; a schema of its own is refused with the fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { operateSchema } from '../../src/units/sync/schema-op.js';
import { tableRouter } from '../../src/rules/route.js';
import type { SqlSession } from '../../src/mysql/protocol.js';

function rig() {
  const router = tableRouter([
    ['r', { schemaPattern: 'shard_*', tablePattern: 't_*', targetSchema: 'all', targetTable: 't' }],
  ]);
  const forgotten: unknown[] = [];
  const invalidated: string[] = [];
  const c = {
    router,
    compiler: { forget: (info: unknown) => forgotten.push(info) } as never,
    tracker: { invalidate: (db: string, t?: string) => invalidated.push(`${db}.${t}`) } as never,
  };
  const shown: string[] = [];
  const session = {
    query: async (sql: string) => (shown.push(sql), [{ 'Create Table': 'CREATE TABLE `t` (`id` int)' }]),
  } as unknown as SqlSession;
  const withTarget = <T>(f: (s: SqlSession) => Promise<T>) => f(session);
  return { c, forgotten, invalidated, shown, withTarget };
}

test('list shows the routed target table; update --from-target and delete drop the cached schema', async () => {
  const r = rig();
  const got = await operateSchema(r.c, { op: 'list', database: 'shard_1', table: 't_1' }, r.withTarget);
  assert.equal(got, 'CREATE TABLE `t` (`id` int)');
  assert.deepEqual(r.shown, ['SHOW CREATE TABLE `all`.`t`']);
  assert.deepEqual(r.invalidated, [], 'list changes nothing');
  const msg = await operateSchema(
    r.c,
    { op: 'update', database: 'shard_1', table: 't_1', fromTarget: true },
    r.withTarget,
  );
  assert.match(msg, /from `all`.`t` again/);
  await operateSchema(r.c, { op: 'delete', database: 'shard_1', table: 't_1' }, r.withTarget);
  assert.deepEqual(r.invalidated, ['all.t', 'all.t']);
  assert.deepEqual(r.forgotten, [
    { tables: [{ db: 'shard_1', table: 't_1' }], dbs: [] },
    { tables: [{ db: 'shard_1', table: 't_1' }], dbs: [] },
  ]);
});

test('a schema file or --from-source is refused, naming the target table to fix', async () => {
  const r = rig();
  for (const req of [{ fromSource: true }, { schema: 'CREATE TABLE t (id INT)' }]) {
    await assert.rejects(
      operateSchema(r.c, { op: 'update', database: 'shard_1', table: 't_1', ...req }, r.withTarget),
      (e: Error & { workaround?: string }) =>
        /from its target table `all`.`t`/.test(e.message) && /--from-target/.test(e.workaround ?? ''),
    );
  }
  assert.deepEqual(r.invalidated, []);
});

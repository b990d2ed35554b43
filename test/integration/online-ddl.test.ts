// Online schema changes during Sync (online-ddl, on by default as in DM): the real
// pt-online-schema-change altering a 200k-row table under write load, and gh-ost's statements
// written as gh-ost issues them, with a SIGKILL of the task between the shadow table's ALTER and
// the swap, alone and on merged shards in both shard modes. The target never holds a shadow or
// trash table or a trigger, gets the ALTER once, and ends equal to the upstream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { server, type MariaDBSandbox } from '../harness/index.js';
import { sourceYaml, taskYaml, writeTemp } from '../harness/task.js';
import { assertTablesEqual, caughtUpInFile, runTask, runTaskToEnd, type RunTask } from '../harness/run.js';
import { parseSourceConfig, parseTaskConfig, subTaskConfigs } from '../../src/task/config.js';
import { checkTask } from '../../src/units/check/check.js';
import { rows, SHARDS, seedShards, shardTask, totalUpstream, writeShards } from '../harness/shards.js';
import { writeFile } from 'node:fs/promises';

const run = promisify(execFile);

/** Tables of a server whose names are an online schema change tool's. */
async function onlineTables(s: MariaDBSandbox): Promise<string[]> {
  return (
    await rows(
      s,
      "SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) t FROM information_schema.TABLES WHERE TABLE_NAME REGEXP '^_.+_(gho|ghc|del|new|old)$'",
    )
  ).map((r) => String(r.t));
}

async function columns(s: MariaDBSandbox, db: string, table: string): Promise<string[]> {
  return (
    await rows(
      s,
      `SELECT COLUMN_NAME c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '${db}' AND TABLE_NAME = '${table}' ORDER BY ORDINAL_POSITION`,
    )
  ).map((r) => String(r.c));
}

/** gh-ost's statements for `ALTER TABLE db.t <alter>` up to the row copy (inclusive), as gh-ost
 * writes them: the shadow table created like the real one and altered, the changelog table, the
 * rows copied in chunks while changes reach both tables. */
async function ghostCopy(up: MariaDBSandbox, db: string, t: string, alter: string, base = 0): Promise<void> {
  const q = (x: string) => `\`${db}\`.\`${x}\``;
  await up.exec(`drop /* gh-ost */ table if exists ${q(`_${t}_gho`)}`);
  await up.exec(`drop /* gh-ost */ table if exists ${q(`_${t}_del`)}`);
  await up.exec(
    `create /* gh-ost */ table ${q(`_${t}_ghc`)} (id bigint auto_increment, last_update timestamp not null DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, hint varchar(64) charset ascii not null, value varchar(4096) charset ascii not null, primary key(id), unique key hint_uidx(hint)) auto_increment=256`,
  );
  await up.exec(`create /* gh-ost */ table ${q(`_${t}_gho`)} like ${q(t)}`);
  await up.exec(`alter /* gh-ost */ table ${q(`_${t}_gho`)} ${alter}`);
  await up.exec(
    `insert /* gh-ost */ into ${q(`_${t}_ghc`)} (id, hint, value) values (2, 'state', 'GhostTableMigrated') on duplicate key update last_update=NOW(), value=VALUES(value)`,
  );
  for (let from = 1; from <= 500; from += 100) {
    await up.exec(
      `insert /* gh-ost ${q(t)} */ ignore into ${q(`_${t}_gho`)} (id, v) (select id, v from ${q(t)} force index (PRIMARY) where id between ${base + from} and ${base + from + 99} lock in share mode)`,
    );
    // a change while copying: gh-ost applies it to the shadow table from the binlog
    await up.exec(
      `BEGIN; UPDATE ${q(t)} SET v = 'changed' WHERE id = ${base + from}; replace /* gh-ost ${q(`_${t}_gho`)} */ into ${q(`_${t}_gho`)} (id, v) values (${base + from}, 'changed'); COMMIT`,
    );
  }
}

/** gh-ost's cut-over: the sentry table, the swap, the trash dropped. */
async function ghostSwap(up: MariaDBSandbox, db: string, t: string): Promise<void> {
  const q = (x: string) => `\`${db}\`.\`${x}\``;
  await up.exec(
    `create /* gh-ost */ table ${q(`_${t}_del`)} (id int auto_increment primary key) comment='ghost-cut-over-sentry'`,
  );
  await up.exec(`drop /* gh-ost */ table if exists ${q(`_${t}_del`)}`);
  await up.exec(`rename /* gh-ost */ table ${q(t)} to ${q(`_${t}_del`)}, ${q(`_${t}_gho`)} to ${q(t)}`);
  await up.exec(`drop /* gh-ost */ table if exists ${q(`_${t}_ghc`)}`);
  await up.exec(`drop /* gh-ost */ table if exists ${q(`_${t}_del`)}`);
}

async function stop(r: RunTask): Promise<void> {
  r.child.kill('SIGTERM');
  await r.done;
}

test('gh-ost with a block-allow list that leaves the shadow tables out, SIGKILL between the ALTER and the swap: the ALTER is applied once at the swap', async () => {
  const up = await server();
  const down = await server();
  await up.exec(`CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(40));
    INSERT INTO app.t SELECT seq, CONCAT('v', seq) FROM mysql.seq_1_to_500`);
  const f = await writeTemp({ 'source.yaml': sourceYaml('src', up), 'task.yaml': '' });
  await writeFile(
    f['task.yaml'],
    taskYaml({
      name: 'ghost',
      mode: 'all',
      target: down,
      sources: ['src'],
      dir: join(f.dir, 'dump'),
      instance: 'block-allow-list: only-t',
      extra: 'block-allow-list:\n  only-t:\n    do-tables: [{db-name: app, tbl-name: t}]\n',
    }),
  );
  const statusFile = join(f.dir, 'status.json');
  let task = runTask(f['task.yaml'], [f['source.yaml']], statusFile);
  await caughtUpInFile(statusFile, [up]);
  await ghostCopy(up, 'app', 't', 'add column c int not null default 7');
  await caughtUpInFile(statusFile, [up]);
  const recorded = await rows(down, 'SELECT ghost_schema, ghost_table, ddls FROM dm_meta.ghost_onlineddl');
  assert.deepEqual(
    recorded.map((r) => [r.ghost_schema, r.ghost_table]),
    [['app', '_t_gho']],
  );
  task.child.kill('SIGKILL');
  await task.done;

  // a change gh-ost applies to both tables before the swap
  await up.exec(
    "BEGIN; INSERT INTO app.t (id, v) VALUES (1000, 'before the swap'); INSERT INTO app._t_gho (id, v) VALUES (1000, 'before the swap'); COMMIT",
  );
  await ghostSwap(up, 'app', 't');
  await up.exec("INSERT INTO app.t (id, v, c) VALUES (1001, 'after the swap', 8)");
  task = runTask(f['task.yaml'], [f['source.yaml']], statusFile);
  try {
    await caughtUpInFile(statusFile, [up]);
  } finally {
    await stop(task);
  }
  assert.deepEqual(await columns(down, 'app', 't'), ['id', 'v', 'c']);
  assert.deepEqual(await onlineTables(down), []);
  assert.deepEqual(await rows(down, 'SELECT * FROM dm_meta.ghost_onlineddl'), []);
  await assertTablesEqual(up, down, ['app.t']);
});

test('pt-online-schema-change on a 200k-row table under write load: the new column once, no _new/_old table, no trigger, data equal', async () => {
  const up = await server();
  const down = await server();
  await up.exec(`CREATE DATABASE app; CREATE TABLE app.big (id INT PRIMARY KEY, v VARCHAR(40), n INT NOT NULL DEFAULT 0);
    INSERT INTO app.big (id, v) SELECT seq, CONCAT('v', seq) FROM mysql.seq_1_to_200000`);
  const f = await writeTemp({ 'source.yaml': sourceYaml('src', up), 'task.yaml': '' });
  await writeFile(
    f['task.yaml'],
    taskYaml({ name: 'ptosc', mode: 'all', target: down, sources: ['src'], dir: join(f.dir, 'dump') }),
  );
  const statusFile = join(f.dir, 'status.json');
  const task = runTask(f['task.yaml'], [f['source.yaml']], statusFile);
  try {
    await caughtUpInFile(statusFile, [up], 180_000);
    const writing = new AbortController();
    let writes = 0;
    const load = (async () => {
      const c = await up.connect('app');
      try {
        for (let i = 0; !writing.signal.aborted; i++) {
          const id = 1 + ((i * 7919) % 200_000);
          await c.query('UPDATE big SET n = n + 1 WHERE id = ?', [id]);
          await c.query('INSERT INTO big (id, v) VALUES (?, ?) ON DUPLICATE KEY UPDATE n = n + 1', [
            300_000 + i,
            `w${i}`,
          ]);
          if (i % 10 === 0) await c.query('DELETE FROM big WHERE id = ?', [id + 1]);
          writes++;
        }
      } finally {
        await c.end();
      }
    })();
    const o = up.connectionOptions();
    await run(
      'pt-online-schema-change',
      [
        '--alter',
        'ADD COLUMN c INT NOT NULL DEFAULT 0',
        `D=app,t=big,h=${o.host},P=${o.port},u=${o.user}${o.password ? `,p=${o.password}` : ''}`,
        '--execute',
        '--recursion-method=none',
        '--chunk-size=5000',
      ],
      { timeout: 120_000 },
    );
    await new Promise((r) => setTimeout(r, 500)); // writes after the swap, with the new column
    writing.abort();
    await load;
    assert.ok(writes > 0);
    await up.exec('UPDATE app.big SET c = id % 5 WHERE id % 1000 = 0');
    await caughtUpInFile(statusFile, [up], 180_000);
  } finally {
    await stop(task);
  }
  assert.deepEqual(await columns(down, 'app', 'big'), ['id', 'v', 'n', 'c']);
  assert.deepEqual(await onlineTables(down), []);
  assert.deepEqual(await rows(down, 'SELECT TRIGGER_NAME FROM information_schema.TRIGGERS'), []);
  await assertTablesEqual(up, down, ['app.big']);
});

for (const mode of ['pessimistic', 'optimistic']) {
  test(`gh-ost on every shard of a merged table (shard-mode ${mode}), the task SIGKILLed between the ALTERs and the swaps: the merged table gets the column once, no row lost`, async () => {
    const ups = await Promise.all([server(), server()]);
    const down = await server();
    await seedShards(ups);
    const f = await writeTemp({ 's1.yaml': sourceYaml('s1', ups[0]), 's2.yaml': sourceYaml('s2', ups[1]) });
    const files = await writeTemp({ 'task.yaml': shardTask(down, f.dir, ['s1', 's2'], 'ghs', mode) });
    const statusFile = join(f.dir, 'status.json');
    const sources = [f['s1.yaml'], f['s2.yaml']];
    let task = runTask(files['task.yaml'], sources, statusFile);
    await caughtUpInFile(statusFile, ups);
    const ALTER = 'add column c int not null default 0';
    for (const [i, t, base] of SHARDS) {
      const [db, table] = t.split('.');
      await ghostCopy(ups[i], db, table, ALTER, base);
    }
    await caughtUpInFile(statusFile, ups);
    task.child.kill('SIGKILL');
    await task.done;
    task = runTask(files['task.yaml'], sources, statusFile);
    try {
      for (const [i, t, base] of SHARDS) {
        const [db, table] = t.split('.');
        await ghostSwap(ups[i], db, table);
        // this shard's rows with the new column, while later shards still swap
        await ups[i].exec(
          `INSERT INTO ${t} (id, v, c) SELECT ${base} + 1000 + seq, 'swapped', seq FROM mysql.seq_1_to_5`,
        );
      }
      await writeShards(ups, 2000, 2010, true);
      await caughtUpInFile(statusFile, ups);
    } finally {
      await stop(task);
    }
    assert.deepEqual(await columns(down, 'db_target', 't_target'), ['id', 'v', 'c']);
    assert.deepEqual(await onlineTables(down), []);
    const n = Number((await rows(down, 'SELECT COUNT(*) n FROM db_target.t_target'))[0].n);
    assert.equal(n, await totalUpstream(ups));
    const changed = Number(
      (await rows(down, "SELECT COUNT(*) n FROM db_target.t_target WHERE v = 'changed'"))[0].n,
    );
    assert.equal(changed, SHARDS.length * 5);
  });
}

test('an online schema change in flight at the start: the precheck warns naming it; the dump leaves its shadow and trash tables out', async () => {
  const up = await server();
  const down = await server();
  await up.exec(`CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(40));
    INSERT INTO app.t SELECT seq, 'v' FROM mysql.seq_1_to_100;
    CREATE TABLE app._t_gho LIKE app.t; ALTER TABLE app._t_gho ADD COLUMN c INT; CREATE TABLE app._t_ghc (id INT PRIMARY KEY)`);
  const f = await writeTemp({ 'source.yaml': sourceYaml('src', up) });
  const yaml = taskYaml({
    name: 'inflight',
    mode: 'full',
    target: down,
    sources: ['src'],
    dir: join(f.dir, 'dump'),
  });
  const checked = await checkTask(
    subTaskConfigs(parseTaskConfig(yaml.replace('task-mode: full', 'task-mode: all')), [
      parseSourceConfig(sourceYaml('src', up)),
    ]),
  );
  const item = checked.checkResult[0].results.find((i) => i.name === 'online_ddl');
  assert.equal(item?.state, 'warn');
  assert.match(
    item!.errors[0].short_error,
    /online schema change of `app`\.`t` is in flight \(shadow table `app`\.`_t_gho`\)/,
  );
  await writeFile(join(f.dir, 'task.yaml'), yaml);
  const r = await runTaskToEnd(join(f.dir, 'task.yaml'), [f['source.yaml']], 120_000);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await onlineTables(down), []);
  await assertTablesEqual(up, down, ['app.t']);
});

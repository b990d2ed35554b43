// Full migration (Dump + Load) between real MariaDB servers: every column type, awkward tables,
// 4 x 250k-row tables; SIGKILL during Load; duplicate handling; clear errors.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { server, client, MariaDBSandbox } from '../harness/index.js';
import { allTypesTable, COLUMNS, ROWS } from '../harness/all-types.js';
import { sourceYaml, taskYaml, writeTemp } from '../harness/task.js';
import { assertTablesEqual, readStatus, runTask, runTaskToEnd } from '../harness/run.js';
import { sysbenchTables } from '../../src/sandbox/workload.js';
import type { RowsEvent } from '../../src/binlog/events.js';

const BIG_ROWS = Number(process.env.DM_TEST_BIG_ROWS ?? 250_000);

let upstream: { s: MariaDBSandbox; tables: string[] } | undefined;

/** One upstream for the whole file: the awkward tables and 4 big ones. */
before(async () => {
  upstream = await fill(await new MariaDBSandbox().start());
});
after(() => upstream?.s.destroy());

async function source(): Promise<{ s: MariaDBSandbox; tables: string[] }> {
  return upstream!;
}

async function fill(s: MariaDBSandbox): Promise<{ s: MariaDBSandbox; tables: string[] }> {
  {
    await s.exec(`CREATE DATABASE types; ${allTypesTable('types', 'all')}`);
    for (const r of ROWS) await s.exec(`INSERT INTO types.all VALUES ${r}`);
    // every type LOAD DATA carries (the dump writes this table as tab-separated rows)
    const nohex = COLUMNS.map(([n]) => n).filter((n) => !['b1', 'b64', 'g', 'pt'].includes(n));
    await s.exec(`CREATE TABLE types.nohex LIKE types.all; ALTER TABLE types.nohex DROP b1, DROP b64, DROP g, DROP pt;
      INSERT INTO types.nohex SELECT ${nohex.map((n) => `\`${n}\``).join(', ')} FROM types.all`);
    await s.exec(`
      CREATE DATABASE \`odd db\` CHARACTER SET latin1;
      CREATE TABLE \`odd db\`.\`a/b.c\` (x INT, s VARCHAR(20)) CHARACTER SET latin1;
      INSERT INTO \`odd db\`.\`a/b.c\` VALUES (1, 'caf\\xe9'), (2, 'x''y\\\\z'), (3, NULL);
      CREATE TABLE \`odd db\`.nokey (a INT, b TEXT, c BLOB);
      INSERT INTO \`odd db\`.nokey VALUES (1, 'dup', x'00'), (1, 'dup', x'00'), (NULL, NULL, NULL), (2, 'line\\nbreak\\r\\0end', x'0a0d1a5c27');
      CREATE TABLE \`odd db\`.empty (id INT PRIMARY KEY);
      CREATE TABLE \`odd db\`.gen (id BIGINT UNSIGNED PRIMARY KEY, a INT, b INT AS (a * 2) VIRTUAL, c INT AS (a + 1) PERSISTENT);
      INSERT INTO \`odd db\`.gen (id, a) VALUES (18446744073709551615, 1), (0, 2), (1, NULL);
      CREATE TABLE \`odd db\`.uk (code INT NOT NULL, name VARCHAR(10) CHARACTER SET utf8mb4, UNIQUE KEY (code));
      INSERT INTO \`odd db\`.uk SELECT seq, CONCAT('😀', seq) FROM mysql.seq_1_to_30000;
      CREATE TABLE \`odd db\`.composite (a INT, b VARCHAR(10), v INT, PRIMARY KEY (a, b));
      INSERT INTO \`odd db\`.composite SELECT seq % 100, CONCAT('k', seq), seq FROM mysql.seq_1_to_25000;
      CREATE TABLE \`odd db\`.ai (id INT AUTO_INCREMENT PRIMARY KEY, v INT);
      SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'; INSERT INTO \`odd db\`.ai VALUES (0, 0), (5, 5);`);
    const big = await sysbenchTables(s, 'sb', 4, BIG_ROWS);
    const tables = [
      'types.all',
      'types.nohex',
      ...['a/b.c', 'nokey', 'empty', 'gen', 'uk', 'composite', 'ai'].map((t) => `\`odd db\`.\`${t}\``),
      ...big.map((t) => `sb.${t}`),
    ];
    return { s, tables };
  }
}

async function files(
  name: string,
  up: MariaDBSandbox,
  down: MariaDBSandbox,
  o: { loader?: string; mydumper?: string; extra?: string } = {},
) {
  const f = await writeTemp({ 'source.yaml': sourceYaml('mysql-01', up), 'task.yaml': '' });
  await writeFile(
    f['task.yaml'],
    taskYaml({ name, target: down, sources: ['mysql-01'], dir: join(f.dir, 'dump'), ...o }),
  );
  return f;
}

/** SHOW CREATE TABLE of each table (its AUTO_INCREMENT counter left out). */
async function definitions(s: MariaDBSandbox, tables: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const t of tables) {
    const [r] = (await s.exec(`SHOW CREATE TABLE ${t}`)) as Record<string, string>[];
    out.push(r['Create Table'].replace(/ AUTO_INCREMENT=\d+/, ''));
  }
  return out;
}

/** Rows written and files marked done in the target's binlog, per table (counts every import). */
async function targetWrites(
  down: MariaDBSandbox,
): Promise<{ inserted: Map<string, number>; changed: number; fileMarks: Map<string, number> }> {
  const c = client(down, { file: 'mysql-bin.000001', pos: 4 }, { nonBlocking: true });
  const inserted = new Map<string, number>();
  const fileMarks = new Map<string, number>();
  let changed = 0;
  for await (const ev of c.events()) {
    if (ev.kind !== 'rows') continue;
    const r = ev as RowsEvent;
    const name = `${r.table.schema}.${r.table.table}`;
    if (r.table.table.endsWith('_loader_checkpoint')) {
      // a file is marked imported by an update of its registered row, or (imported while the dump
      // ran) by the insert of its row as imported
      for (const row of r.action === 'delete' ? [] : r.rows) {
        const [, filename, , , offset, endPos] = row.after!;
        if (String(offset) === String(endPos) && /\.\d+\.(sql|tsv)$/.test(String(filename)))
          fileMarks.set(String(filename), (fileMarks.get(String(filename)) ?? 0) + 1);
      }
      continue;
    }
    if (r.action === 'insert') inserted.set(name, (inserted.get(name) ?? 0) + r.rows.length);
    else changed += r.rows.length;
  }
  return { inserted, changed, fileMarks };
}

test('full migration: every table equal after Dump and Load; the task finishes and cleans its dump', async () => {
  const { s: up, tables } = await source();
  const down = await server();
  const f = await files('full1', up, down);
  const r = await runTaskToEnd(f['task.yaml'], [f['source.yaml']]);
  assert.equal(r.code, 0, r.stderr);
  const st = r.status.workers[0].subTaskStatus[0];
  assert.equal(st.stage, 'Finished');
  assert.equal(st.unit, 'Load');
  assert.equal(st.result, null);
  assert.equal(st.load!.progress, '100.00 %');
  assert.equal(st.load!.finishedBytes, st.load!.totalBytes);
  assert.match(st.load!.metaBinlog, /^\(mysql-bin\.\d+, \d+\)$/);
  await assertTablesEqual(up, down, tables);
  // the big tables' secondary keys, added after their rows, are there as upstream
  assert.deepEqual(await definitions(down, tables), await definitions(up, tables));
  assert.equal(existsSync(join(f.dir, 'dump', 'full1.mysql-01')), false, 'dump files removed');
  // Generated columns recomputed by the target; AUTO_INCREMENT value 0 kept.
  const rows = (await down.exec('SELECT b, c FROM `odd db`.gen ORDER BY id')) as { b: string; c: string }[];
  assert.deepEqual(
    rows.map((x) => [x.b, x.c]),
    [
      [4, 3],
      [null, null],
      [2, 2],
    ],
  );
});

test('SIGKILL three times during Load: after restarts every table is equal and no file was imported twice', async () => {
  const { s: up, tables } = await source();
  const down = await server();
  const f = await files('kill3', up, down, {
    mydumper: 'chunk-filesize: 1\nrows: 20000',
    extra: 'clean-dump-file: false\n',
  });
  const statusFile = join(f.dir, 'status.json');
  const kills: string[] = [];
  for (const threshold of [0.15, 0.45, 0.75]) {
    const run = runTask(f['task.yaml'], [f['source.yaml']], statusFile);
    let killed = false;
    const deadline = Date.now() + 180_000;
    while (!killed) {
      if (Date.now() > deadline) {
        run.child.kill('SIGKILL');
        assert.fail(
          `load never reached ${threshold * 100} %: ${JSON.stringify(await readStatus(statusFile))}`,
        );
      }
      const st = (await readStatus(statusFile))?.workers[0].subTaskStatus[0];
      if (
        st?.load &&
        Number(st.load.finishedBytes) >= threshold * Number(st.load.totalBytes) &&
        Number(st.load.totalBytes) > 0
      ) {
        run.child.kill('SIGKILL');
        kills.push(st.load.progress);
        killed = true;
      }
      if (run.child.exitCode !== null)
        assert.fail(`run-task ended before the kill at ${threshold}: ${(await run.done).stderr}`);
      await new Promise((res) => setTimeout(res, 20));
    }
    const end = await run.done;
    assert.equal(end.signal, 'SIGKILL');
  }
  const r = await runTaskToEnd(f['task.yaml'], [f['source.yaml']]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.status.workers[0].subTaskStatus[0].stage, 'Finished');
  await assertTablesEqual(up, down, tables);
  assert.deepEqual(await definitions(down, tables), await definitions(up, tables));

  // Count what reached the target's binlog: every row inserted once, nothing replaced, and each
  // data file marked imported exactly once.
  const w = await targetWrites(down);
  assert.equal(w.changed, 0, 'no row was replaced or deleted');
  for (let i = 1; i <= 4; i++)
    assert.equal(w.inserted.get(`sb.sbtest${i}`), BIG_ROWS, `rows inserted into sb.sbtest${i}`);
  const dataFiles = (await readdir(join(f.dir, 'dump', 'kill3.mysql-01'))).filter((n) =>
    /\.\d+\.(sql|tsv)$/.test(n),
  );
  assert.equal(w.fileMarks.size, dataFiles.length, 'every data file imported');
  for (const [file, n] of w.fileMarks) assert.equal(n, 1, `${file} imported ${n} times`);
  assert.equal(kills.length, 3);
});

test('on-duplicate: error pauses Load with ExecSQL naming the file; replace and ignore are honoured', async () => {
  const up = await server();
  await up.exec(`CREATE DATABASE dup; CREATE TABLE dup.t (id INT PRIMARY KEY, v VARCHAR(10));
    INSERT INTO dup.t VALUES (1, 'up'), (2, 'up')`);
  for (const policy of ['error', 'replace', 'ignore'] as const) {
    const down = await server();
    await down.exec(
      `CREATE DATABASE dup; CREATE TABLE dup.t (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO dup.t VALUES (1, 'down')`,
    );
    const f = await files(`dup_${policy}`, up, down, { loader: `on-duplicate: ${policy}` });
    const r = await runTaskToEnd(f['task.yaml'], [f['source.yaml']]);
    const st = r.status.workers[0].subTaskStatus[0];
    const rows = (await down.exec('SELECT id, v FROM dup.t ORDER BY id')) as { id: number; v: string }[];
    if (policy === 'error') {
      assert.equal(r.code, 1);
      assert.equal(st.stage, 'Paused');
      assert.equal(st.unit, 'Load');
      assert.equal(st.result!.isCanceled, false);
      assert.equal(st.result!.errors[0].Type, 'ExecSQL');
      assert.match(
        st.result!.errors[0].msg,
        /^Error 1062: Duplicate entry '1' for key 'PRIMARY'\nfile dup\.t\.000001\.tsv$/,
      );
      assert.equal(st.load!.finishedBytes, '0');
      assert.equal(st.load!.progress, '0.00 %');
      assert.deepEqual(rows, [{ id: 1, v: 'down' }], 'the failed file left nothing behind');
    } else {
      assert.equal(r.code, 0, r.stderr);
      assert.equal(st.stage, 'Finished');
      assert.deepEqual(rows, [
        { id: 1, v: policy === 'replace' ? 'up' : 'down' },
        { id: 2, v: 'up' },
      ]);
    }
  }
});

test('SIGKILL while the dump runs and Load imports beside it: the next start empties what was imported and dumps again; a table that held rows before is left for after the dump', async () => {
  const { s: up, tables } = await source();
  const down = await server();
  // a target table that holds a row of its own before the task: never imported while the dump
  // runs (it could not be emptied), never emptied
  await up.exec(`CREATE DATABASE IF NOT EXISTS keep; CREATE TABLE keep.t (id INT PRIMARY KEY, v INT);
    INSERT INTO keep.t SELECT seq, seq FROM mysql.seq_1_to_50000`);
  await down.exec(`CREATE DATABASE keep; CREATE TABLE keep.t (id INT PRIMARY KEY, v INT);
    INSERT INTO keep.t VALUES (1000000, -1)`);
  // a big table the operator created (empty) without the upstream's secondary key: imported into
  // while the dump runs, emptied (not dropped) after the kill, and its keys stay as they were
  await down.exec(`CREATE DATABASE sb; CREATE TABLE sb.sbtest4 (id INT NOT NULL AUTO_INCREMENT, k INT NOT NULL DEFAULT 0,
    c CHAR(120) NOT NULL DEFAULT '', pad CHAR(60) NOT NULL DEFAULT '', PRIMARY KEY (id))`);
  try {
    const f = await files('killdump', up, down, {
      mydumper: 'chunk-filesize: 1\nrows: 20000\nthreads: 1',
      extra: 'clean-dump-file: false\n',
    });
    const statusFile = join(f.dir, 'status.json');
    const run = runTask(f['task.yaml'], [f['source.yaml']], statusFile);
    let imported = 0;
    const deadline = Date.now() + 120_000;
    for (;;) {
      assert.ok(Date.now() < deadline, 'Load never imported a file while the dump ran');
      if (run.child.exitCode !== null) assert.fail(`run-task ended: ${(await run.done).stderr}`);
      const st = (await readStatus(statusFile))?.workers[0].subTaskStatus[0];
      const marks = (await down
        .exec(
          "SELECT COUNT(*) n FROM dm_meta.killdump_loader_checkpoint WHERE `offset` = end_pos AND filename LIKE '%.%.%'",
        )
        .catch(() => [{ n: 0 }])) as { n: number }[];
      imported = Number(marks[0].n);
      if (st?.unit === 'Dump' && imported >= 3) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    run.child.kill('SIGKILL');
    assert.equal((await run.done).signal, 'SIGKILL');
    const r = await runTaskToEnd(f['task.yaml'], [f['source.yaml']]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.status.workers[0].subTaskStatus[0].stage, 'Finished');
    await assertTablesEqual(up, down, tables);
    const created = tables.filter((t) => t !== 'sb.sbtest4');
    assert.deepEqual(await definitions(down, created), await definitions(up, created));
    assert.doesNotMatch((await definitions(down, ['sb.sbtest4']))[0], /KEY `k_1`/);
    const keep = (await down.exec('SELECT COUNT(*) n, SUM(v) s FROM keep.t')) as { n: number; s: number }[];
    assert.deepEqual([Number(keep[0].n), Number(keep[0].s)], [50_001, (50_000 * 50_001) / 2 - 1]);
  } finally {
    await up.exec('DROP DATABASE keep');
  }
});

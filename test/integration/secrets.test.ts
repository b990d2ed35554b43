// Passwords stay secret: a cluster with debug logs runs a task whose source and target users have
// passwords, and meets wrong ones; no password appears in the logs, query-status, dmctl's answers
// and errors, get-config or config export, or the processes' command lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { server } from '../harness/index.js';
import { daemon, dmctl } from '../harness/cluster.js';
import { sourceYaml } from '../harness/task.js';

test('no password in logs, status, errors, shown configs or process titles', async () => {
  const [up, down] = await Promise.all([server(), server()]);
  const P = { up: 'Up-Secret-4f9a', down: 'Down-Secret-8c2e', wrong: 'Wrong-Secret-1b7d' };
  await up.exec(`CREATE USER 'su'@'%' IDENTIFIED BY '${P.up}'; GRANT ALL ON *.* TO 'su'@'%';
    CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY); INSERT INTO app.t VALUES (1), (2);`);
  await down.exec(`CREATE USER 'tu'@'%' IDENTIFIED BY '${P.down}'; GRANT ALL ON *.* TO 'tu'@'%';`);
  const dir = await mkdtemp(join(tmpdir(), 'dm-ts-secrets-'));
  const logs = [join(dir, 'master.log'), join(dir, 'worker.log')];
  const master = await daemon('dm-master', [
    '--name',
    'm',
    '--master-addr',
    '127.0.0.1:0',
    '--data-dir',
    join(dir, 'm'),
    '--log-level',
    'debug',
    '--log-file',
    logs[0],
  ]);
  const worker = await daemon(
    'dm-worker',
    [
      '--name',
      'w',
      '--worker-addr',
      '127.0.0.1:0',
      '--join',
      master.addr,
      '--log-level',
      'debug',
      '--log-file',
      logs[1],
    ],
    dir,
  );
  const seen: string[] = [];
  const ctl = async (...args: string[]) => {
    const r = await dmctl(master.addr, ...args);
    seen.push(r.stdout, r.stderr);
    return r;
  };
  await writeFile(join(dir, 'source.yaml'), sourceYaml('src', up, 'su', P.up));
  await writeFile(join(dir, 'bad-source.yaml'), sourceYaml('bad', up, 'su', P.wrong));
  const t = down.connectionOptions();
  const task = (name: string, pw: string) =>
    `name: ${name}\ntask-mode: all\ntarget-database: {host: "${t.host}", port: ${t.port}, user: tu, password: "${pw}"}\nmysql-instances:\n  - source-id: src\n    block-allow-list: bal\n    loader: {dir: "${join(dir, 'dump-' + name)}"}\nblock-allow-list:\n  bal: {do-dbs: [app]}\n`;
  await writeFile(join(dir, 'task.yaml'), task('sec', P.down));
  await writeFile(join(dir, 'bad-task.yaml'), task('badsec', P.wrong));

  assert.equal((await ctl('operate-source', 'create', join(dir, 'source.yaml'))).code, 0);
  assert.notEqual(
    (await ctl('operate-source', 'create', join(dir, 'bad-source.yaml'))).code,
    0,
    'a wrong password is refused',
  );
  assert.equal((await ctl('start-task', join(dir, 'task.yaml'))).code, 0);
  for (let i = 0; ; i++) {
    const q = await ctl('query-status', 'sec');
    if (/"unit": "Sync"/.test(q.stdout)) break;
    assert.ok(i < 100, q.stdout);
    await new Promise((r) => setTimeout(r, 200));
  }
  await ctl('start-task', join(dir, 'bad-task.yaml')); // the precheck refuses the wrong target password
  await ctl('query-status');
  await ctl('get-config', 'source', 'src');
  await ctl('get-config', 'task', 'sec');
  await ctl('config', 'export', '-p', join(dir, 'export'));
  seen.push(
    await readFile(join(dir, 'export', 'sources', 'src.yaml'), 'utf8'),
    await readFile(join(dir, 'export', 'tasks', 'sec.yaml'), 'utf8'),
  );
  for (const l of logs) {
    const text = await readFile(l, 'utf8');
    assert.ok(text.length > 200, `${l} was written`);
    seen.push(text);
  }
  for (const p of [master, worker])
    seen.push(await readFile(`/proc/${p.child.pid}/cmdline`, 'utf8'), p.output());
  const all = seen.join('\n');
  assert.match(all, /access denied for user 'su'/i, 'the wrong password was met and reported');
  for (const [what, pw] of Object.entries(P))
    assert.equal(all.includes(pw), false, `the ${what} password appears`);
});

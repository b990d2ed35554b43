// Authentication plugins MariaDB users meet: a user IDENTIFIED VIA ed25519 (MariaDB's plugin,
// loaded into a real server) connects and replicates: an `all` task with it as the source user
// copies and follows the upstream; a wrong password is refused as such.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { server } from '../harness/index.js';
import { sourceYaml, writeTemp } from '../harness/task.js';
import { assertTablesEqual, caughtUpInFile, runTask } from '../harness/run.js';
import { openConnection, upstreamRole } from '../../src/mysql/connect.js';

test('a user IDENTIFIED VIA ed25519 connects and replicates', async () => {
  const [up, down] = await Promise.all([server(), server()]);
  await up.exec(`INSTALL SONAME 'auth_ed25519';
    CREATE USER 'edu'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('s3cret pässword');
    GRANT SELECT, RELOAD, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'edu'@'%';
    CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v INT);
    INSERT INTO app.t SELECT seq, seq FROM mysql.seq_1_to_300;`);
  const o = up.connectionOptions();
  const c = await openConnection({ ...o, user: 'edu', password: 's3cret pässword' }, upstreamRole());
  assert.deepEqual(await c.query('SELECT CURRENT_USER() u'), [{ u: 'edu@%' }]);
  c.close();
  await assert.rejects(
    openConnection({ ...o, user: 'edu', password: 'wrong' }, upstreamRole()),
    /access denied for user 'edu'/,
  );

  const f = await writeTemp({ 'source.yaml': sourceYaml('src', up, 'edu', 's3cret pässword') });
  const t = down.connectionOptions();
  const files = await writeTemp({
    'task.yaml': `name: ed
task-mode: all
target-database: {host: "${t.host}", port: ${t.port}, user: "${t.user}", password: ""}
mysql-instances:
  - source-id: src
    block-allow-list: bal
    loader: {dir: "${join(f.dir, 'dump')}"}
block-allow-list:
  bal: {do-dbs: [app]}
`,
  });
  const statusFile = join(f.dir, 'status.json');
  const run = runTask(files['task.yaml'], [f['source.yaml']], statusFile);
  await caughtUpInFile(statusFile, [up]);
  await up.exec('UPDATE app.t SET v = -v WHERE id <= 50; INSERT INTO app.t VALUES (1000, 1)');
  await caughtUpInFile(statusFile, [up]);
  await assertTablesEqual(up, down, ['app.t']);
  run.child.kill('SIGTERM');
  await run.done;
});

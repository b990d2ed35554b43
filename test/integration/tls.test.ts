// TLS to MySQL/MariaDB (DM's `security`): a full `all` task with the relay against a TLS-only
// upstream and a TLS-only target (require_secure_transport=ON), data equal; and each failure as
// the operator meets it, against real servers: no TLS asked of a TLS-only server, another CA, a
// certificate for another name, an expired one, TLS asked of a server without it, a client
// certificate required by the user (REQUIRE X509).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { server, type MariaDBSandbox } from '../harness/index.js';
import { makeCerts } from '../harness/tls.js';
import { writeTemp } from '../harness/task.js';
import { assertTablesEqual, caughtUpInFile, runTask } from '../harness/run.js';
import { openConnection, upstreamRole } from '../../src/mysql/connect.js';
import type { TlsSpec } from '../../src/mysql/tls.js';
import type { PacketConnection } from '../../src/mysql/protocol.js';

const certs = await makeCerts();

function endpoint(s: MariaDBSandbox, tls?: Partial<TlsSpec>, user?: { user: string; password: string }) {
  return {
    ...s.connectionOptions(),
    ...user,
    ...(tls ? { tls: { verifyServerCert: true, where: 'from.security', ...tls } } : {}),
  };
}

async function cipher(c: PacketConnection): Promise<string> {
  return (await c.query("SHOW SESSION STATUS LIKE 'Ssl_cipher'"))[0].Value ?? '';
}

const TCPDUMP = ['/usr/bin/tcpdump', '/usr/sbin/tcpdump'].find(existsSync);

test('TLS-only upstream and target: dump, load, relay and sync over TLS, data equal; the loopback capture holds no row value or password', async () => {
  const [up, down] = await Promise.all([
    server({ tls: { ca: certs.ca, ...certs.server } }),
    server({ tls: { ca: certs.ca, ...certs.server } }),
  ]);
  const PASSWORD = 'Pw-never-in-clear-7q';
  await up.exec(`CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY, v VARCHAR(40));
    INSERT INTO shop.t SELECT seq, CONCAT('secret-', seq) FROM mysql.seq_1_to_2000;
    CREATE USER 'tlsu'@'%' IDENTIFIED BY '${PASSWORD}';
    GRANT SELECT, RELOAD, REPLICATION SLAVE, REPLICATION CLIENT, SHOW VIEW, PROCESS ON *.* TO 'tlsu'@'%';`);
  await down.exec(`CREATE USER 'tlsd'@'%' IDENTIFIED BY '${PASSWORD}'; GRANT ALL ON *.* TO 'tlsd'@'%';`);
  const [u, d] = [up.connectionOptions(), down.connectionOptions()];
  const f = await writeTemp({
    'source.yaml': `source-id: tls-src\nenable-gtid: true\nenable-relay: true\nrelay-dir: RELAY\nfrom:\n  host: "${u.host}"\n  port: ${u.port}\n  user: tlsu\n  password: "${PASSWORD}"\n  security:\n    ssl-ca: "${certs.ca}"\n`,
  });
  await writeFile(
    f['source.yaml'],
    (await readFile(f['source.yaml'], 'utf8')).replace('RELAY', join(f.dir, 'relay')),
  );
  const files = await writeTemp({
    'task.yaml': `name: tlstask
task-mode: all
target-database:
  host: "${d.host}"
  port: ${d.port}
  user: tlsd
  password: "${PASSWORD}"
  security: {ssl-ca-bytes: ${JSON.stringify(await readFile(certs.ca, 'utf8'))}}
mysql-instances:
  - source-id: tls-src
    block-allow-list: bal
    loader: {dir: "${join(f.dir, 'dump')}"}
block-allow-list:
  bal: {do-dbs: [shop]}
`,
  });
  // everything the task's connections carry on the loopback, captured
  const cap = join(f.dir, 'lo.pcap');
  const capture = TCPDUMP
    ? spawn(TCPDUMP, ['-i', 'lo', '-U', '-w', cap, `tcp port ${u.port} or tcp port ${d.port}`], {
        stdio: 'ignore',
      })
    : undefined;
  if (capture) await new Promise((res) => setTimeout(res, 1500));
  const statusFile = join(f.dir, 'status.json');
  const run = runTask(files['task.yaml'], [f['source.yaml']], statusFile);
  await caughtUpInFile(statusFile, [up]);
  await up.exec(
    "UPDATE shop.t SET v = 'secret-changed' WHERE id <= 100; INSERT INTO shop.t VALUES (5000, 'secret-new')",
  );
  const sts = await caughtUpInFile(statusFile, [up]);
  assert.equal(
    (sts[0].sync as { binlogType?: string }).binlogType,
    'local',
    'Sync read the relay, which read the upstream over TLS',
  );
  await assertTablesEqual(up, down, ['shop.t']);
  run.child.kill('SIGTERM');
  await run.done;
  if (!capture) {
    console.log('# tcpdump is not installed: the capture check is skipped (scripts/setup.sh installs it)');
    return;
  }
  capture.kill('SIGINT');
  await new Promise((res) => capture.once('exit', res));
  const bytes = await readFile(cap);
  assert.ok(bytes.length > 50_000, `the capture holds the task's traffic (${bytes.length} bytes)`);
  assert.equal(bytes.includes('secret-'), false, 'no row value in clear');
  assert.equal(bytes.includes(PASSWORD), false, 'no password in clear');
  assert.equal(bytes.includes('shop'), false, 'not even a schema name');
});

test('TLS failures are errors naming the key to fix; never plaintext when TLS was asked', async () => {
  const oddCert = join(certs.dir, 'odd.pem');
  const oddKey = join(certs.dir, 'odd.key');
  await copyFile(certs.wrongName.cert, oddCert);
  await copyFile(certs.wrongName.key, oddKey);
  const [tlsOnly, odd, plain] = await Promise.all([
    server({ tls: { ca: certs.ca, ...certs.server } }),
    server({ tls: { ca: certs.ca, cert: oddCert, key: oddKey } }),
    server(),
  ]);
  const open = (ep: ReturnType<typeof endpoint>) => openConnection(ep, upstreamRole());

  // the right CA: encrypted
  const ok = await open(endpoint(tlsOnly, { caFile: certs.ca }));
  assert.notEqual(await cipher(ok), '', 'the session is encrypted');
  ok.close();
  // no TLS asked of a TLS-only server: the server's refusal, with where to set it
  await assert.rejects(open(endpoint(tlsOnly)), (e: Error) => {
    assert.match(e.message, /Access denied|insecure transport/i);
    assert.match(
      String((e as { workaround?: string }).workaround),
      /The server offers TLS and this connection does not use it.*set security \(ssl-ca …\) in 'from'/,
    );
    return true;
  });
  // another CA
  await assert.rejects(open(endpoint(tlsOnly, { caFile: certs.otherCa })), (e: Error) => {
    assert.match(e.message, /TLS to 127\.0\.0\.1:\d+: the server's certificate cannot be verified/);
    assert.match(String((e as { workaround?: string }).workaround), /Set 'from\.security\.ssl-ca' to the CA/);
    return true;
  });
  // a certificate for another name; the explicit opt-out connects
  await assert.rejects(open(endpoint(odd, { caFile: certs.ca })), (e: Error) => {
    assert.match(e.message, /the server's certificate is not for '127\.0\.0\.1'/);
    assert.match(String((e as { workaround?: string }).workaround), /ssl-verify-server-cert: false/);
    return true;
  });
  const optOut = await open(endpoint(odd, { caFile: certs.ca, verifyServerCert: false }));
  assert.notEqual(await cipher(optOut), '');
  optOut.close();
  // an expired certificate (swapped in with FLUSH SSL)
  await copyFile(certs.expired.cert, oddCert);
  await copyFile(certs.expired.key, oddKey);
  await odd.exec('FLUSH SSL');
  await assert.rejects(open(endpoint(odd, { caFile: certs.ca })), /the server's certificate has expired/);
  // TLS asked of a server without it
  await assert.rejects(
    open(endpoint(plain, { caFile: certs.ca })),
    /does not offer TLS, which 'from\.security' asks for/,
  );
  // a file that cannot be read names the key
  await assert.rejects(
    open(endpoint(tlsOnly, { caFile: join(certs.dir, 'nope.pem') })),
    /cannot read 'from\.security\.ssl-ca'/,
  );
  // a user that requires a client certificate
  await tlsOnly.exec(
    "CREATE USER 'x509u'@'%' IDENTIFIED BY 'pw' REQUIRE X509; GRANT SELECT ON *.* TO 'x509u'@'%'",
  );
  const x509 = { user: 'x509u', password: 'pw' };
  await assert.rejects(open(endpoint(tlsOnly, { caFile: certs.ca }, x509)), /Access denied/);
  const withCert = await open(
    endpoint(tlsOnly, { caFile: certs.ca, certFile: certs.client.cert, keyFile: certs.client.key }, x509),
  );
  assert.notEqual(await cipher(withCert), '');
  withCert.close();
});

// Authentication plugins MariaDB users meet: a user IDENTIFIED VIA ed25519 (MariaDB's plugin,
// loaded into a real server) connects and replicates: an `all` task with it as the source user
// copies and follows the upstream; a wrong password is refused as such. caching_sha2_password's
// full authentication over TLS against a MySQL 8 stand-in (Debian has no MySQL server).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { server } from '../harness/index.js';
import { schemaTask, sourceYaml, writeTemp } from '../harness/task.js';
import { assertTablesEqual, caughtUpInFile, runTask } from '../harness/run.js';
import { openConnection, upstreamRole } from '../../src/mysql/connect.js';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { makeCerts } from '../harness/tls.js';

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
  const files = await writeTemp({
    'task.yaml': schemaTask({ name: 'ed', target: down, dir: f.dir, dbs: ['app'] }),
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

/** A MySQL 8 stand-in that speaks just the handshake: it offers TLS and caching_sha2_password, and
 * after the upgrade asks for full authentication, recording what the client sent. */
async function fakeMysql8(certs: { cert: string; key: string }, password: string) {
  const seen: { ssl?: boolean; full?: string } = {};
  const packet = (seq: number, payload: Buffer) => {
    const h = Buffer.alloc(4);
    h.writeUIntLE(payload.length, 0, 3);
    h[3] = seq;
    return Buffer.concat([h, payload]);
  };
  /** Reads whole packets; `rest()` gives back the bytes after the last one read. */
  const reader = (s: NodeJS.ReadableStream) => {
    let buf = Buffer.alloc(0);
    let waiting: ((p: Buffer) => void) | undefined;
    const pump = () => {
      if (!waiting || buf.length < 4 || buf.length < 4 + buf.readUIntLE(0, 3)) return;
      const n = buf.readUIntLE(0, 3);
      const p = buf.subarray(4, 4 + n);
      buf = buf.subarray(4 + n);
      const w = waiting;
      waiting = undefined;
      w(p);
    };
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      pump();
    };
    s.on('data', onData);
    const read = () =>
      new Promise<Buffer>((r) => {
        waiting = r;
        pump();
      });
    const rest = () => {
      s.removeListener('data', onData);
      return buf;
    };
    return { read, rest };
  };
  const srv = net.createServer(async (sock) => {
    const scramble = Buffer.alloc(20, 7);
    const caps = 0x200 | 0x800 | 0x8000 | 0x80000 | 0x200000 | 0x1 | 0x4 | 0x2000 | 0x10000 | 0x20000;
    const greeting = Buffer.concat([
      Buffer.of(10),
      Buffer.from('8.0.36-fake\0'),
      Buffer.alloc(4, 1),
      scramble.subarray(0, 8),
      Buffer.of(0),
      Buffer.from([caps & 0xff, (caps >> 8) & 0xff]),
      Buffer.of(45),
      Buffer.from([2, 0]),
      Buffer.from([(caps >> 16) & 0xff, (caps >> 24) & 0xff]),
      Buffer.of(21),
      Buffer.alloc(10),
      scramble.subarray(8),
      Buffer.of(0),
      Buffer.from('caching_sha2_password\0'),
    ]);
    sock.write(packet(0, greeting));
    const plain = reader(sock);
    const sslRequest = await plain.read();
    seen.ssl = (sslRequest.readUInt32LE(0) & 0x800) !== 0 && sslRequest.length === 32;
    sock.pause();
    const early = plain.rest(); // the ClientHello may have come with the SSL request
    if (early.length) sock.unshift(early);
    const tlsSock = new tls.TLSSocket(sock, {
      isServer: true,
      cert: readFileSync(certs.cert),
      key: readFileSync(certs.key),
    });
    const { read } = reader(tlsSock);
    await read(); // the handshake response (scrambled with the fast-auth hash)
    tlsSock.write(packet(3, Buffer.of(0x01, 0x04))); // perform full authentication
    const full = await read();
    seen.full = full.toString('utf8');
    tlsSock.write(
      full.toString('utf8') === password + '\0'
        ? packet(5, Buffer.from([0, 0, 0, 2, 0, 0, 0]))
        : packet(5, Buffer.concat([Buffer.from([0xff, 0x15, 0x04]), Buffer.from('#28000Access denied')])),
    );
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { port: (srv.address() as net.AddressInfo).port, seen, close: () => srv.close() };
}

test('caching_sha2_password full authentication over TLS sends the password on the encrypted channel, not RSA', async () => {
  const certs = await makeCerts();
  const fake = await fakeMysql8(certs.server, 'sha2 secret');
  try {
    const c = await openConnection(
      {
        host: '127.0.0.1',
        port: fake.port,
        user: 'u',
        password: 'sha2 secret',
        tls: { caFile: certs.ca, verifyServerCert: true, where: 'from.security' },
      },
      upstreamRole(),
    );
    assert.equal(c.encrypted, true);
    assert.deepEqual(fake.seen, { ssl: true, full: 'sha2 secret\0' });
    c.close();
  } finally {
    fake.close();
  }
});

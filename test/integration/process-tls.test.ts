// Mutual TLS between dm-master, dm-worker and dmctl (DM's ssl-ca, ssl-cert, ssl-key,
// cert-allowed-cn), real processes: dmctl with its certificate works, without one it is refused
// (and told why), a certificate whose common name is not allowed is refused by name; a worker with
// such a certificate cannot join; the dashboard and DM's OpenAPI answer over HTTPS only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { daemon, dmctl } from '../harness/cluster.js';
import { makeCerts } from '../harness/tls.js';

function https(
  addr: string,
  path: string,
  tls: { ca: string; cert: string; key: string },
): Promise<{ status: number; body: string }> {
  const [host, port] = addr.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), path, ...tls }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('mutual TLS: dmctl and workers need a certificate the CA signed, with an allowed common name', async () => {
  const certs = await makeCerts();
  const [m, w, ctl, rogue] = await Promise.all([
    certs.leaf('master', 'dm-master'),
    certs.leaf('worker', 'dm-worker'),
    certs.leaf('dmctl', 'dmctl'),
    certs.leaf('rogue', 'rogue'),
  ]);
  const dir = await mkdtemp(join(tmpdir(), 'dm-ts-ptls-'));
  const tlsArgs = (c: { cert: string; key: string }, allowed: string) => [
    '--ssl-ca',
    certs.ca,
    '--ssl-cert',
    c.cert,
    '--ssl-key',
    c.key,
    '--cert-allowed-cn',
    allowed,
  ];
  const master = await daemon('dm-master', [
    '--name',
    'm',
    '--master-addr',
    '127.0.0.1:0',
    '--data-dir',
    join(dir, 'm'),
    ...tlsArgs(m, 'dm-master,dm-worker,dmctl'),
  ]);
  await daemon(
    'dm-worker',
    ['--name', 'w1', '--worker-addr', '127.0.0.1:0', '--join', master.addr, ...tlsArgs(w, 'dm-master')],
    dir,
  );

  const ctlTls = ['--ssl-ca', certs.ca, '--ssl-cert', ctl.cert, '--ssl-key', ctl.key];
  // with its certificate: works, and sees the worker (which joined over TLS)
  for (let i = 0; ; i++) {
    const r = await dmctl(master.addr, ...ctlTls, 'list-member', '--worker');
    assert.equal(r.code, 0, r.stderr);
    if (JSON.stringify(r.json).includes('"w1"')) break;
    assert.ok(i < 50, r.stdout);
    await new Promise((res) => setTimeout(res, 200));
  }
  // without a certificate: refused, and told what to give
  const plain = await dmctl(master.addr, '--rpc-timeout', '3s', 'list-member');
  assert.notEqual(plain.code, 0);
  assert.match(
    plain.stderr,
    /cannot reach 127\.0\.0\.1:\d+: .*\(if it serves TLS, give this process ssl-ca, ssl-cert and ssl-key\)/,
  );
  // a certificate of the right CA with a common name not allowed: refused by name
  const bad = await dmctl(
    master.addr,
    '--ssl-ca',
    certs.ca,
    '--ssl-cert',
    rogue.cert,
    '--ssl-key',
    rogue.key,
    'list-member',
  );
  assert.notEqual(bad.code, 0);
  assert.match(
    bad.stdout + bad.stderr,
    /common name 'rogue' is not in cert-allowed-cn \(dm-master, dm-worker, dmctl\)/,
  );
  // a worker with such a certificate cannot join
  const w2 = await daemon(
    'dm-worker',
    ['--name', 'w2', '--worker-addr', '127.0.0.1:0', '--join', master.addr, ...tlsArgs(rogue, 'dm-master')],
    dir,
  );
  await new Promise((res) => setTimeout(res, 3000));
  const members = await dmctl(master.addr, ...ctlTls, 'list-member', '--worker');
  assert.ok(!JSON.stringify(members.json).includes('"w2"'), 'w2 is not a member');
  assert.match(w2.output(), /common name 'rogue' is not in cert-allowed-cn/);
  await w2.kill();
  // the dashboard and DM's OpenAPI over HTTPS with a client certificate, not over HTTP
  const page = await https(master.addr, '/dashboard/', {
    ca: await readFile(certs.ca, 'utf8'),
    cert: await readFile(ctl.cert, 'utf8'),
    key: await readFile(ctl.key, 'utf8'),
  });
  assert.equal(page.status, 200);
  const api = await https(master.addr, '/api/v1/cluster/workers', {
    ca: await readFile(certs.ca, 'utf8'),
    cert: await readFile(ctl.cert, 'utf8'),
    key: await readFile(ctl.key, 'utf8'),
  });
  assert.equal(JSON.parse(api.body).data[0].name, 'w1');
  await assert.rejects(fetch(`http://${master.addr}/dashboard/`));
});

test('TLS keys: all three files or an error naming what is missing; several masters with TLS refused', async () => {
  const certs = await makeCerts();
  const dir = await mkdtemp(join(tmpdir(), 'dm-ts-ptls-'));
  await assert.rejects(
    daemon('dm-master', [
      '--name',
      'm',
      '--master-addr',
      '127.0.0.1:0',
      '--data-dir',
      join(dir, 'm'),
      '--ssl-ca',
      certs.ca,
    ]),
    /dm-master: ssl-ca without ssl-cert, ssl-key/,
  );
  await assert.rejects(
    daemon('dm-master', [
      '--name',
      'm',
      '--master-addr',
      '127.0.0.1:0',
      '--data-dir',
      join(dir, 'm'),
      '--ssl-ca',
      certs.ca,
      '--ssl-cert',
      certs.server.cert,
      '--ssl-key',
      certs.server.key,
      '--initial-cluster',
      'm=http://127.0.0.1:18291,n=http://127.0.0.1:18292',
    ]),
    /TLS with several masters is not supported yet/,
  );
});

// Mutual TLS between dm-master, dm-worker and dmctl (DM's ssl-ca, ssl-cert, ssl-key,
// cert-allowed-cn), real processes: dmctl with its certificate works, without one it is refused
// (and told why), a certificate whose common name is not allowed is refused by name; a worker with
// such a certificate cannot join; the dashboard and DM's OpenAPI answer over HTTPS only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { request, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { daemon, dmctl } from '../harness/cluster.js';
import { makeCerts } from '../harness/tls.js';
import { freePort } from '../../src/master/etcd-member.js';

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

test('TLS keys: all three files or an error naming what is missing; ssl-* with --etcd-endpoints refused', async () => {
  const certs = await makeCerts();
  const dir = await mkdtemp(join(tmpdir(), 'dm-ts-ptls-'));
  /** A master that must refuse to start with these flags. */
  const refused = (flags: string[], why: RegExp) =>
    assert.rejects(
      daemon('dm-master', [
        '--name',
        'm',
        '--master-addr',
        '127.0.0.1:0',
        '--data-dir',
        join(dir, 'm'),
        ...flags,
      ]),
      why,
    );
  await refused(['--ssl-ca', certs.ca], /dm-master: ssl-ca without ssl-cert, ssl-key/);
  const tls = ['--ssl-ca', certs.ca, '--ssl-cert', certs.server.cert, '--ssl-key', certs.server.key];
  await refused(
    [...tls, '--etcd-endpoints', '127.0.0.1:2379'],
    /ssl-\* with --etcd-endpoints is not supported/,
  );
  await refused(
    [...tls, '--peer-urls', 'http://127.0.0.1:18299'],
    /--peer-urls 'http:\/\/127\.0\.0\.1:18299' must be https:\/\/host:port \(the masters use TLS/,
  );
});

test('three masters with TLS: etcd members talk TLS with certificates; a SIGKILLed leader is replaced', async () => {
  const certs = await makeCerts();
  const dir = await mkdtemp(join(tmpdir(), 'dm-ts-ptls-ha-'));
  const ms: { name: string; http: number; peer: number; cert: { cert: string; key: string } }[] = [];
  for (const name of ['m1', 'm2', 'm3'])
    ms.push({
      name,
      http: await freePort(),
      peer: await freePort(),
      cert: await certs.leaf(name, 'dm-master'),
    });
  const initial = ms.map((m) => `${m.name}=https://127.0.0.1:${m.peer}`).join(',');
  const procs = await Promise.all(
    ms.map((m) =>
      daemon(
        'dm-master',
        [
          '--name',
          m.name,
          '--master-addr',
          `127.0.0.1:${m.http}`,
          '--peer-urls',
          `https://127.0.0.1:${m.peer}`,
          '--data-dir',
          join(dir, m.name),
          '--log-file',
          join(dir, `${m.name}.log`),
          '--election-ttl',
          '3',
          '--initial-cluster',
          initial,
          '--ssl-ca',
          certs.ca,
          '--ssl-cert',
          m.cert.cert,
          '--ssl-key',
          m.cert.key,
          '--cert-allowed-cn',
          'dm-master,dmctl',
        ],
        dir,
      ),
    ),
  );
  const ctl = await certs.leaf('ctl-ha', 'dmctl');
  const all = ms.map((m) => `127.0.0.1:${m.http}`).join(',');
  const ctlTls = ['--ssl-ca', certs.ca, '--ssl-cert', ctl.cert, '--ssl-key', ctl.key];
  const leader = async () => {
    const r = await dmctl(all, ...ctlTls, 'list-member', '--leader');
    return (r.json.members as Array<{ leader: { name: string } }> | undefined)?.[0]?.leader.name;
  };
  const until = async <T>(f: () => Promise<T | undefined>) => {
    for (let i = 0; i < 150; i++) {
      const v = await f().catch(() => undefined);
      if (v) return v;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error('timed out');
  };
  const first = await until(leader);
  const masters = await dmctl(all, ...ctlTls, 'list-member', '--master');
  assert.equal((JSON.stringify(masters.json).match(/"alive": ?true/g) ?? []).length, 3, masters.stdout);
  // a member's client port: no plaintext, no client without a certificate
  const port = (m: (typeof ms)[number]) => m.http + 10000;
  await assert.rejects(
    fetch(`http://127.0.0.1:${port(ms[0])}/v3/kv/range`, { method: 'POST', body: '{"key":"AA=="}' }),
  );
  const noCert = await new Promise<string>((resolve) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port: port(ms[0]),
        path: '/v3/kv/range',
        method: 'POST',
        ca: readFileSync(certs.ca),
      },
      (res) => resolve(String(res.statusCode)),
    );
    req.on('error', (e) => resolve(`error: ${e.message}`));
    req.end('{"key":"AA=="}');
  });
  assert.match(noCert, /^error:/, 'a client without a certificate is refused by the member');
  // the leader dies: another master leads, over the same TLS
  await procs[ms.findIndex((m) => m.name === first)].kill('SIGKILL');
  const next = await until(async () => {
    const l = await leader();
    return l && l !== first ? l : undefined;
  });
  assert.notEqual(next, first);
});

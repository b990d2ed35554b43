// A dm-master's cluster flags → its etcd member's settings (pure): DM's defaults, every mismatch
// an error naming the flag; the --initial-cluster of a joining master; etcd's command line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clusterPlan,
  joinedCluster,
  parseInitialCluster,
  refuseClusterFlags,
} from '../../src/master/cluster-plan.js';
import { memberArgs } from '../../src/master/etcd-member.js';

const flags = (o: Record<string, string | number> = {}) => ({
  name: 'm1',
  masterPort: 8261,
  'peer-urls': '',
  'advertise-peer-urls': '',
  'initial-cluster': '',
  'initial-cluster-state': '',
  ...o,
});
const free = { peer: 40001, client: 40002 };

test("DM's defaults: peer port = master port + 30, one member named after the master", () => {
  assert.deepEqual(clusterPlan(flags(), free), {
    peerUrls: 'http://127.0.0.1:8291',
    advertisePeerUrls: 'http://127.0.0.1:8291',
    initialCluster: 'm1=http://127.0.0.1:8291',
    initialClusterState: 'new',
    clientAddr: '127.0.0.1:18261',
  });
  // --master-addr :0 (tests): free ports
  const p = clusterPlan(flags({ masterPort: 0 }), free);
  assert.equal(p.peerUrls, 'http://127.0.0.1:40001');
  assert.equal(p.clientAddr, '127.0.0.1:40002');
  // DM's three masters on one host: 8291, 8292, 8293 do not meet the client ports
  const three = 'm1=http://127.0.0.1:8291,m2=http://127.0.0.1:8292,m3=http://127.0.0.1:8293';
  const m2 = clusterPlan(
    flags({ name: 'm2', masterPort: 8361, 'peer-urls': 'http://127.0.0.1:8292', 'initial-cluster': three }),
    free,
  );
  assert.equal(m2.clientAddr, '127.0.0.1:18361');
  assert.equal(
    clusterPlan(flags({ 'etcd-client-addr': '127.0.0.1:2379' }), free).clientAddr,
    '127.0.0.1:2379',
  );
});

test('cluster flags that do not fit are errors naming the flag and the fix', () => {
  const bad = (o: Record<string, string>, re: RegExp) =>
    assert.throws(
      () => clusterPlan(flags(o), free),
      (e: Error) => re.test(e.message) && /code=38037/.test(String(e)),
    );
  bad(
    { 'initial-cluster': 'm2=http://127.0.0.1:8291' },
    /has no entry for this master \(--name m1\); add m1=http:\/\/127\.0\.0\.1:8291/,
  );
  bad(
    { 'initial-cluster': 'm1=http://127.0.0.1:9999' },
    /gives m1=http:\/\/127\.0\.0\.1:9999, but its --advertise-peer-urls is http:\/\/127\.0\.0\.1:8291/,
  );
  bad({ 'initial-cluster': 'm1=http://127.0.0.1:8291,m1=http://127.0.0.1:8292' }, /names master 'm1' twice/);
  bad({ 'initial-cluster': 'm1' }, /entry 'm1' is not name=http:\/\/host:port/);
  bad(
    { 'peer-urls': 'https://127.0.0.1:8291' },
    /--peer-urls 'https:\/\/127\.0\.0\.1:8291' must be http:\/\/host:port/,
  );
  bad({ 'peer-urls': 'nonsense' }, /--peer-urls 'nonsense' is not a URL/);
  bad({ 'advertise-peer-urls': 'http://0.0.0.0:8291' }, /cannot be 0\.0\.0\.0/);
  bad({ 'initial-cluster-state': 'old' }, /--initial-cluster-state is 'old'; use new or existing/);
  assert.deepEqual(parseInitialCluster('a=http://h:1, b=http://h:2'), [
    ['a', 'http://h:1'],
    ['b', 'http://h:2'],
  ]);
});

test('a joining master starts with every named member and itself; etcd gets the flags', () => {
  assert.equal(
    joinedCluster(
      [
        { name: 'm1', peerURLs: ['http://h:1'] },
        { name: '', peerURLs: ['http://h:3'] },
        { name: 'm2', peerURLs: ['http://h:2'] },
      ],
      'm3',
      'http://h:3',
    ),
    'm1=http://h:1,m2=http://h:2,m3=http://h:3',
  );
  const args = memberArgs({
    name: 'm1',
    dataDir: '/d',
    clientAddr: '127.0.0.1:18261',
    peerUrls: 'http://127.0.0.1:8291',
    advertisePeerUrls: 'http://127.0.0.1:8291',
    initialCluster: 'm1=http://127.0.0.1:8291',
    initialClusterState: 'new',
    tuning: { 'auto-compaction-retention': '1h' },
  });
  for (const a of [
    '--name=m1',
    '--data-dir=/d/etcd',
    '--listen-client-urls=http://127.0.0.1:18261',
    '--initial-cluster-state=new',
    '--auto-compaction-retention=1h',
  ])
    assert.ok(args.includes(a), a);
});

test('cluster flags that would do nothing, or cannot be used, are refused naming them', () => {
  const refused = (flags: Record<string, string | number>, re: RegExp) =>
    assert.throws(
      () => refuseClusterFlags(flags),
      (e: Error) => re.test(e.message) && /code=38037/.test(String(e)),
    );
  refused(
    { 'etcd-endpoints': '127.0.0.1:2379', 'peer-urls': 'http://127.0.0.1:8291', 'max-txn-ops': 2048 },
    /--etcd-endpoints uses an existing etcd cluster, so --peer-urls, --max-txn-ops .* would do nothing: remove them, or remove --etcd-endpoints/,
  );
  refused(
    { join: '127.0.0.1:8261', 'initial-cluster': 'm1=http://127.0.0.1:8291' },
    /--join takes the cluster from the running masters, so --initial-cluster/,
  );
  refused({ 'election-ttl': 0.5 }, /--election-ttl is '0\.5'; give whole seconds, at least 1/);
  refused({ 'election-ttl': Number('x') }, /--election-ttl is 'NaN'/);
  refuseClusterFlags({ 'etcd-endpoints': '127.0.0.1:2379', 'election-ttl': 5, 'quota-backend-bytes': 0 });
  refuseClusterFlags({ join: '127.0.0.1:8261', 'peer-urls': 'http://127.0.0.1:8291' });
});

test('with TLS the peer URLs are https:// (the default too); http:// is refused, and https:// without TLS', () => {
  const f = {
    name: 'm1',
    masterPort: 8261,
    'peer-urls': '',
    'advertise-peer-urls': '',
    'initial-cluster': '',
    'initial-cluster-state': '',
  };
  const p = clusterPlan({ ...f, tls: true }, { peer: 1, client: 2 });
  assert.equal(p.peerUrls, 'https://127.0.0.1:8291');
  assert.equal(p.initialCluster, 'm1=https://127.0.0.1:8291');
  assert.throws(
    () => clusterPlan({ ...f, tls: true, 'peer-urls': 'http://127.0.0.1:8291' }, { peer: 1, client: 2 }),
    /must be https:\/\/host:port \(the masters use TLS/,
  );
  assert.throws(
    () => clusterPlan({ ...f, 'peer-urls': 'https://127.0.0.1:8291' }, { peer: 1, client: 2 }),
    /https:\/\/ peer URLs need ssl-ca, ssl-cert and ssl-key/,
  );
});

test('the member command line with TLS: client and peer URLs and certificates, client certificates required', () => {
  const args = memberArgs({
    name: 'm1',
    dataDir: '/d',
    clientAddr: '127.0.0.1:18261',
    peerUrls: 'https://127.0.0.1:8291',
    advertisePeerUrls: 'https://127.0.0.1:8291',
    initialCluster: 'm1=https://127.0.0.1:8291',
    initialClusterState: 'new',
    tuning: {},
    tls: { ca: '/ca.pem', cert: '/c.pem', key: '/k.pem' },
  });
  for (const a of [
    '--listen-client-urls=https://127.0.0.1:18261',
    '--client-cert-auth',
    '--peer-client-cert-auth',
    '--trusted-ca-file=/ca.pem',
    '--peer-cert-file=/c.pem',
    '--key-file=/k.pem',
  ])
    assert.ok(args.includes(a), a);
});

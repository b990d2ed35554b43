// Master high availability on real processes: three dm-masters, each with its etcd member, two
// upstreams, an `all` task under write load. The leader is SIGKILLed: another leads within
// seconds, dmctl given every address keeps answering, replication goes on and the data is equal.
// The killed master rejoins as a follower; operate-leader evict moves the leadership; a worker
// killed while the leader is replaced has its source moved to the free worker; a leader whose
// etcd member is frozen steps down; offline-member removes a dead master. And the bad inputs of
// the cluster flags are each a clear error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { masterStatus, server } from '../harness/index.js';
import { sourceYaml, taskYaml, writeTemp } from '../harness/task.js';
import { reached } from '../harness/relay.js';
import { daemon, dmctl, type Proc } from '../harness/cluster.js';
import { assertTablesEqual } from '../harness/run.js';
import { oltpWriteOnly, sysbenchTables } from '../../src/sandbox/workload.js';
import { freePort } from '../../src/master/etcd-member.js';
import { ALTER, rows, seedShards, shardTask, totalUpstream, writeShards } from '../harness/shards.js';
import type { QueryStatus } from '../../src/task/status.js';

interface M {
  name: string;
  http: number;
  peer: number;
  proc?: Proc;
}

async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  let last: unknown;
  for (const deadline = Date.now() + ms; Date.now() < deadline;) {
    try {
      const v = await f();
      if (v) return v;
      last = v;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${what}: not within ${ms} ms (last: ${JSON.stringify(last)})`);
}

/** The PID of the etcd member whose data is in `dir` (its command line names it). */
function etcdPid(dir: string): number {
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      if (cmd[0].endsWith('etcd') && cmd.includes(`--data-dir=${join(dir, 'etcd')}`)) return Number(p);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no etcd with data in ${dir}`);
}

/** A dm-master's command line: its ports, its data and log in `dir`, a 3 s election lease. */
function masterArgs(m: M, dir: string, extra: string[]): string[] {
  return [
    ...[
      '--name',
      m.name,
      '--master-addr',
      `127.0.0.1:${m.http}`,
      '--peer-urls',
      `http://127.0.0.1:${m.peer}`,
    ],
    ...['--data-dir', join(dir, m.name), '--log-file', join(dir, `${m.name}.log`), '--election-ttl', '3'],
    ...extra,
  ];
}

/** Three dm-masters, each with its etcd member, started together. */
async function startCluster(dir: string) {
  const ms: M[] = [];
  for (const name of ['m1', 'm2', 'm3']) ms.push({ name, http: await freePort(), peer: await freePort() });
  const initial = ms.map((m) => `${m.name}=http://127.0.0.1:${m.peer}`).join(',');
  const args = (m: M) => masterArgs(m, dir, ['--initial-cluster', initial]);
  const start = async (m: M) => (m.proc = await daemon('dm-master', args(m), dir));
  await Promise.all(ms.map(start));
  const all = ms.map((m) => `127.0.0.1:${m.http}`).join(',');
  const ctl = async (...a: string[]) => {
    const r = await dmctl(all, ...a);
    assert.equal(r.code, 0, `${a.join(' ')}: ${r.stdout}${r.stderr}`);
    return r;
  };
  const leader = async () =>
    ((await dmctl(all, 'list-member', '--leader')).json.members as Array<{ leader: { name: string } }>)[0]
      .leader.name;
  /** SIGKILLs the leader; resolves with the new one and the time it took. */
  const killLeader = async () => {
    const first = await leader();
    const at = Date.now();
    await ms.find((m) => m.name === first)!.proc!.kill('SIGKILL');
    const next = await until('a new leader', async () => {
      const l = await leader().catch(() => undefined);
      return l && l !== first && l;
    });
    return { first, next, ms: Date.now() - at };
  };
  const worker = (name: string) =>
    daemon(
      'dm-worker',
      ['--name', name, '--worker-addr', '127.0.0.1:0', '--join', all, '--keepalive-ttl', '10'],
      dir,
    );
  return { ms, all, ctl, leader, killLeader, start, worker };
}

test('three masters on etcd: the leader dies, another leads, replication goes on; rejoin, evict, worker failover, freeze, offline-member', async () => {
  const [up1, up2, down] = await Promise.all([server(), server(), server()]);
  await Promise.all([sysbenchTables(up1, 'sb1', 2, 2000), sysbenchTables(up2, 'sb2', 2, 2000)]);
  const f = await writeTemp({});
  const { ms, all, ctl, leader, killLeader, start, worker } = await startCluster(f.dir);
  const masters = async () =>
    (
      (await dmctl(all, 'list-member', '--master')).json.members as Array<{
        master: { masters: Array<{ name: string; alive: boolean }> };
      }>
    )[0].master.masters;
  assert.deepEqual(
    (await masters()).map((m) => [m.name, m.alive]),
    [
      ['m1', true],
      ['m2', true],
      ['m3', true],
    ],
  );

  const workers: Record<string, Proc> = { w1: await worker('w1'), w2: await worker('w2') };
  const files = await writeTemp({
    's1.yaml': sourceYaml('s1', up1),
    's2.yaml': sourceYaml('s2', up2),
    'task.yaml': taskYaml({ name: 'ha', mode: 'all', target: down, sources: ['s1', 's2'], dir: f.dir }),
  });
  await ctl('operate-source', 'create', files['s1.yaml'], files['s2.yaml']);
  await ctl('start-task', files['task.yaml']);
  const status = async () => (await ctl('query-status', 'ha')).json as unknown as QueryStatus;
  const inSync = async () => {
    const q = await status();
    return q.workers.length === 2 && q.workers.every((w) => w.subTaskStatus[0]?.unit === 'Sync') && q;
  };
  await until('Sync on both sources', inSync, 120_000);
  const caughtUp = async () => {
    const [m1, m2] = await Promise.all([masterStatus(up1), masterStatus(up2)]);
    await until('caught up', async () => {
      const q = await status();
      const at = (src: string) =>
        (q.workers.find((w) => w.source === src)?.subTaskStatus[0]?.sync as { syncerBinlog?: string })
          ?.syncerBinlog;
      return reached(at('s1'), `(${m1.file}, ${m1.pos})`) && reached(at('s2'), `(${m2.file}, ${m2.pos})`);
    });
    await assertTablesEqual(up1, down, ['sb1.sbtest1', 'sb1.sbtest2']);
    await assertTablesEqual(up2, down, ['sb2.sbtest1', 'sb2.sbtest2']);
  };

  // 1. SIGKILL the leader under write load
  const load = Promise.all([
    oltpWriteOnly(up1, 'sb1', { tables: 2, rows: 2000, txns: 300, concurrency: 2 }),
    oltpWriteOnly(up2, 'sb2', { tables: 2, rows: 2000, txns: 300, concurrency: 2 }),
  ]);
  const { first, next, ms: failover } = await killLeader();
  const dead = ms.find((m) => m.name === first)!;
  assert.ok(failover < 10_000, `a new leader in ${failover} ms`);
  console.log(`# leader failover: ${failover} ms (${first} → ${next})`);
  await load;
  await caughtUp();
  const q = await status();
  assert.ok(
    q.workers.every((w) => w.subTaskStatus[0].stage === 'Running'),
    JSON.stringify(q),
  );

  // 2. the killed master rejoins as a follower
  await start(dead);
  await until('three alive', async () => (await masters()).every((m) => m.alive));
  assert.equal(await leader(), next, 'the leader stays');

  // 3. operate-leader evict moves the leadership; cancel-evict lets it lead again
  const ev = await ctl('operate-leader', 'evict');
  assert.match(String(ev.json.msg), new RegExp(`dm-master ${next} is evicted`));
  const third = await until('another leader after evict', async () => {
    const l = await leader().catch(() => undefined);
    return l && l !== next && l;
  });
  const cancel = await ctl('operate-leader', 'cancel-evict');
  assert.match(String(cancel.json.msg), new RegExp(`${next} may lead again`));

  // 4. a worker killed while the leader is being replaced: its source moves to the free worker
  workers.w3 = await worker('w3');
  await until('w3 free', async () => {
    const m = (await dmctl(all, 'list-member', '--worker')).json.members as Array<{
      worker: { workers: Array<{ name: string; stage: string }> };
    }>;
    return m[0].worker.workers.find((w) => w.name === 'w3')?.stage === 'free';
  });
  const bound = (await status()).workers.find((w) => w.source === 's1')!.worker;
  const victim = Object.entries(workers).find(([, p]) => p.addr === bound)![0];
  await Promise.all([
    ms.find((m) => m.name === third)!.proc!.kill('SIGKILL'),
    workers[victim].kill('SIGKILL'),
  ]);
  await oltpWriteOnly(up1, 'sb1', { tables: 2, rows: 2000, txns: 100, concurrency: 1 });
  await until(
    's1 on w3',
    async () => {
      const w = (await status()).workers.find((x) => x.source === 's1');
      return w?.worker === workers.w3.addr && w.subTaskStatus[0]?.unit === 'Sync' && w;
    },
    90_000,
  );
  await caughtUp();
  await start(ms.find((m) => m.name === third)!);

  // 5. a leader whose etcd member stops answering steps down before its lease ends
  const now = await until('a leader', () => leader().catch(() => undefined));
  const frozen = ms.find((m) => m.name === now)!;
  const log = join(f.dir, `${frozen.name}.log`);
  const stepDowns = () => readFileSync(log, 'utf8').split('"no longer the leader"').length - 1;
  const before = stepDowns();
  const pid = etcdPid(join(f.dir, frozen.name));
  process.kill(pid, 'SIGSTOP');
  try {
    await until('the frozen leader steps down', async () => stepDowns() > before, 15_000);
    const other = await until('another leader', async () => {
      const l = await leader().catch(() => undefined);
      return l && l !== frozen.name && l;
    });
    assert.notEqual(other, frozen.name);
    // never two leaders: the frozen one stopped acting before the other began
    const at = (file: string, msg: string) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.includes(`"msg":"${msg}"`))
        .map((l) => (JSON.parse(l) as { time: number }).time)
        .at(-1)!;
    const stepped = at(log, 'no longer the leader');
    const began = at(join(f.dir, `${other}.log`), 'became the leader');
    assert.ok(stepped < began, `stepped down at ${stepped}, the other led from ${began}`);
  } finally {
    process.kill(pid, 'SIGCONT');
  }

  // 6. offline-member removes a stopped master
  const lead = await leader();
  const gone = ms.find((m) => m.name !== lead)!;
  await gone.proc!.kill('SIGTERM');
  await until(
    'stopped master not alive',
    async () => !(await masters()).find((m) => m.name === gone.name)?.alive,
  );
  await ctl('offline-member', '--master', '-n', gone.name);
  assert.deepEqual(
    (await masters()).map((m) => m.name),
    ms.filter((m) => m !== gone).map((m) => m.name),
  );
  await caughtUp();
});

test('a pessimistic shard DDL lock pending while the leader dies resolves after the last shard: the column once, every row', async () => {
  const ups = await Promise.all([server(), server()]);
  const down = await server();
  await seedShards(ups);
  const f = await writeTemp({ 's1.yaml': sourceYaml('s1', ups[0]), 's2.yaml': sourceYaml('s2', ups[1]) });
  const files = await writeTemp({ 'task.yaml': shardTask(down, f.dir, ['s1', 's2']) });
  const { ctl, killLeader, worker } = await startCluster(f.dir);
  await Promise.all([worker('w1'), worker('w2')]);
  await ctl('operate-source', 'create', f['s1.yaml'], f['s2.yaml']);
  await ctl('start-task', files['task.yaml']);
  const bySource = async () => {
    const q = (await ctl('query-status', 'shard')).json as unknown as QueryStatus;
    return Object.fromEntries(q.workers.map((w) => [w.source!, w.subTaskStatus[0]]));
  };
  const caughtUp = async () => {
    const want = await Promise.all(ups.map((u) => masterStatus(u)));
    await until(
      'caught up',
      async () => {
        const s = await bySource();
        return ['s1', 's2'].every((id, i) =>
          reached(
            (s[id]?.sync as { syncerBinlog?: string })?.syncerBinlog,
            `(${want[i].file}, ${want[i].pos})`,
          ),
        );
      },
      120_000,
    );
  };
  await caughtUp();
  const LOCK = 'shard-`db_target`.`t_target`';
  await ups[0].exec(`ALTER TABLE sharding1.t1 ${ALTER}; ALTER TABLE sharding1.t2 ${ALTER}`);
  await writeShards(ups, 600, 640);
  await until('s1 waits on the lock', async () => (await bySource()).s1?.unresolvedDDLLockID === LOCK);
  const { ms: failover } = await killLeader();
  console.log(`# leader failover with a pending lock: ${failover} ms`);
  const locks = (await ctl('shard-ddl-lock', 'shard')).json.locks as Array<{ ID: string; owner: string }>;
  assert.deepEqual(
    locks.map((l) => [l.ID, l.owner]),
    [[LOCK, 's1']],
    'the new leader has the pending lock',
  );
  await ups[1].exec(`ALTER TABLE sharding2.t2 ${ALTER}; ALTER TABLE sharding2.t3 ${ALTER}`);
  await writeShards(ups, 700, 720, true);
  await caughtUp();
  await until('lock gone', async () => {
    const s = await bySource();
    return s.s1?.unresolvedDDLLockID === '' && s.s2?.unresolvedDDLLockID === '';
  });
  const cols = await rows(
    down,
    "SELECT COLUMN_NAME c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'db_target' AND TABLE_NAME = 't_target' ORDER BY ORDINAL_POSITION",
  );
  assert.deepEqual(
    cols.map((r) => r.c),
    ['id', 'v', 'c'],
  );
  const [t] = await rows(down, 'SELECT COUNT(*) n FROM db_target.t_target');
  assert.equal(Number(t.n), await totalUpstream(ups));
});

test('--join: masters added one by one to a running one form a cluster that survives the first one', async () => {
  const f = await writeTemp({});
  const m: M[] = [];
  for (const name of ['j1', 'j2', 'j3']) m.push({ name, http: await freePort(), peer: await freePort() });
  const args = (x: M, joinTo?: string) => masterArgs(x, f.dir, joinTo ? ['--join', joinTo] : []);
  const addr = (x: M) => `127.0.0.1:${x.http}`;
  m[0].proc = await daemon('dm-master', args(m[0]), f.dir);
  m[1].proc = await daemon('dm-master', args(m[1], addr(m[0])), f.dir);
  m[2].proc = await daemon('dm-master', args(m[2], `${addr(m[0])},${addr(m[1])}`), f.dir);
  const all = m.map(addr).join(',');
  const masters = async () =>
    (
      (await dmctl(all, 'list-member', '--master')).json.members as Array<{
        master: { masters: Array<{ name: string; alive: boolean }> };
      }>
    )[0].master.masters.map((x) => [x.name, x.alive]);
  assert.deepEqual(await masters(), [
    ['j1', true],
    ['j2', true],
    ['j3', true],
  ]);
  // the first master goes: the two joined ones still have a majority and elect a leader
  await m[0].proc.kill('SIGKILL');
  await until('a leader among j2, j3', async () => {
    const r = await dmctl(all, 'list-member', '--leader');
    const l = (r.json.members as Array<{ leader: { name: string } }> | undefined)?.[0]?.leader.name;
    return l && l !== 'j1' && l;
  });
  // a joined master restarts with --join still given: its data dir has the member, it rejoins
  await m[1].proc.kill('SIGTERM');
  m[1].proc = await daemon('dm-master', args(m[1], addr(m[0])), f.dir);
  await until('j2 alive again', async () => (await masters()).some(([n, a]) => n === 'j2' && a));
});

test("a master's etcd member that dies is restarted; a master on --etcd-endpoints of another joins as a client", async () => {
  const f = await writeTemp({});
  const a: M = { name: 'e1', http: await freePort(), peer: await freePort() };
  a.proc = await daemon('dm-master', masterArgs(a, f.dir, []), f.dir);
  const list = async (addrs: string) =>
    (
      (await dmctl(addrs, 'list-member', '--master')).json.members as Array<{
        master: { masters: Array<{ name: string; alive: boolean; clientURLs: string[] }> };
      }>
    )[0].master.masters;
  const aAddr = `127.0.0.1:${a.http}`;
  process.kill(etcdPid(join(f.dir, 'e1')), 'SIGKILL');
  await until('the member is back', async () => {
    const pid = etcdPid(join(f.dir, 'e1'));
    return pid > 0 && (await list(aAddr)).some((m) => m.name === 'e1' && m.alive);
  });
  assert.match(readFileSync(join(f.dir, 'e1.log'), 'utf8'), /etcd member exited; restarting it/);
  const client = (await list(aAddr))[0].clientURLs[0].replace('http://', '');
  const b: M = { name: 'e2', http: await freePort(), peer: 0 };
  b.proc = await daemon(
    'dm-master',
    [
      '--name',
      'e2',
      '--master-addr',
      `127.0.0.1:${b.http}`,
      '--data-dir',
      join(f.dir, 'e2'),
      '--etcd-endpoints',
      client,
    ],
    f.dir,
  );
  const both = `${aAddr},127.0.0.1:${b.http}`;
  await until('both alive', async () => (await list(both)).filter((m) => m.alive).length === 2);
  const ev = await dmctl(both, 'operate-leader', 'evict', '-n', 'e1');
  assert.equal(ev.code, 0, ev.stdout + ev.stderr);
  await until('e2 leads', async () => {
    const r = await dmctl(both, 'list-member', '--leader');
    return (r.json.members as Array<{ leader: { name: string } }>)[0].leader.name === 'e2';
  });
  assert.equal((await dmctl(both, 'operate-leader', 'cancel-evict')).code, 0);
});

test('cluster flags: a wrong --initial-cluster, an unreachable --join, a peer port in use, a data dir of another master are clear errors', async () => {
  const f = await writeTemp({});
  const refused = (args: string[]) =>
    daemon('dm-master', args, f.dir).then(
      () => assert.fail(`started: ${args.join(' ')}`),
      (e: Error) => e.message,
    );
  const http = await freePort();
  const peer = await freePort();
  const base = ['--master-addr', `127.0.0.1:${http}`, '--peer-urls', `http://127.0.0.1:${peer}`];
  const m1 = (dir: string, ...extra: string[]) => [
    '--name',
    'm1',
    ...base,
    '--data-dir',
    join(f.dir, dir),
    ...extra,
  ];
  assert.match(
    await refused(m1('a', '--initial-cluster', `mx=http://127.0.0.1:${peer}`)),
    /\[code=38037:.*--initial-cluster 'mx=http:\/\/127\.0\.0\.1:\d+' has no entry for this master \(--name m1\); add m1=http:\/\/127\.0\.0\.1:\d+ or fix --name/,
  );
  assert.match(
    await refused(m1('b', '--initial-cluster', 'm1=http://127.0.0.1:1')),
    /--initial-cluster gives m1=http:\/\/127\.0\.0\.1:1, but its --advertise-peer-urls is http:\/\/127\.0\.0\.1:\d+; make them the same/,
  );
  assert.match(
    await refused(m1('f', '--etcd-endpoints', '127.0.0.1:2379')),
    /\[code=38037:.*--etcd-endpoints uses an existing etcd cluster, so --peer-urls .* would do nothing/,
  );
  assert.match(
    await refused(m1('c', '--join', `127.0.0.1:${await freePort()}`)),
    /\[code=38040:.*--join 127\.0\.0\.1:\d+: cannot reach/,
  );
  const m = await daemon('dm-master', m1('d'), f.dir);
  try {
    assert.match(
      await refused([
        '--name',
        'm2',
        '--master-addr',
        '127.0.0.1:0',
        '--peer-urls',
        `http://127.0.0.1:${peer}`,
        '--data-dir',
        join(f.dir, 'e'),
      ]),
      /\[code=38038:.*--peer-urls: 127\.0\.0\.1:\d+ is in use/,
    );
  } finally {
    await m.kill('SIGTERM');
  }
  assert.match(
    await refused(['--name', 'm2', '--master-addr', '127.0.0.1:0', '--data-dir', join(f.dir, 'd')]),
    /--data-dir .*d belongs to dm-master 'm1' of cluster \w+, not 'm2': start it with --name m1, or give this master another --data-dir/,
  );
});

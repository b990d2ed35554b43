// Master HA benchmark: leader failover time on a 3-master cluster (SIGKILL the leader, time until
// another master leads; median of 5), and the time `dmctl start-task` takes on a 3-member cluster
// vs one member (each: a source and a small `all` task on sandbox servers; median of 3).
//   npm run bench:ha
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type MariaDBSandbox } from '../../src/sandbox/mariadb.js';
import { freePort } from '../../src/master/etcd-member.js';

const tsx = import.meta.resolve('tsx');
const cli = (name: string) => `${process.cwd()}/src/cli/${name}.ts`;

interface Master {
  name: string;
  http: number;
  peer: number;
  child?: ChildProcess;
}

function startMaster(m: Master, initial: string, dir: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      tsx,
      cli('dm-master'),
      ...[
        '--name',
        m.name,
        '--master-addr',
        `127.0.0.1:${m.http}`,
        '--peer-urls',
        `http://127.0.0.1:${m.peer}`,
      ],
      ...[
        '--initial-cluster',
        initial,
        '--data-dir',
        join(dir, m.name),
        '--log-file',
        join(dir, `${m.name}.log`),
      ],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('serving on')) resolve(child);
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (c) => reject(new Error(`dm-master ${m.name} exited (${c}): ${out}`)));
  });
}

async function dmctl(addrs: string, ...args: string[]): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, ['--import', tsx, cli('dmctl'), '--master-addr', addrs, ...args]);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`dmctl ${args.join(' ')}: ${out}`);
  return JSON.parse(out) as Record<string, unknown>;
}

async function leader(addrs: string): Promise<string | undefined> {
  try {
    const m = (await dmctl(addrs, 'list-member', '--leader')).members as Array<{ leader: { name: string } }>;
    return m[0].leader.name;
  } catch {
    return undefined;
  }
}

async function cluster(n: number, dir: string): Promise<{ ms: Master[]; addrs: string; initial: string }> {
  const ms: Master[] = [];
  for (let i = 1; i <= n; i++) ms.push({ name: `m${i}`, http: await freePort(), peer: await freePort() });
  const initial = ms.map((m) => `${m.name}=http://127.0.0.1:${m.peer}`).join(',');
  await Promise.all(ms.map(async (m) => (m.child = await startMaster(m, initial, dir))));
  return { ms, addrs: ms.map((m) => `127.0.0.1:${m.http}`).join(','), initial };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function failover(dir: string): Promise<number[]> {
  const { ms, addrs, initial } = await cluster(3, dir);
  const times: number[] = [];
  try {
    for (let i = 0; i < 5; i++) {
      const first = (await leader(addrs))!;
      const m = ms.find((x) => x.name === first)!;
      const at = Date.now();
      m.child!.kill('SIGKILL');
      for (;;) {
        const l = await leader(addrs);
        if (l && l !== first) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      times.push(Date.now() - at);
      m.child = await startMaster(m, initial, dir);
    }
  } finally {
    for (const m of ms) m.child?.kill('SIGTERM');
  }
  return times;
}

async function startTask(
  n: number,
  dir: string,
  up: MariaDBSandbox,
  down: MariaDBSandbox,
): Promise<number[]> {
  const { ms, addrs } = await cluster(n, dir);
  const o = up.connectionOptions();
  const d = down.connectionOptions();
  const worker = spawn(process.execPath, [
    '--import',
    tsx,
    cli('dm-worker'),
    ...['--name', 'w1', '--worker-addr', '127.0.0.1:0', '--join', addrs],
  ]);
  const times: number[] = [];
  try {
    const src = join(dir, 'source.yaml');
    await writeFile(
      src,
      `source-id: s1\nfrom:\n  host: ${o.host}\n  port: ${o.port}\n  user: ${o.user}\n  password: "${o.password}"\n`,
    );
    await dmctl(addrs, 'operate-source', 'create', src);
    for (let i = 0; i < 3; i++) {
      const task = join(dir, `task${i}.yaml`);
      await writeFile(
        task,
        `name: t${n}x${i}\ntask-mode: all\ntarget-database:\n  host: ${d.host}\n  port: ${d.port}\n  user: ${d.user}\n  password: "${d.password}"\nblock-allow-list:\n  b:\n    do-dbs: ["bench"]\nmysql-instances:\n  - source-id: s1\n    block-allow-list: b\n    loader:\n      dir: ${join(dir, `dump${i}`)}\n`,
      );
      const at = Date.now();
      await dmctl(addrs, 'start-task', task);
      times.push(Date.now() - at);
    }
  } finally {
    worker.kill('SIGTERM');
    for (const m of ms) m.child?.kill('SIGTERM');
  }
  return times;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dm-ts-bench-ha-'));
  const [up, down] = await Promise.all([startSandbox(), startSandbox()]);
  try {
    await up.exec(
      'CREATE DATABASE bench; CREATE TABLE bench.t (id INT PRIMARY KEY); INSERT INTO bench.t SELECT seq FROM mysql.seq_1_to_1000',
    );
    const f = await failover(join(dir, 'failover'));
    const one = await startTask(1, join(dir, 'one'), up, down);
    const three = await startTask(3, join(dir, 'three'), up, down);
    console.log('| measure | runs (ms) | median |');
    console.log('| --- | --- | --- |');
    console.log(
      `| leader failover (3 masters, election-ttl 5 s, SIGKILL) | ${f.join(', ')} | ${median(f)} ms |`,
    );
    console.log(`| start-task, 1 master | ${one.join(', ')} | ${median(one)} ms |`);
    console.log(
      `| start-task, 3 masters (via a follower and the leader) | ${three.join(', ')} | ${median(three)} ms |`,
    );
    console.log(`ratio start-task 3 masters / 1 master: ${(median(three) / median(one)).toFixed(2)}`);
  } finally {
    await Promise.all([up.destroy(), down.destroy()]);
    await rm(dir, { recursive: true, force: true });
  }
}

void main();

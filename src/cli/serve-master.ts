// Starting a dm-master: its etcd member (or an existing etcd cluster with --etcd-endpoints), its
// HTTP API (forwarded to the leader while it follows), and the election that runs the Master on
// whichever master leads. With --all-in-one the leader also starts an in-process dm-worker for
// each source that has none.
import { openapiRoutes } from '../api/openapi.js';
import { processTls } from '../api/process-tls.js';
import { dashboardRoutes } from '../api/dashboard.js';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { noop } from 'cockatiel';
import { callAny, serve, splitAddr } from '../api/http.js';
import { masterRoutes } from '../api/master-api.js';
import { httpWorkerLink } from '../api/worker-api.js';
import { DMError, ERR } from '../errors.js';
import type { Logger } from '../log.js';
import { sleep } from '../async.js';
import { lockDirectory } from '../files.js';
import { Master } from '../master/master.js';
import { MasterNode } from '../master/ha.js';
import { clusterPlan, refuseClusterFlags } from '../master/cluster-plan.js';
import { EtcdMember, freePort } from '../master/etcd-member.js';
import { loadSecretKey, useSecretKey } from '../task/encrypt.js';
import { dialable } from './config-file.js';
import { startWorker, type Running } from './serve.js';

export interface MasterSettings {
  name: string;
  'master-addr': string;
  'advertise-addr': string;
  'data-dir': string;
  'all-in-one': boolean;
  /** DM's openapi: serve DM's OpenAPI v1 (default true). */
  openapi?: boolean;
  /** A file with the hex AES-256 key for encrypted passwords ('' = DM's public key). */
  'secret-key-path'?: string;
  'peer-urls'?: string;
  'advertise-peer-urls'?: string;
  'initial-cluster'?: string;
  'initial-cluster-state'?: string;
  /** Masters of a running cluster to join (comma-separated host:port). */
  join?: string;
  /** Use this etcd cluster (comma-separated host:port) instead of running a member (ours). */
  'etcd-endpoints'?: string;
  /** The member's client address (ours). */
  'etcd-client-addr'?: string;
  /** DM's etcd keys of master.toml, passed to the member. */
  etcdTuning?: Record<string, string | number>;
  /** Seconds (ours; default 5). */
  'election-ttl'?: number;
}

/** The etcd client of a master: calls fail fast (the election and the store retry). */
export function etcdClient(endpoints: string[]): Etcd3 {
  const tls = processTls();
  return new Etcd3({
    hosts: endpoints.map((e) => `${tls ? 'https' : 'http'}://${e}`),
    ...(tls
      ? {
          credentials: {
            rootCertificate: Buffer.from(tls.ca),
            certChain: Buffer.from(tls.cert),
            privateKey: Buffer.from(tls.key),
          },
        }
      : {}),
    dialTimeout: 3000,
    defaultCallOptions: () => ({ deadline: Date.now() + 5000 }),
    faultHandling: { host: () => noop, global: noop },
  });
}

/** Waits until etcd answers (a member needs its quorum), or the deadline. */
async function reachable(etcd: Etcd3, member: EtcdMember | undefined, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      await etcd.get('/dm-master/leader').string();
      return;
    } catch (e) {
      if (Date.now() > deadline) {
        const why = (await member?.lastError()) || (e as Error).message;
        throw new DMError(
          ERR.masterEtcd,
          `etcd does not answer after ${Math.round(waitMs / 1000)} s: ${why}; with several masters, start the others of --initial-cluster too (a member needs a majority)`,
        );
      }
      await sleep(200);
    }
  }
}

/** `<data-dir>/dm-master.json`: whose data dir this is, of which cluster, on which ports. */
interface DirRecord {
  name: string;
  clusterId?: string;
  peerUrls?: string;
  clientAddr?: string;
}

export async function startMaster(s: MasterSettings, log: Logger, configText: string): Promise<Running> {
  const workers: Array<Running> = [];
  useSecretKey(undefined);
  if (s['secret-key-path']) loadSecretKey(s['secret-key-path']);
  const { etcdTuning, ...flags } = s;
  refuseClusterFlags({ ...flags, ...etcdTuning });
  const dataDir = s['data-dir'] || `default.${s.name}`;
  await mkdir(dataDir, { recursive: true });
  const unlockDir = await lockDirectory(dataDir, 'dm-master');
  const cleanup: Array<() => Promise<void>> = [unlockDir];
  const undo = async () => {
    for (const f of cleanup.reverse()) await f().catch(() => undefined);
  };
  try {
    const recordFile = join(dataDir, 'dm-master.json');
    const record = existsSync(recordFile)
      ? (JSON.parse(await readFile(recordFile, 'utf8')) as DirRecord)
      : undefined;
    if (record && record.name !== s.name) {
      throw new DMError(
        ERR.masterEtcdConfig,
        `--data-dir ${dataDir} belongs to dm-master '${record.name}'${record.clusterId ? ` of cluster ${record.clusterId}` : ''}, not '${s.name}': start it with --name ${record.name}, or give this master another --data-dir`,
      );
    }
    const holder: { node?: MasterNode } = {};
    const http = await serve(
      s['master-addr'],
      [
        ...masterRoutes(() => holder.node!.current()),
        ...openapiRoutes(() => holder.node!.current(), s.openapi !== false),
        ...dashboardRoutes(),
      ],
      'dm-master',
      () => (holder.node ? holder.node.forwardTo() : null),
    );
    cleanup.push(() => http.close());
    const addr = s['advertise-addr'] || dialable(http.addr);

    let member: EtcdMember | undefined;
    let ports: { peerUrls: string; clientAddr: string } | undefined;
    let endpoints: string[];
    if (s['etcd-endpoints']) {
      endpoints = s['etcd-endpoints'].split(',').map((e) => e.trim().replace(/^https?:\/\//, ''));
    } else {
      const plan = clusterPlan(
        {
          name: s.name,
          masterPort: splitAddr(s['master-addr']).port,
          // a restart keeps the member's ports unless flags give others
          'peer-urls': s['peer-urls'] || record?.peerUrls || '',
          'advertise-peer-urls': s['advertise-peer-urls'] ?? '',
          'initial-cluster': s['initial-cluster'] ?? '',
          'initial-cluster-state': s['initial-cluster-state'] ?? '',
          'etcd-client-addr': s['etcd-client-addr'] || record?.clientAddr || '',
          tls: !!processTls(),
        },
        { peer: await freePort(), client: await freePort() },
      );
      const fresh = !existsSync(join(dataDir, 'etcd', 'member'));
      if (!fresh && s.join)
        log.info(
          { join: s.join },
          "the data dir holds this master's etcd member already: it rejoins its cluster, --join is not needed again (as DM)",
        );
      if (fresh && s.join) {
        const joined = await callAny<{ result: boolean; msg: string; initialCluster?: string }>(
          s.join.split(',').map((a) => dialable(a.trim())),
          'POST',
          '/apis/v1alpha1/members/masters',
          { name: s.name, peerURLs: plan.advertisePeerUrls },
          30_000,
          'dm-master',
          20_000,
        ).catch((e: Error) => {
          throw new DMError(ERR.masterJoin, `--join ${s.join}: ${e.message}`);
        });
        if (!joined.result || !joined.initialCluster)
          throw new DMError(ERR.masterJoin, `--join ${s.join}: ${joined.msg}`);
        plan.initialCluster = joined.initialCluster;
        plan.initialClusterState = 'existing';
      }
      ports = { peerUrls: plan.peerUrls, clientAddr: plan.clientAddr };
      member = new EtcdMember(
        { name: s.name, dataDir, ...plan, tuning: s.etcdTuning ?? {}, tls: processTls()?.files },
        log,
      );
      await member.start();
      cleanup.push(() => member!.stop());
      endpoints = [plan.clientAddr];
    }
    const etcd = etcdClient(endpoints);
    cleanup.push(async () => etcd.close());
    await reachable(etcd, member, 60_000);
    const clusterId = String((await etcd.cluster.memberList({})).header?.cluster_id ?? '');
    if (record?.clusterId && clusterId && record.clusterId !== clusterId) {
      throw new DMError(
        ERR.masterEtcdConfig,
        `--data-dir ${dataDir} was made for cluster ${record.clusterId}, but etcd is cluster ${clusterId}: give this master a new --data-dir (or the etcd it used)`,
      );
    }
    await writeFile(
      recordFile,
      JSON.stringify({ name: s.name, clusterId: record?.clusterId || clusterId, ...ports }) + '\n',
    );

    const node: MasterNode = new MasterNode({
      name: s.name,
      addr,
      dataDir,
      etcd,
      log,
      leaseTtlSec: s['election-ttl'],
      makeMaster: (store): Master =>
        new Master({
          name: s.name,
          addr,
          store,
          log,
          link: httpWorkerLink,
          configText,
          dataDir,
          cluster: node,
          needWorker: s['all-in-one']
            ? async () => {
                const name = `${s.name}-worker-${workers.length + 1}`;
                log.info(
                  { worker: name },
                  'all-in-one: starting an in-process dm-worker for a source without one',
                );
                workers.push(
                  await startWorker(
                    {
                      name,
                      'worker-addr': '127.0.0.1:0',
                      'advertise-addr': '',
                      join: addr,
                      'keepalive-ttl': 10,
                    },
                    log,
                  ),
                );
              }
            : undefined,
        }),
    });
    holder.node = node;
    await node.start();
    cleanup.push(() => node.close());
    // Ready once some master leads (this one, alone).
    for (const deadline = Date.now() + 30_000; !node.leader() && Date.now() < deadline;) await sleep(100);
    log.info({ name: s.name, addr, dataDir, etcd: endpoints }, 'dm-master started');
    return {
      addr,
      close: async () => {
        await Promise.all(workers.map((w) => w.close()));
        await undo();
      },
    };
  } catch (e) {
    await undo();
    throw e;
  }
}

// A dm-master in a cluster of masters on etcd: it keeps its own liveness key, campaigns for the
// leader key with a lease, and while it leads runs the `Master` (scheduling, shard DDL, the
// cluster state in etcd through EtcdStore); while it follows, the HTTP layer forwards requests
// to the leader. A leader that cannot renew its lease for `stepDownMs` (its etcd member stopped,
// a partition) stops acting before etcd lets the lease expire, so two masters never both lead.
import { randomUUID } from 'node:crypto';
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Etcd3, Lease } from 'etcd3';
import { DMError, ERR } from '../errors.js';
import type { Logger } from '../log.js';
import { sleep } from '../async.js';
import { EtcdStore, type StateStore } from './etcd-store.js';
import type { ClusterState } from './store.js';
import type { Master, MasterCluster, MemberMaster } from './master.js';
import { joinedCluster } from './cluster-plan.js';
import { leaderStarted } from '../metrics/registry.js';

export const LEADER_KEY = '/dm-master/leader';
const INFO = '/dm-master/info/';
const EVICT = '/dm-master/leader-evict/';
/** DM's worker keepalive keys. */
const WORKER_ALIVE = '/dm-worker/a/';

export interface MasterInfo {
  name: string;
  addr: string;
}

export interface NodeOptions {
  name: string;
  addr: string;
  dataDir: string;
  etcd: Etcd3;
  log: Logger;
  /** The leader's lease, in seconds (a new leader within about this after the old one dies). */
  leaseTtlSec?: number;
  makeMaster: (store: StateStore) => Master;
}

export class MasterNode implements MasterCluster {
  private leaderInfo?: MasterInfo & { id: string };
  private master?: Master;
  private closed = false;
  private loop?: Promise<void>;
  private infoLease?: Lease;
  private leading?: { lease: Lease; value: string; lastOk: number; stop: () => void };
  /** Resolved when the current term ends (to wake the loop). */
  private readonly ttl: number;

  constructor(private readonly o: NodeOptions) {
    this.ttl = o.leaseTtlSec ?? 5;
  }

  get name(): string {
    return this.o.name;
  }

  /** The leader as this master last saw it. */
  leader(): MasterInfo | undefined {
    return this.leaderInfo && { name: this.leaderInfo.name, addr: this.leaderInfo.addr };
  }

  isLeader(): boolean {
    return !!this.master && !!this.leading;
  }

  /** The Master while this node leads. */
  current(): Master {
    if (!this.master || !this.leading) {
      const l = this.leader();
      throw new DMError(
        ERR.notLeader,
        l
          ? `dm-master ${this.o.name} is not the leader (${l.name} at ${l.addr} is)`
          : `dm-master ${this.o.name} is not the leader and no leader is elected yet; retry in a few seconds`,
      );
    }
    return this.master;
  }

  /** Where a request to this master goes: undefined to answer here (the leader), the leader's
   * address, or null while there is none. */
  forwardTo(): string | null | undefined {
    if (this.isLeader()) return undefined;
    return this.leaderInfo && this.leaderInfo.name !== this.o.name ? this.leaderInfo.addr : null;
  }

  async start(): Promise<void> {
    await this.registerInfo();
    this.loop = this.run();
  }

  /** This master's liveness key, on a lease of its own; put again whenever the lease is lost. */
  private async registerInfo(): Promise<void> {
    this.infoLease = this.o.etcd.lease(this.ttl);
    this.infoLease.on('lost', () => void this.reregisterInfo());
    await this.infoLease
      .put(INFO + this.o.name)
      .value(JSON.stringify({ name: this.o.name, addr: this.o.addr }));
  }

  private async reregisterInfo(): Promise<void> {
    if (this.closed) return;
    await sleep(500);
    await this.registerInfo().catch(() => this.reregisterInfo());
  }

  /** Campaigns, leads, and campaigns again after stepping down, until closed. */
  private async run(): Promise<void> {
    while (!this.closed) {
      try {
        await this.refreshLeader();
        if (!this.leaderInfo && !(await this.evicted())) await this.campaign();
      } catch (e) {
        this.o.log.debug({ err: (e as Error).message }, 'election: etcd not reachable');
        this.leaderInfo = undefined;
      }
      await sleep(300);
    }
  }

  private async refreshLeader(): Promise<void> {
    const v = await this.o.etcd.get(LEADER_KEY).string();
    this.leaderInfo = v ? (JSON.parse(v) as MasterInfo & { id: string }) : undefined;
  }

  private async evicted(): Promise<boolean> {
    return (await this.o.etcd.get(EVICT + this.o.name).string()) !== null;
  }

  private async campaign(): Promise<void> {
    const lease = this.o.etcd.lease(this.ttl, { autoKeepAlive: true });
    const value = JSON.stringify({ name: this.o.name, addr: this.o.addr, id: randomUUID() });
    let won = false;
    try {
      const leaseId = await lease.grant();
      const r = await this.o.etcd
        .if(LEADER_KEY, 'Create', '==', 0)
        .then(this.o.etcd.put(LEADER_KEY).value(value).lease(leaseId))
        .commit();
      won = r.succeeded;
      if (won) await this.lead(lease, value);
    } finally {
      if (!won) await lease.revoke().catch(() => undefined);
    }
  }

  /** Leads until the lease cannot be renewed, the key is gone, this master is evicted or closed. */
  private async lead(lease: Lease, value: string): Promise<void> {
    this.leaderInfo = JSON.parse(value) as MasterInfo & { id: string };
    let ended!: () => void;
    const over = new Promise<void>((r) => (ended = r));
    const term = { lease, value, lastOk: Date.now(), stop: () => ended() };
    lease.on('keepaliveSucceeded', () => (term.lastOk = Date.now()));
    lease.on('lost', () => ended());
    this.leading = term;
    // Renewals come every ttl/3; two missed and this master stops before etcd expires the lease.
    const stepDownMs = (this.ttl * 1000 * 2) / 3 + 200;
    const watch = setInterval(() => {
      if (Date.now() - term.lastOk > stepDownMs) ended();
    }, 100);
    try {
      const store = new EtcdStore(this.o.etcd, { key: LEADER_KEY, value });
      await this.importLegacy(store);
      await store.open();
      const m = this.o.makeMaster(store);
      // Requests are answered from here on: the all-in-one workers opening starts must reach it.
      this.master = m;
      leaderStarted();
      await m.open();
      this.o.log.info({ name: this.o.name }, 'became the leader');
      const checks = (async () => {
        while (this.leading === term) {
          await sleep(500);
          try {
            if ((await this.o.etcd.get(LEADER_KEY).string()) !== value || (await this.evicted())) ended();
          } catch {
            // the renewal watch decides
          }
        }
      })();
      await over;
      void checks;
    } finally {
      clearInterval(watch);
      this.leading = undefined;
      // the keys stay with their leases: the next leader reads who is alive from them
      this.workerLeases.clear();
      const m = this.master;
      this.master = undefined;
      this.leaderInfo = undefined;
      this.o.log.warn({ name: this.o.name }, 'no longer the leader');
      await m?.close().catch(() => undefined);
      await this.o.etcd
        .if(LEADER_KEY, 'Value', '==', value)
        .then(this.o.etcd.delete().key(LEADER_KEY))
        .commit()
        .catch(() => undefined);
      await lease.revoke().catch(() => undefined);
    }
  }

  /** A data dir of an earlier version holds `cluster.json`: its state moves into etcd once. */
  private async importLegacy(store: EtcdStore): Promise<void> {
    const file = join(this.o.dataDir, 'cluster.json');
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return;
    }
    const probe = new EtcdStore(this.o.etcd, { key: LEADER_KEY, value: '' });
    await probe.open();
    if (Object.keys(probe.state.sources).length || Object.keys(probe.state.tasks).length) return;
    await store.open();
    store.state = { ...store.state, ...(JSON.parse(text) as ClusterState) };
    await store.save();
    await rename(file, `${file}.imported`);
    this.o.log.info({ file }, 'the state of the earlier single-file store moved into etcd');
  }

  /** operate-leader evict: this master stops leading and does not campaign; cancel-evict undoes it. */
  async evict(name: string, on: boolean): Promise<void> {
    if (on) await this.o.etcd.put(EVICT + name).value('1');
    else await this.o.etcd.delete().key(EVICT + name);
  }

  /** The masters: etcd's members, alive when their liveness key is there. */
  async masters(): Promise<MemberMaster[]> {
    const [list, alive, evicted] = await Promise.all([
      this.o.etcd.cluster.memberList({}),
      this.aliveMasters(),
      this.evictedMasters(),
    ]);
    const members = (list.members ?? []).map((m) => ({
      name: m.name || '(not started yet)',
      addr: alive[m.name] ?? '',
      alive: m.name in alive,
      peerURLs: m.peerURLs ?? [],
      clientURLs: m.clientURLs ?? [],
      evicted: evicted.includes(m.name),
    }));
    // masters on an existing etcd (--etcd-endpoints) are no members of it: alive ones by their key
    const clients = Object.entries(alive)
      .filter(([name]) => !members.some((m) => m.name === name))
      .map(([name, addr]) => ({
        name,
        addr,
        alive: true,
        peerURLs: [],
        clientURLs: [],
        evicted: evicted.includes(name),
      }));
    return [...members, ...clients].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Adds a joining master to etcd's members; its --initial-cluster. */
  async addMaster(name: string, peerUrls: string): Promise<string> {
    const list = (await this.o.etcd.cluster.memberList({})).members ?? [];
    const urls = peerUrls.split(',').map((u) => u.trim());
    const same = list.find((m) => m.name === name || (m.peerURLs ?? []).some((u) => urls.includes(u)));
    if (same && (same.name !== name || !urls.every((u) => (same.peerURLs ?? []).includes(u)))) {
      throw new DMError(
        ERR.masterJoin,
        `dm-master '${same.name || '(not started)'}' already has peer URL ${(same.peerURLs ?? []).join(',')}: give the joining master another --name or --peer-urls`,
      );
    }
    // etcd refuses a member change until the last one has caught up ('unhealthy cluster')
    for (const deadline = Date.now() + 20_000; !same;) {
      try {
        await this.o.etcd.cluster.memberAdd({ peerURLs: urls });
        break;
      } catch (e) {
        if (!/unhealthy cluster/.test((e as Error).message) || Date.now() > deadline) throw e;
        await sleep(500);
      }
    }
    const after = (await this.o.etcd.cluster.memberList({})).members ?? [];
    return joinedCluster(after, name, urls.join(','));
  }

  /** offline-member --master: removes a master that is not alive from etcd's members. */
  async removeMaster(name: string): Promise<void> {
    const list = (await this.o.etcd.cluster.memberList({})).members ?? [];
    const m = list.find((x) => x.name === name);
    if (!m)
      throw new DMError(
        ERR.masterNameNotExist,
        `dm-master ${name} does not exist; list-member shows the masters (${list.map((x) => x.name).join(', ')})`,
      );
    if (name in (await this.aliveMasters()))
      throw new DMError(
        ERR.badRequest,
        `dm-master ${name} is alive: stop it first, then offline-member removes it`,
      );
    await this.o.etcd.cluster.memberRemove({ ID: m.ID });
    await this.o.etcd.delete().key(EVICT + name);
  }

  /** Worker keepalive keys, each with a lease of the worker's TTL, renewed by its heartbeats. */
  private readonly workerLeases = new Map<string, { lease: Lease; ttlSec: number }>();

  workerKeepalive(name: string, ttlMs: number): void {
    const ttlSec = Math.max(1, Math.ceil(ttlMs / 1000));
    const had = this.workerLeases.get(name);
    const fresh = () => {
      const lease = this.o.etcd.lease(ttlSec, { autoKeepAlive: false });
      this.workerLeases.set(name, { lease, ttlSec });
      lease.on('lost', () => undefined);
      void lease
        .put(WORKER_ALIVE + name)
        .value(String(Date.now()))
        .catch(() => this.workerLeases.delete(name));
    };
    if (!had || had.ttlSec !== ttlSec) fresh();
    else void had.lease.keepaliveOnce().catch(() => fresh());
  }

  async aliveWorkers(): Promise<string[]> {
    return Object.keys(await this.o.etcd.getAll().prefix(WORKER_ALIVE).strings()).map((k) =>
      k.slice(WORKER_ALIVE.length),
    );
  }

  /** Every master's liveness key: name → address. */
  async aliveMasters(): Promise<Record<string, string>> {
    const all = await this.o.etcd.getAll().prefix(INFO).strings();
    return Object.fromEntries(
      Object.values(all).map((v) => {
        const i = JSON.parse(v) as MasterInfo;
        return [i.name, i.addr];
      }),
    );
  }

  async evictedMasters(): Promise<string[]> {
    return Object.keys(await this.o.etcd.getAll().prefix(EVICT).strings()).map((k) => k.slice(EVICT.length));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.leading?.stop();
    await this.loop;
    await this.o.etcd
      .delete()
      .key(INFO + this.o.name)
      .catch(() => undefined);
    await this.infoLease?.revoke().catch(() => undefined);
  }
}

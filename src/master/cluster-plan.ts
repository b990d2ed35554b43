// How a dm-master's cluster flags (DM v2's) become its etcd member's settings, decided in pure
// functions: defaults as DM's (peer port = master port + 30, one member named after the master),
// and every mismatch an error naming the flag and the fix.
import { DMError, ERR } from '../errors.js';

export interface ClusterFlags {
  name: string;
  /** The port of --master-addr (0: a free one was picked). */
  masterPort: number;
  'peer-urls': string;
  'advertise-peer-urls': string;
  'initial-cluster': string;
  'initial-cluster-state': string;
  /** host:port of the member's client URL (ours; default: the master port ± 10000). */
  'etcd-client-addr'?: string;
  /** The masters use TLS (ssl-*): peer URLs are https://. */
  tls?: boolean;
}

export interface ClusterPlan {
  peerUrls: string;
  advertisePeerUrls: string;
  initialCluster: string;
  initialClusterState: 'new' | 'existing';
  /** The member's client address (this master's only): --etcd-client-addr, else the master port
   * + 10000 (- 10000 above 55535), away from DM's usual master and peer ports on one host. */
  clientAddr: string;
}

const bad = (msg: string) => new DMError(ERR.masterEtcdConfig, msg);

function urls(flag: string, v: string, tls = false): URL[] {
  const scheme = tls ? 'https' : 'http';
  return v.split(',').map((u) => {
    let url: URL;
    try {
      url = new URL(u.trim());
    } catch {
      throw bad(`${flag} '${u}' is not a URL; write e.g. ${scheme}://127.0.0.1:8291`);
    }
    if (url.protocol !== `${scheme}:` || !url.port)
      throw bad(
        `${flag} '${u}' must be ${scheme}://host:port (${tls ? 'the masters use TLS (ssl-*): their etcd members talk over TLS too' : 'https:// peer URLs need ssl-ca, ssl-cert and ssl-key'})`,
      );
    return url;
  });
}

/** `name=url,name=url` → entries; a malformed entry names the flag. */
export function parseInitialCluster(v: string, tls = false): Array<[string, string]> {
  return v.split(',').map((e) => {
    const i = e.indexOf('=');
    if (i <= 0) throw bad(`--initial-cluster entry '${e}' is not name=${tls ? 'https' : 'http'}://host:port`);
    const url = e.slice(i + 1).trim();
    urls('--initial-cluster', url, tls);
    return [e.slice(0, i).trim(), url];
  });
}

/** The member's settings; `free` ports are used when --master-addr's port was 0 and no
 * --peer-urls is given (tests and playgrounds). */
export function clusterPlan(f: ClusterFlags, free: { peer: number; client: number }): ClusterPlan {
  const picked = !f['peer-urls'] && !f.masterPort;
  const peer =
    f['peer-urls'] || `${f.tls ? 'https' : 'http'}://127.0.0.1:${picked ? free.peer : f.masterPort + 30}`;
  const peers = urls('--peer-urls', peer, f.tls);
  const advertise = f['advertise-peer-urls'] || peer;
  const adv = urls('--advertise-peer-urls', advertise, f.tls);
  for (const u of adv) {
    if (u.hostname === '0.0.0.0')
      throw bad(
        `--advertise-peer-urls '${u.href}' cannot be 0.0.0.0: other masters dial it; give the address they reach this master at`,
      );
  }
  const initial = f['initial-cluster'] || `${f.name}=${adv[0].origin}`;
  const entries = parseInitialCluster(initial, f.tls);
  const mine = entries.filter(([n]) => n === f.name).map(([, u]) => u);
  if (!mine.length) {
    throw bad(
      `--initial-cluster '${initial}' has no entry for this master (--name ${f.name}); add ${f.name}=${adv[0].origin} or fix --name`,
    );
  }
  const advSet = new Set(adv.map((u) => u.origin));
  if (!mine.some((u) => advSet.has(new URL(u).origin))) {
    throw bad(
      `--initial-cluster gives ${f.name}=${mine.join(',')}, but its --advertise-peer-urls is ${advertise}; make them the same`,
    );
  }
  const names = entries.map(([n]) => n);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw bad(`--initial-cluster names master '${dup}' twice`);
  const state = f['initial-cluster-state'] || 'new';
  if (state !== 'new' && state !== 'existing')
    throw bad(`--initial-cluster-state is '${state}'; use new or existing`);
  const p = peers[0];
  return {
    peerUrls: peer,
    advertisePeerUrls: advertise,
    initialCluster: initial,
    initialClusterState: state,
    clientAddr:
      f['etcd-client-addr'] ||
      `${p.hostname === '0.0.0.0' ? '127.0.0.1' : p.hostname}:${
        f.masterPort ? (f.masterPort > 55535 ? f.masterPort - 10000 : f.masterPort + 10000) : free.client
      }`,
  };
}

/** The --initial-cluster a master joining an existing cluster starts its member with: every
 * current member with a name, and the new one. */
export function joinedCluster(
  members: Array<{ name?: string; peerURLs?: string[] }>,
  name: string,
  peer: string,
): string {
  const others = members
    .filter((m) => m.name && m.name !== name)
    .map((m) => `${m.name}=${(m.peerURLs ?? []).join(',')}`);
  return [...others, `${name}=${peer}`].join(',');
}

/** Cluster flags that would be accepted and not acted on, or values the master cannot use: each
 * an error naming the flag (pure). `given` holds the flags and keys set (non-empty). */
export function refuseClusterFlags(given: Record<string, string | number | boolean | undefined>): void {
  const set = (k: string) => given[k] !== undefined && given[k] !== '' && given[k] !== 0;
  if (set('etcd-endpoints')) {
    const member = [
      'peer-urls',
      'advertise-peer-urls',
      'initial-cluster',
      'initial-cluster-state',
      'join',
      'etcd-client-addr',
      'auto-compaction-mode',
      'auto-compaction-retention',
      'quota-backend-bytes',
      'max-txn-ops',
      'max-request-bytes',
    ].filter(set);
    if (member.length)
      throw bad(
        `--etcd-endpoints uses an existing etcd cluster, so ${member.map((k) => `--${k}`).join(', ')} (for a member of this master's own) would do nothing: remove ${member.length > 1 ? 'them' : 'it'}, or remove --etcd-endpoints`,
      );
  }
  if (set('join') && (set('initial-cluster') || set('initial-cluster-state')))
    throw bad(
      '--join takes the cluster from the running masters, so --initial-cluster / --initial-cluster-state would do nothing: give one or the other',
    );
  const ttl = given['election-ttl'];
  if (ttl !== undefined && !(Number.isInteger(Number(ttl)) && Number(ttl) >= 1))
    throw bad(`--election-ttl is '${String(ttl)}'; give whole seconds, at least 1 (default 5)`);
}

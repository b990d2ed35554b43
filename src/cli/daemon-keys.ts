// The keys of dm-master's and dm-worker's TOML files (DM v2's): the ones used (with defaults), the
// ones accepted with a warning that says why they change nothing here, and the ones refused with
// the fix. test/unit/dm-keys.test.ts walks every DM key against these.
import type { Refused, RefusedIf } from './config-file.js';

/** DM's TLS keys between the processes (mutual TLS when all three files are given). */
const TLS_KEYS = { 'ssl-ca': '', 'ssl-cert': '', 'ssl-key': '', 'cert-allowed-cn': '' };

export const MASTER_DEFAULTS = {
  name: 'dm-master',
  'master-addr': '127.0.0.1:8261',
  'advertise-addr': '',
  'data-dir': '',
  'all-in-one': false,
  'secret-key-path': '',
  // the cluster of masters (DM's flags; defaults: one member, peer port = master port + 30)
  'peer-urls': '',
  'advertise-peer-urls': '',
  'initial-cluster': '',
  'initial-cluster-state': '',
  join: '',
  // ours: an existing etcd cluster instead of a member of this master's own
  'etcd-endpoints': '',
  'etcd-client-addr': '',
  // ours: the leader's lease in seconds (a new leader within about this after the old one dies)
  'election-ttl': 5,
  // DM's etcd tuning, passed to the member
  'auto-compaction-mode': '',
  'auto-compaction-retention': '',
  'quota-backend-bytes': 0,
  'max-txn-ops': 0,
  'max-request-bytes': 0,
  // DM's: serve DM's OpenAPI v1 under /api/v1 (on by default here)
  openapi: true,
  ...TLS_KEYS,
};
/** The keys of MASTER_DEFAULTS that are etcd flags of the same name (set when non-empty). */
export const ETCD_TUNING = [
  'auto-compaction-mode',
  'auto-compaction-retention',
  'quota-backend-bytes',
  'max-txn-ops',
  'max-request-bytes',
] as const;

export const MASTER_WARNED: Record<string, string> = {
  'rpc-timeout': 'has no effect: requests to workers time out after 60 s',
  'rpc-rate-limit': 'has no effect: requests are not rate limited',
  'rpc-rate-burst': 'has no effect: requests are not rate limited',
  experimental: 'has no effect: no experimental feature is behind it here',
};
export const MASTER_REFUSED_IF: RefusedIf = {};

// DM keys whose feature is not here yet: a file asking for it is refused with the fix.
export const MASTER_REFUSED: Refused = {
  'v1-sources-path':
    'importing the sources of a DM v1.0 cluster is not supported: create each source with dmctl operate-source create source.yaml.',
};

export const WORKER_REFUSED: Refused = {};

export const WORKER_DEFAULTS = {
  name: '',
  'worker-addr': '127.0.0.1:8262',
  'advertise-addr': '',
  join: '',
  'keepalive-ttl': 10,
  'relay-keepalive-ttl': 1800,
  'relay-dir': '',
  ...TLS_KEYS,
};
export const WORKER_WARNED: Record<string, string> = {};

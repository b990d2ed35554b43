// The keys of dm-master's and dm-worker's TOML files (DM v2's): the ones used (with defaults), the
// ones accepted with a warning that says why they change nothing here, and the ones refused with
// the fix. test/unit/dm-keys.test.ts walks every DM key against these.
import { TLS_REFUSED, type Refused, type RefusedIf } from './config-file.js';

export const MASTER_DEFAULTS = {
  name: 'dm-master',
  'master-addr': '127.0.0.1:8261',
  'advertise-addr': '',
  'data-dir': '',
  'all-in-one': false,
  'secret-key-path': '',
};
// DM keys that change nothing with one master (the etcd-backed cluster of masters is not built):
// accepted with a warning that says so; a file that lists several masters is refused.
const ONE_MASTER = 'has no effect: one dm-master runs (a cluster of masters on etcd is not supported yet)';
export const MASTER_WARNED: Record<string, string> = {
  'peer-urls': ONE_MASTER,
  'advertise-peer-urls': ONE_MASTER,
  'initial-cluster': ONE_MASTER,
  'initial-cluster-state': ONE_MASTER,
  'rpc-timeout': 'has no effect: requests to workers time out after 60 s',
  'rpc-rate-limit': 'has no effect: requests are not rate limited',
  'rpc-rate-burst': 'has no effect: requests are not rate limited',
  experimental: 'has no effect: no experimental feature is behind it here',
  'auto-compaction-mode': 'has no effect: the master keeps its state in a file, not etcd',
  'auto-compaction-retention': 'has no effect: the master keeps its state in a file, not etcd',
  'quota-backend-bytes': 'has no effect: the master keeps its state in a file, not etcd',
  'max-txn-ops': 'has no effect: the master keeps its state in a file, not etcd',
  'max-request-bytes': 'has no effect: the master keeps its state in a file, not etcd',
  openapi: "is false: DM's OpenAPI is not served (the HTTP API of docs/openapi.yaml is)",
};
export const MASTER_REFUSED_IF: RefusedIf = {
  'initial-cluster': {
    refuse: (v) =>
      String(v).split(',').filter(Boolean).length > 1 ? 'a cluster of several masters' : undefined,
    fix: 'List this master alone in initial-cluster (or remove it): master high availability is not built yet.',
  },
  openapi: {
    refuse: (v) => (v === true ? "DM's OpenAPI (openapi = true)" : undefined),
    fix: 'Remove openapi (or set it false) and use dmctl or the HTTP API of docs/openapi.yaml.',
  },
};

// DM keys whose feature is not here yet: a file asking for it is refused with the fix.
export const MASTER_REFUSED: Refused = {
  ...TLS_REFUSED,
  join: 'joining another dm-master (a cluster of masters) is not supported yet: run one dm-master and remove join.',
  'v1-sources-path':
    'importing the sources of a DM v1.0 cluster is not supported: create each source with dmctl operate-source create source.yaml.',
};

export const WORKER_REFUSED: Refused = TLS_REFUSED;

export const WORKER_DEFAULTS = {
  name: '',
  'worker-addr': '127.0.0.1:8262',
  'advertise-addr': '',
  join: '',
  'keepalive-ttl': 10,
  'relay-dir': '',
};
export const WORKER_WARNED: Record<string, string> = {
  'relay-keepalive-ttl': 'has no effect: the relay runs while its source is bound to this worker',
};

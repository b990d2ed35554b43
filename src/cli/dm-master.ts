#!/usr/bin/env -S node --max-semi-space-size=64
// dm-master: the control plane (DM v2 flags). With --all-in-one it also runs an in-process
// dm-worker for every source that has none, so one process migrates on a single machine.
//   dm-master --name master1 --master-addr 127.0.0.1:8261 --data-dir ./master1 [--all-in-one]
//   dm-master --config master.toml
import { stringify } from 'smol-toml';
import { fatal, TLS_REFUSED, type Refused, type RefusedIf } from './config-file.js';
import { closeOnSignal, daemonCommand, settings } from './daemon.js';
import { startMaster } from './serve.js';

const DEFAULTS = {
  name: 'dm-master',
  'master-addr': '127.0.0.1:8261',
  'advertise-addr': '',
  'data-dir': '',
  'all-in-one': false,
};
// DM keys that change nothing with one master (the etcd-backed cluster of masters is not built):
// accepted with a warning that says so; a file that lists several masters is refused.
const ONE_MASTER = 'has no effect: one dm-master runs (a cluster of masters on etcd is not supported yet)';
const WARNED = {
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
};
const REFUSED_IF: RefusedIf = {
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
const REFUSED: Refused = {
  ...TLS_REFUSED,
  join: 'joining another dm-master (a cluster of masters) is not supported yet: run one dm-master and remove join.',
};

async function main(): Promise<void> {
  const cmd = daemonCommand('dm-master')
    .option('--name <name>', 'this master’s name')
    .option('--master-addr <host:port>', 'address to serve dmctl and workers on (default 127.0.0.1:8261)')
    .option('--advertise-addr <host:port>', 'address workers and dmctl use to reach this master')
    .option('--data-dir <dir>', 'where the cluster state is kept (default default.<name>)')
    .option('--all-in-one', 'also run an in-process dm-worker for each source without one');
  const { s, log } = await settings(
    cmd,
    DEFAULTS,
    { ...WARNED, openapi: "is false: DM's OpenAPI is not served (the HTTP API of docs/openapi.yaml is)" },
    REFUSED,
    REFUSED_IF,
  );
  const running = await startMaster(s, log, stringify(s));
  process.stdout.write(`dm-master ${s.name} serving on ${running.addr}\n`);
  closeOnSignal(running.close);
}

main().catch(fatal);

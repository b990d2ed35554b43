#!/usr/bin/env -S node --max-semi-space-size=32
// dm-master: the control plane (DM v2 flags). With --all-in-one it also runs an in-process
// dm-worker for every source that has none, so one process migrates on a single machine.
//   dm-master --name master1 --master-addr 127.0.0.1:8261 --data-dir ./master1 [--all-in-one]
//   dm-master --config master.toml
import { stringify } from 'smol-toml';
import { fatal } from './config-file.js';
import {
  ETCD_TUNING,
  MASTER_DEFAULTS,
  MASTER_REFUSED,
  MASTER_REFUSED_IF,
  MASTER_WARNED,
} from './daemon-keys.js';
import { closeOnSignal, daemonCommand, settings, useProcessTls } from './daemon.js';
import { processTls } from '../api/process-tls.js';
import { DMError, ERR } from '../errors.js';
import { startMaster } from './serve-master.js';

async function main(): Promise<void> {
  const cmd = daemonCommand('dm-master')
    .option('--name <name>', 'this master’s name')
    .option('--master-addr <host:port>', 'address to serve dmctl and workers on (default 127.0.0.1:8261)')
    .option('--advertise-addr <host:port>', 'address workers and dmctl use to reach this master')
    .option('--data-dir <dir>', "this master's etcd member data and logs (default default.<name>)")
    .option('--peer-urls <urls>', "its etcd member's peer URLs (default http://127.0.0.1:<master port + 30>)")
    .option('--advertise-peer-urls <urls>', 'the peer URLs other masters dial (default --peer-urls)')
    .option('--initial-cluster <name=url,…>', 'the masters of a new cluster (default: this one alone)')
    .option('--initial-cluster-state <new|existing>', 'new (default) or existing')
    .option('--join <host:port,…>', 'join the cluster of these running masters')
    .option('--etcd-endpoints <host:port,…>', 'use this etcd cluster instead of a member of its own (ours)')
    .option(
      '--etcd-client-addr <host:port>',
      "its etcd member's client address (default: master port + 10000; ours)",
    )
    .option('--election-ttl <seconds>', "the leader's lease (default 5; ours)", Number)
    .option('--secret-key-path <file>', 'a file with the hex AES-256 key for encrypted passwords (DM v6)')
    .option('--all-in-one', 'also run an in-process dm-worker for each source without one');
  const { s, log } = await settings(cmd, MASTER_DEFAULTS, MASTER_WARNED, MASTER_REFUSED, MASTER_REFUSED_IF);
  useProcessTls(s, 'dm-master', String(s['master-addr']), log);
  if (processTls() && s['etcd-endpoints'])
    throw new DMError(ERR.tlsConfig, {
      message:
        'dm-master: ssl-* with --etcd-endpoints is not supported: the external etcd would be reached in plaintext',
      workaround:
        "Let the masters run their own etcd members (they use the masters' TLS), or drop the ssl-* keys.",
    });
  const etcdTuning = Object.fromEntries(ETCD_TUNING.filter((k) => s[k]).map((k) => [k, s[k]]));
  const running = await startMaster({ ...s, etcdTuning }, log, stringify(s));
  process.stdout.write(`dm-master ${s.name} serving on ${running.addr}\n`);
  closeOnSignal(running.close);
}

main().catch(fatal);

#!/usr/bin/env node
// dm-master: the control plane (DM v2 flags). With --all-in-one it also runs an in-process
// dm-worker for every source that has none, so one process migrates on a single machine.
//   dm-master --name master1 --master-addr 127.0.0.1:8261 --data-dir ./master1 [--all-in-one]
//   dm-master --config master.toml
import { Command } from 'commander';
import { stringify } from 'smol-toml';
import { initLog } from '../log.js';
import { fatal, merge, readToml, type Settings } from './config-file.js';
import { startMaster, type MasterSettings } from './serve.js';

const DEFAULTS = {
  name: 'dm-master',
  'master-addr': '127.0.0.1:8261',
  'advertise-addr': '',
  'data-dir': '',
  'all-in-one': false,
  'log-level': 'info',
  'log-file': '',
};
// DM keys for an etcd-backed cluster of masters: accepted so DM's files load; one master here.
const IGNORED = [
  'peer-urls',
  'advertise-peer-urls',
  'initial-cluster',
  'initial-cluster-state',
  'join',
  'rpc-timeout',
  'rpc-rate-limit',
  'rpc-rate-burst',
  'ssl-ca',
  'ssl-cert',
  'ssl-key',
  'cert-allowed-cn',
  'openapi',
  'experimental',
];

async function main(): Promise<void> {
  const cmd = new Command('dm-master')
    .option('--config <file>', 'master.toml')
    .option('--name <name>', 'this master’s name')
    .option('--master-addr <host:port>', 'address to serve dmctl and workers on (default 127.0.0.1:8261)')
    .option('--advertise-addr <host:port>', 'address workers and dmctl use to reach this master')
    .option('--data-dir <dir>', 'where the cluster state is kept (default default.<name>)')
    .option('--all-in-one', 'also run an in-process dm-worker for each source without one')
    .option('--log-level <level>', 'debug, info, warn, error')
    .option('--log-file <file>', 'write logs to this file instead of stderr')
    .showHelpAfterError()
    .parse();
  const flags = cmd.opts<Record<string, unknown>>();
  const file: Settings = flags.config
    ? await readToml(String(flags.config), Object.keys(DEFAULTS), IGNORED)
    : {};
  const s = merge(DEFAULTS, file, flags);
  const log = initLog({ level: s['log-level'], file: s['log-file'] });
  const running = await startMaster(s as MasterSettings, log, stringify(s));
  process.stdout.write(`dm-master ${s.name} serving on ${running.addr}\n`);
  const stop = () => {
    setTimeout(() => process.exit(0), 10_000).unref();
    void running.close().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch(fatal);

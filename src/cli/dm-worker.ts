#!/usr/bin/env node
// dm-worker: runs the source the master binds to it (DM v2 flags).
//   dm-worker --name worker1 --worker-addr 127.0.0.1:8262 --join 127.0.0.1:8261
//   dm-worker --config worker.toml
import { Command } from 'commander';
import { initLog } from '../log.js';
import { fatal, merge, readToml, type Settings } from './config-file.js';
import { startWorker, type WorkerSettings } from './serve.js';

const DEFAULTS = {
  name: '',
  'worker-addr': '127.0.0.1:8262',
  'advertise-addr': '',
  join: '',
  'keepalive-ttl': 10,
  'log-level': 'info',
  'log-file': '',
};
const IGNORED = ['relay-keepalive-ttl', 'relay-dir', 'ssl-ca', 'ssl-cert', 'ssl-key', 'cert-allowed-cn'];

async function main(): Promise<void> {
  const cmd = new Command('dm-worker')
    .option('--config <file>', 'worker.toml')
    .option('--name <name>', 'this worker’s name (default: its address)')
    .option('--worker-addr <host:port>', 'address the master reaches this worker on (default 127.0.0.1:8262)')
    .option('--advertise-addr <host:port>', 'address to announce to the master')
    .option('--join <host:port>', 'the dm-master to register with')
    .option('--keepalive-ttl <seconds>', 'offline after this long without heartbeats (default 10)', Number)
    .option('--log-level <level>', 'debug, info, warn, error')
    .option('--log-file <file>', 'write logs to this file instead of stderr')
    .showHelpAfterError()
    .parse();
  const flags = cmd.opts<Record<string, unknown>>();
  const file: Settings = flags.config
    ? await readToml(String(flags.config), Object.keys(DEFAULTS), IGNORED)
    : {};
  const s = merge(DEFAULTS, file, flags);
  if (!s.join) throw new Error('--join is required: the dm-master address, e.g. --join 127.0.0.1:8261');
  if (!(Number(s['keepalive-ttl']) > 0)) throw new Error('--keepalive-ttl must be a number of seconds > 0');
  const log = initLog({ level: s['log-level'], file: s['log-file'] });
  const running = await startWorker(s as WorkerSettings, log);
  process.stdout.write(`dm-worker ${running.worker.name} serving on ${running.addr}, joining ${s.join}\n`);
  const stop = () => {
    setTimeout(() => process.exit(0), 10_000).unref();
    void running.close().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch(fatal);

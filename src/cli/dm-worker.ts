#!/usr/bin/env -S node --max-semi-space-size=32
// dm-worker: runs the source the master binds to it (DM v2 flags).
//   dm-worker --name worker1 --worker-addr 127.0.0.1:8262 --join 127.0.0.1:8261
//   dm-worker --config worker.toml
import { DMError, ERR } from '../errors.js';
import { fatal } from './config-file.js';
import { WORKER_DEFAULTS, WORKER_REFUSED, WORKER_WARNED } from './daemon-keys.js';
import { closeOnSignal, daemonCommand, settings, useProcessTls } from './daemon.js';
import { startWorker } from './serve.js';

async function main(): Promise<void> {
  const cmd = daemonCommand('dm-worker')
    .option('--name <name>', 'this worker’s name (default: its address)')
    .option('--worker-addr <host:port>', 'address the master reaches this worker on (default 127.0.0.1:8262)')
    .option('--advertise-addr <host:port>', 'address to announce to the master')
    .option('--join <host:port>', 'the dm-master to register with')
    .option('--keepalive-ttl <seconds>', 'offline after this long without heartbeats (default 10)', Number)
    .option(
      '--relay-keepalive-ttl <seconds>',
      'the same while its source runs a relay (default 1800)',
      Number,
    )
    .option('--relay-dir <dir>', "where relay logs go (<dir>/<source-id>; default: the source's relay-dir)");
  const { s, log } = await settings(cmd, WORKER_DEFAULTS, WORKER_WARNED, WORKER_REFUSED);
  useProcessTls(s, 'dm-worker', s['worker-addr'], log);
  if (!s.join)
    throw new DMError(
      ERR.dmctlUsage,
      '--join is required: the dm-master address, e.g. --join 127.0.0.1:8261',
    );
  for (const k of ['keepalive-ttl', 'relay-keepalive-ttl'] as const) {
    if (!(Number(s[k]) > 0)) throw new DMError(ERR.dmctlUsage, `--${k} must be a number of seconds > 0`);
  }
  const running = await startWorker(s, log);
  process.stdout.write(`dm-worker ${running.worker.name} serving on ${running.addr}, joining ${s.join}\n`);
  closeOnSignal(running.close);
}

main().catch(fatal);

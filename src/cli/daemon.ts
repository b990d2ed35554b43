// What dm-master and dm-worker share: the --config/--log-level/--log-file options, settings from
// the TOML file under the flags, and a shutdown on SIGINT/SIGTERM bounded to 10 s.
import { processTls, readProcessTls, setProcessTls } from '../api/process-tls.js';
import { Command } from 'commander';
import { initLog, type Logger } from '../log.js';
import { merge, readToml, type Refused, type RefusedIf, type Settings, type Warned } from './config-file.js';

export function daemonCommand(name: string): Command {
  return new Command(name)
    .option('--config <file>', `${name.replace('dm-', '')}.toml`)
    .option('--log-level <level>', 'debug, info, warn, error')
    .option('--log-file <file>', 'write logs to this file instead of stderr')
    .option('--ssl-ca <file>', 'TLS: the CA of every dm process (with --ssl-cert and --ssl-key: mutual TLS)')
    .option('--ssl-cert <file>', "TLS: this process's certificate")
    .option('--ssl-key <file>', "TLS: this process's key")
    .option(
      '--cert-allowed-cn <names>',
      "TLS: the clients' certificate common names accepted (comma-separated)",
    )
    .showHelpAfterError();
}

/** TLS between the processes, from the settings (every call and the server of this process). */
export function useProcessTls(s: Settings, who: string, addr: string, log: Logger): void {
  setProcessTls(readProcessTls(s as Parameters<typeof readProcessTls>[0], who));
  if (!processTls() && !/^(127\.|localhost:|\[::1\]:)/.test(addr))
    log.warn(
      `${who} serves plain HTTP on ${addr}: anyone who reaches it can drive the cluster; give ssl-ca, ssl-cert and ssl-key (mutual TLS), or bind to 127.0.0.1`,
    );
}

/** Parses the command line; returns the settings (flags over file over defaults) and the log. */
export async function settings<T extends Settings>(
  cmd: Command,
  defaults: T,
  warned: Warned,
  refused: Refused = {},
  refusedIf: RefusedIf = {},
): Promise<{ s: T & { 'log-level': string; 'log-file': string }; log: Logger }> {
  cmd.parse();
  const flags = cmd.opts<Record<string, unknown>>();
  const all = { 'log-level': 'info', 'log-file': '', ...defaults };
  const warnings: string[] = [];
  const file: Settings = flags.config
    ? await readToml(String(flags.config), Object.keys(all), warned, refused, warnings, refusedIf)
    : {};
  const s = merge(all, file, flags);
  const log = initLog({ level: s['log-level'], file: s['log-file'] });
  for (const w of warnings) log.warn(`config: ${w}`);
  return { s, log };
}

/** Closes the daemon on SIGINT/SIGTERM (exiting after 10 s at most: checkpoints make any moment
 * safe to stop at). */
export function closeOnSignal(close: () => Promise<void>): void {
  const stop = () => {
    setTimeout(() => process.exit(0), 10_000).unref();
    void close().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** Node flags dm-master and dm-worker run with (their shebang; the benchmarks' run-task too): a
 * young generation of 32 MiB, as Sync's transactions in flight outlive the default 16 MiB one's
 * scavenges (measured on bench:incremental: 133 scavenges, 0.83 s at 16 MiB, 44, 0.47 s at
 * 64 MiB); not more, as it counts in the peak memory (bench:scale's 1M-row transaction: peak RSS
 * 271 MB at 16 MiB, 282 MB at 32, 378 MB at 64). */
export const NODE_FLAGS = ['--max-semi-space-size=32'];

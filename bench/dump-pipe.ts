// The peer of a full migration: `mariadb-dump --single-transaction --databases sbtest | mariadb`
// between two sandbox servers. Used to measure against, and to seed identical targets.
import { spawn } from 'node:child_process';
import { findExecutable, type MariaDBSandbox } from '../src/sandbox/mariadb.js';

/** Copies database sbtest from `up` to `down`; resolves with the bytes of SQL that went through. */
export async function dumpPipe(up: MariaDBSandbox, down: MariaDBSandbox): Promise<number> {
  const dump = spawn(
    findExecutable(['mariadb-dump', 'mysqldump'])!,
    [
      '--no-defaults',
      '-h127.0.0.1',
      `-P${up.port}`,
      '-uroot',
      '--single-transaction',
      '--databases',
      'sbtest',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const load = spawn(
    findExecutable(['mariadb', 'mysql'])!,
    ['--no-defaults', '-h127.0.0.1', `-P${down.port}`, '-uroot'],
    {
      stdio: ['pipe', 'inherit', 'inherit'],
    },
  );
  let bytes = 0;
  dump.stdout.on('data', (c: Buffer) => (bytes += c.length));
  dump.stdout.pipe(load.stdin);
  const codes = await Promise.all([
    new Promise<number | null>((r) => dump.on('exit', r)),
    new Promise<number | null>((r) => load.on('exit', r)),
  ]);
  if (codes.some((c) => c !== 0)) throw new Error(`mariadb-dump | mariadb failed: ${codes.join(', ')}`);
  return bytes;
}

// Running sysbench oltp_write_only against a sandbox server, shared by the benchmarks.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { findExecutable, type MariaDBSandbox } from '../src/sandbox/mariadb.js';

const execFileP = promisify(execFile);

export interface SysbenchTables {
  tables: number;
  rows: number;
}

/** `sysbench oltp_write_only <cmd>` on database sbtest (created by `prepare`). */
export async function sysbench(
  s: MariaDBSandbox,
  cmd: 'prepare' | 'run',
  t: SysbenchTables,
  extra: string[] = [],
): Promise<void> {
  const bin = findExecutable(['sysbench']);
  if (!bin)
    throw new Error("sysbench not found: run 'bash scripts/setup.sh --bench' (apt-get install -y sysbench)");
  if (cmd === 'prepare') await s.exec('CREATE DATABASE IF NOT EXISTS sbtest');
  await execFileP(
    bin,
    [
      'oltp_write_only',
      '--db-driver=mysql',
      '--mysql-host=127.0.0.1',
      `--mysql-port=${s.port}`,
      '--mysql-user=root',
      '--mysql-password=',
      '--mysql-db=sbtest',
      `--tables=${t.tables}`,
      `--table-size=${t.rows}`,
      ...extra,
      cmd,
    ],
    { maxBuffer: 64 << 20 },
  );
}

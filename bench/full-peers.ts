// The peers of a full migration besides `mariadb-dump | mariadb`: mydumper + myloader (4 threads
// each; myloader with -e writes the target's binlog as this project does, its default does not),
// and the ingest limit of the machine: `mariadb-dump --tab` (tab-separated files, written by the
// server) then `LOAD DATA LOCAL INFILE` of every table at once, the target's binlog on.
import { execFile, spawn } from 'node:child_process';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findExecutable, type MariaDBSandbox } from '../src/sandbox/mariadb.js';

const run = promisify(execFile);

export interface Timed {
  seconds: number;
  /** Parts of the time (the dump, the load). */
  parts: Record<string, number>;
}

function need(names: string[], setup: string): string {
  const bin = findExecutable(names);
  if (!bin) throw new Error(`${names[0]} not found: run 'bash scripts/setup.sh --bench' (${setup})`);
  return bin;
}

const now = () => Number(process.hrtime.bigint()) / 1e9;

/** mydumper -t 4 then myloader -t 4 (with -e when `binlog`). */
export async function mydumperCopy(
  up: MariaDBSandbox,
  down: MariaDBSandbox,
  dir: string,
  binlog: boolean,
  db = 'sbtest',
): Promise<Timed> {
  const mydumper = need(['mydumper'], 'apt-get install -y mydumper');
  const myloader = need(['myloader'], 'apt-get install -y mydumper');
  await rm(dir, { recursive: true, force: true });
  const t0 = now();
  await run(mydumper, [
    '-h',
    '127.0.0.1',
    '-P',
    String(up.port),
    '-u',
    'root',
    '-t',
    '4',
    '-B',
    db,
    '-o',
    dir,
    '--trx-consistency-only',
  ]);
  const t1 = now();
  await run(myloader, [
    '-h',
    '127.0.0.1',
    '-P',
    String(down.port),
    '-u',
    'root',
    '-t',
    '4',
    '-d',
    dir,
    ...(binlog ? ['-e'] : []),
  ]);
  const t2 = now();
  return { seconds: t2 - t0, parts: { dump: t1 - t0, load: t2 - t1 } };
}

/** The machine's ingest limit: a tab dump by the upstream server, then every table's file through
 * LOAD DATA LOCAL INFILE at once (the target's binlog on). */
export async function loadDataIngest(up: MariaDBSandbox, down: MariaDBSandbox, dir: string): Promise<Timed> {
  const dump = need(['mariadb-dump', 'mysqldump'], 'apt-get install -y mariadb-client');
  const client = need(['mariadb', 'mysql'], 'apt-get install -y mariadb-client');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o777 });
  const t0 = now();
  await run(dump, [
    '--no-defaults',
    '-h127.0.0.1',
    `-P${up.port}`,
    '-uroot',
    '--single-transaction',
    `--tab=${dir}`,
    'sbtest',
  ]);
  const t1 = now();
  const files = (await readdir(dir)).filter((f) => f.endsWith('.txt'));
  await down.exec('CREATE DATABASE IF NOT EXISTS sbtest');
  for (const f of files) {
    const sql = join(dir, f.replace(/\.txt$/, '.sql'));
    await run(client, [
      '--no-defaults',
      '-h127.0.0.1',
      `-P${down.port}`,
      '-uroot',
      'sbtest',
      '-e',
      `source ${sql}`,
    ]);
  }
  const t2 = now();
  await Promise.all(
    files.map(
      (f) =>
        new Promise<void>((resolve, reject) => {
          const table = f.replace(/\.txt$/, '');
          const c = spawn(
            client,
            [
              '--no-defaults',
              '--local-infile=1',
              '-h127.0.0.1',
              `-P${down.port}`,
              '-uroot',
              'sbtest',
              '-e',
              `LOAD DATA LOCAL INFILE '${join(dir, f)}' INTO TABLE \`${table}\``,
            ],
            { stdio: ['ignore', 'inherit', 'inherit'] },
          );
          c.on('exit', (code) =>
            code === 0 ? resolve() : reject(new Error(`LOAD DATA of ${table} failed (${code})`)),
          );
        }),
    ),
  );
  const t3 = now();
  return { seconds: t3 - t0, parts: { dump: t1 - t0, create: t2 - t1, load: t3 - t2 } };
}

// Shared test harness: real MariaDB servers on 127.0.0.1, each with its own datadir and port,
// binlog ROW / FULL image / FULL metadata, GTID strict mode, unique server_id; stopped by PID.
import { after } from 'node:test';
import { MariaDBSandbox, type SandboxOptions } from '../../src/sandbox/mariadb.js';
import { BinlogClient, type BinlogClientOptions } from '../../src/binlog/client.js';

export { MariaDBSandbox };

/** Starts a server for the current test file; it is destroyed when the file's tests end. */
export async function server(opts: SandboxOptions = {}): Promise<MariaDBSandbox> {
  const s = new MariaDBSandbox(opts);
  after(() => s.destroy());
  return s.start();
}

export async function masterStatus(s: MariaDBSandbox): Promise<{ file: string; pos: number; gtid: string }> {
  const rows = (await s.exec('SHOW MASTER STATUS; SELECT @@gtid_binlog_pos AS g')) as [
    { File: string; Position: string }[],
    { g: string }[],
  ];
  return { file: rows[0][0].File, pos: Number(rows[0][0].Position), gtid: rows[1][0].g };
}

let nextReplicaId = 100_000;

export function client(
  s: MariaDBSandbox,
  start: BinlogClientOptions['start'],
  extra: Partial<BinlogClientOptions> = {},
): BinlogClient {
  return new BinlogClient({ ...s.connectionOptions(), serverId: nextReplicaId++, start, ...extra });
}

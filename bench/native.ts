// Native MariaDB replication as the peer of Sync's apply: a replica applies the upstream's binlog
// between two positions with slave_parallel_threads, timed with the CPU it cost.
import { readFile } from 'node:fs/promises';
import type { MariaDBSandbox } from '../src/sandbox/mariadb.js';
import { comparePosition, type BinlogPosition } from '../src/binlog/position.js';

/** CPU seconds (user + system) a process has used so far (Linux). */
export async function cpuSeconds(pid: number | undefined): Promise<number> {
  if (!pid) return 0;
  const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

export async function native(
  up: MariaDBSandbox,
  down: MariaDBSandbox,
  from: BinlogPosition,
  to: BinlogPosition,
  threads: number,
): Promise<Result> {
  await down.exec(`SET GLOBAL slave_parallel_threads = ${threads}; SET GLOBAL slave_parallel_mode = 'optimistic';
    CHANGE MASTER TO master_host = '127.0.0.1', master_port = ${up.port}, master_user = 'root', master_password = '',
      master_log_file = '${from.file}', master_log_pos = ${from.pos}, master_use_gtid = no`);
  const cpu0 = await cpuSeconds(down.pid);
  const started = Date.now();
  await down.exec('START SLAVE');
  for (;;) {
    const [st] = (await down.exec('SHOW SLAVE STATUS')) as Record<string, string>[];
    if (st.Last_SQL_Error || st.Last_IO_Error)
      throw new Error(`native replication failed: ${st.Last_SQL_Error || st.Last_IO_Error}`);
    if (comparePosition({ file: st.Relay_Master_Log_File, pos: Number(st.Exec_Master_Log_Pos) }, to) >= 0)
      break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const seconds = (Date.now() - started) / 1000;
  const cpu = (await cpuSeconds(down.pid)) - cpu0;
  await down.exec('STOP SLAVE');
  return { seconds, cpu };
}

/** Wall time of an apply, and the CPU seconds it cost: the target's, and the applier's own. */
export interface Result {
  seconds: number;
  cpu: number;
  own?: number;
}

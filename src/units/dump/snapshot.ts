// A consistent snapshot of the upstream shared by several connections: FLUSH TABLES WITH READ
// LOCK briefly, every connection starts a consistent-snapshot transaction, the binlog position and
// GTID set are read, the lock is released. Without the RELOAD privilege the lock is not allowed:
// then one connection dumps alone from its own snapshot (MariaDB reports that snapshot's exact
// binlog position), with a warning.
import { DMError, ERR } from '../../errors.js';
import type { Logger } from '../../log.js';
import { openConnection, privilegeError, upstreamRole, type Endpoint } from '../../mysql/connect.js';
import { isServerError, type PacketConnection } from '../../mysql/protocol.js';
import { ER, PRIVILEGE } from '../../mysql/errno.js';

const ROLE = upstreamRole();

export interface Snapshot {
  /** Connections inside the snapshot transaction, ready to SELECT. */
  conns: PacketConnection[];
  binlogName: string;
  binlogPos: number;
  gtid: string;
  flavor: 'mysql' | 'mariadb';
  /** Runs `f` while DDL is blocked (under the lock), or at once when the lock was not allowed. */
  locked: boolean;
}

async function sessionSetup(c: PacketConnection, utc: boolean): Promise<void> {
  await c.exec('SET NAMES binary');
  if (utc) await c.exec("SET SESSION time_zone = '+00:00'");
  await c.exec('SET SESSION net_write_timeout = 7200');
  await c.exec('SET SESSION wait_timeout = 28800');
  if (c.flavor === 'mariadb') await c.exec('SET SESSION max_statement_time = 0');
  await c.exec('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
}

async function masterStatus(
  c: PacketConnection,
  user: string,
): Promise<{ file: string; pos: number; gtid: string }> {
  let rows: Record<string, string | null>[];
  try {
    rows = await c.query('SHOW MASTER STATUS');
  } catch (e) {
    throw privilegeError(
      e,
      ROLE,
      user,
      'read the binlog position (SHOW MASTER STATUS)',
      'GRANT REPLICATION CLIENT ON *.* TO {user}',
    );
  }
  if (!rows.length) {
    throw new DMError(ERR.dumpGlobalLock, {
      message:
        'the upstream has no binary log (SHOW MASTER STATUS is empty), so incremental replication cannot follow it',
      workaround: 'Start the upstream with log_bin=ON, binlog_format=ROW and binlog_row_image=FULL.',
    });
  }
  const gtidVar = c.flavor === 'mariadb' ? '@@global.gtid_binlog_pos' : '@@global.gtid_executed';
  const g = await c.query(`SELECT ${gtidVar} AS g`);
  return {
    file: rows[0].File ?? '',
    pos: Number(rows[0].Position),
    gtid: (g[0]?.g ?? '').replace(/\s+/g, ''),
  };
}

/** How long one FLUSH TABLES WITH READ LOCK may wait (seconds), and how often it is tried. */
const FTWRL_WAIT_S = 2;
const FTWRL_TRIES = 30;

/** Takes the snapshot with up to `threads` connections; `underLock` runs while DDL is blocked. */
export async function takeSnapshot(
  ep: Endpoint,
  threads: number,
  utc: boolean,
  log: Logger,
  underLock: (c: PacketConnection) => Promise<void>,
): Promise<Snapshot> {
  const lockConn = await openConnection(ep, ROLE);
  const conns: PacketConnection[] = [];
  try {
    await sessionSetup(lockConn, utc);
    let locked = true;
    // FLUSH TABLES WITH READ LOCK blocks writes and commits while it waits for running statements;
    // one of those may itself wait for a row lock held by a transaction that now cannot commit:
    // the upstream's applications would stall until innodb_lock_wait_timeout and fail. So it
    // waits at most FTWRL_WAIT_S, lets everything go on, and tries again a little later.
    await lockConn.exec(`SET SESSION lock_wait_timeout = ${FTWRL_WAIT_S}`);
    for (let attempt = 1; ; attempt++) {
      try {
        await lockConn.exec('FLUSH TABLES WITH READ LOCK');
        break;
      } catch (e) {
        if (isServerError(e, ER.LOCK_WAIT_TIMEOUT)) {
          if (attempt >= FTWRL_TRIES) {
            throw new DMError(ERR.dumpGlobalLock, {
              message: `FLUSH TABLES WITH READ LOCK could not be taken in ${FTWRL_TRIES} tries of ${FTWRL_WAIT_S} s: statements on the upstream keep running (long queries or transactions waiting for each other)`,
              workaround:
                'Look for long-running statements in SHOW PROCESSLIST on the upstream; the dump is retried automatically.',
              retryable: true,
              cause: e,
            });
          }
          log.warn(
            { attempt, waitS: FTWRL_WAIT_S },
            "dump: FLUSH TABLES WITH READ LOCK waited for running statements; released it so the upstream's writes go on, trying again",
          );
          await new Promise((r) => setTimeout(r, Math.min(5000, 250 * attempt)));
          continue;
        }
        if (!isServerError(e, PRIVILEGE)) throw e;
        locked = false;
        log.warn(
          { err: e.message },
          'FLUSH TABLES WITH READ LOCK is not allowed (the user lacks RELOAD): dumping with one connection from a single consistent snapshot; grant RELOAD for a parallel dump',
        );
        break;
      }
    }
    if (!locked) {
      await lockConn.exec('START TRANSACTION WITH CONSISTENT SNAPSHOT');
      const pos = await snapshotPosition(lockConn, ep.user);
      await underLock(lockConn);
      return { conns: [lockConn], ...pos, flavor: lockConn.flavor, locked };
    }
    for (let i = 0; i < threads; i++) {
      const c = await openConnection(ep, ROLE);
      conns.push(c);
      await sessionSetup(c, utc);
      await c.exec('START TRANSACTION WITH CONSISTENT SNAPSHOT');
    }
    const st = await masterStatus(lockConn, ep.user);
    await underLock(lockConn);
    await lockConn.exec('UNLOCK TABLES');
    lockConn.close();
    return { conns, binlogName: st.file, binlogPos: st.pos, gtid: st.gtid, flavor: lockConn.flavor, locked };
  } catch (e) {
    lockConn.close();
    for (const c of conns) c.close();
    throw e;
  }
}

/** The binlog position of this connection's snapshot (exact on MariaDB; SHOW MASTER STATUS on MySQL). */
async function snapshotPosition(
  c: PacketConnection,
  user: string,
): Promise<{ binlogName: string; binlogPos: number; gtid: string }> {
  if (c.flavor === 'mariadb') {
    const rows = await c.query("SHOW STATUS LIKE 'binlog_snapshot_%'");
    const v = (n: string) => rows.find((r) => r.Variable_name?.toLowerCase() === n)?.Value ?? '';
    const file = v('binlog_snapshot_file');
    const pos = Number(v('binlog_snapshot_position'));
    if (file) {
      const g = await c.query(`SELECT BINLOG_GTID_POS('${file.replace(/'/g, "''")}', ${pos}) AS g`);
      return { binlogName: file, binlogPos: pos, gtid: g[0]?.g ?? '' };
    }
  }
  const st = await masterStatus(c, user);
  return { binlogName: st.file, binlogPos: st.pos, gtid: st.gtid };
}

// Opening raw protocol connections to an upstream or the target for a unit, with the errors an
// operator can act on: unreachable (retryable), wrong credentials, missing privileges.
import { DMError, ERR } from '../errors.js';
import { PRIVILEGE } from './errno.js';
import {
  ConnectionLost,
  isServerError,
  PacketConnection,
  type ConnectionRole,
  type SqlSession,
} from './protocol.js';
import type { TlsSpec } from './tls.js';

export interface Endpoint {
  host: string;
  port: number;
  user: string;
  password: string;
  session?: Record<string, string>;
  /** TLS (DM's `security`). */
  tls?: TlsSpec;
  /** Offer LOAD DATA LOCAL INFILE (the Load's sessions). */
  localInfile?: boolean;
}

export function upstreamRole(): ConnectionRole {
  return {
    scope: 'upstream',
    configHint: "'from.host', 'from.user' and 'from.password' in the source config",
  };
}

export function downstreamRole(): ConnectionRole {
  return { scope: 'downstream', configHint: "'target-database' in the task config" };
}

/** Opens and authenticates a connection, then applies the configured session variables. */
export async function openConnection(ep: Endpoint, role: ConnectionRole): Promise<PacketConnection> {
  // A small read buffer per connection keeps a parallel dump's memory bounded whatever the table size.
  const conn = new PacketConnection({ ...ep, role, highWaterMark: 8 << 20 });
  try {
    await conn.open();
  } catch (e) {
    if (e instanceof ConnectionLost) {
      throw new DMError(role.scope === 'upstream' ? ERR.upstreamUnreachable : ERR.downstreamUnreachable, {
        message: `${role.scope} ${e.message}`,
        workaround: `Check ${role.configHint} and that the server is running.`,
        cause: e,
      });
    }
    throw e;
  }
  if (role.scope === 'downstream') {
    const r = await conn.query('SELECT @@max_allowed_packet m');
    conn.maxAllowedPacket = Number(r[0]?.m) || undefined;
  }
  for (const [k, v] of Object.entries(ep.session ?? {})) {
    await conn.exec(`SET SESSION ${k} = ${quoteValue(v)}`); // names checked with the config (session.ts)
  }
  return conn;
}

function quoteValue(v: string): string {
  return /^-?\d+(\.\d+)?$/.test(v) ? v : `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A privilege error from the server, turned into an error naming the GRANT that fixes it. */
export function privilegeError(
  e: unknown,
  role: ConnectionRole,
  user: string,
  what: string,
  grant: string,
): unknown {
  if (isServerError(e, PRIVILEGE)) {
    return new DMError(role.scope === 'upstream' ? ERR.upstreamPrivilege : ERR.downstreamPrivilege, {
      message: `the ${role.scope} user '${user}' may not ${what}: ${e.message}`,
      workaround: `Grant it, e.g. ${grant.replace('{user}', `'${user}'@'%'`)}, or use a user that has it.`,
      cause: e,
    });
  }
  return e;
}

/** Quotes an identifier with backticks. */
export function quoteId(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}

export function quoteTable(db: string, table: string): string {
  return `${quoteId(db)}.${quoteId(table)}`;
}

/** A SQL string literal (backslash escapes; for UTF-8 text used in our own statements). */
export function quoteString(s: string): string {
  // eslint-disable-next-line no-control-regex
  return `'${s.replace(/[\0\n\r\\'"\x1a]/g, (c) => ({ '\0': '\\0', '\n': '\\n', '\r': '\\r', '\x1a': '\\Z' })[c] ?? '\\' + c)}'`;
}

/** The server's binlog position and GTID set now (SHOW MASTER STATUS; undefined without binlog). */
export async function masterStatus(
  c: SqlSession,
): Promise<{ pos: { file: string; pos: number }; gtid: string } | undefined> {
  const rows = await c.query('SHOW MASTER STATUS');
  if (!rows[0]) return undefined;
  const g = await c.query(
    c.flavor === 'mariadb' ? 'SELECT @@global.gtid_binlog_pos g' : 'SELECT @@global.gtid_executed g',
  );
  return {
    pos: { file: rows[0].File!, pos: Number(rows[0].Position) },
    gtid: (g[0]?.g ?? '').replace(/\s+/g, ''),
  };
}

/** What tells one server instance from another: @@server_uuid (MySQL), or MariaDB's host name,
 * port, data directory and server_id (it has no uuid). */
export async function serverIdentity(c: PacketConnection): Promise<string> {
  const r = await c.query(
    c.flavor === 'mariadb'
      ? "SELECT CONCAT_WS(' ', @@hostname, @@port, @@datadir, @@server_id) i"
      : 'SELECT @@server_uuid i',
  );
  return String(r[0]?.i ?? '');
}

/** The id DM names a server's relay sub-directory by: @@server_uuid (MySQL), or
 * `<gtid_domain_id>-<server_id>` (MariaDB, which has no server uuid). */
export async function serverUuid(c: PacketConnection): Promise<string> {
  if (c.flavor === 'mariadb') {
    const r = await c.query('SELECT @@global.gtid_domain_id d, @@global.server_id s');
    return `${r[0]?.d}-${r[0]?.s}`;
  }
  const r = await c.query('SELECT @@global.server_uuid u');
  return String(r[0]?.u);
}

// A minimal MySQL client-server protocol connection: handshake and authentication
// (mysql_native_password, caching_sha2_password, MariaDB's client_ed25519), text queries on raw bytes, streamed result sets,
// and a packet stream with backpressure. Every SQL connection of dm-ts is one of these (the binlog
// client, the dump, the load, Sync, the precheck, the master): bytes go exactly as the server
// sends or takes them. mysql2 is used only by the test and playground sandbox (src/sandbox/).
import { ER } from './errno.js';
import { connect, type Socket } from 'node:net';
import { createHash, publicEncrypt, constants as cryptoConstants } from 'node:crypto';
import { DMError, type ErrorScope, ERR } from '../errors.js';
import { MAX_PAYLOAD, PacketFramer } from './framing.js';
import { noTls, upgrade, type TlsSpec } from './tls.js';
import { ed25519Sign } from './ed25519.js';

// Capability flags
const CLIENT_LONG_PASSWORD = 0x1;
const CLIENT_LONG_FLAG = 0x4;
const CLIENT_LOCAL_FILES = 0x80;
const CLIENT_PROTOCOL_41 = 0x200;
const CLIENT_SSL = 0x800;
const CLIENT_TRANSACTIONS = 0x2000;
const CLIENT_SECURE_CONNECTION = 0x8000;
const CLIENT_MULTI_STATEMENTS = 0x10000;
const CLIENT_MULTI_RESULTS = 0x20000;
const SERVER_MORE_RESULTS_EXISTS = 0x0008;
const CLIENT_PLUGIN_AUTH = 0x80000;
const CLIENT_PLUGIN_AUTH_LENENC_DATA = 0x200000;

export interface ConnectOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  connectTimeoutMs?: number;
  /** Pause the socket when this many bytes of packets wait unread (default 16 MiB). */
  highWaterMark?: number;
  /** Who uses the connection, for error messages (default: the binlog client on the upstream). */
  role?: ConnectionRole;
  /** TLS (DM's `security`): the connection is encrypted, or not made. */
  tls?: TlsSpec;
  /** Offer LOAD DATA LOCAL INFILE (only loadLocal() answers the server's request for data). */
  localInfile?: boolean;
}

export interface ConnectionRole {
  scope: ErrorScope;
  /** Where the operator sets the credentials, e.g. "'from' in the source config". */
  configHint: string;
}

const DEFAULT_ROLE: ConnectionRole = {
  scope: 'upstream',
  configHint: "'from.user' and 'from.password' in the source config",
};

export class ServerError extends Error {
  constructor(
    readonly errno: number,
    readonly sqlState: string,
    message: string,
  ) {
    super(`Error ${errno} (${sqlState}): ${message}`);
    this.name = 'ServerError';
  }
}

/** The connection closed or failed; the binlog client may reconnect. */
/** Whether `e` is a server error in `set` (or with number `set`). */
export function isServerError(e: unknown, set: ReadonlySet<number> | number): e is ServerError {
  return e instanceof ServerError && (typeof set === 'number' ? e.errno === set : set.has(e.errno));
}

export class ConnectionLost extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionLost';
  }
}

export function parseErrorPacket(p: Buffer): ServerError {
  const errno = p.readUInt16LE(1);
  let off = 3;
  let sqlState = 'HY000';
  if (p[off] === 0x23) {
    sqlState = p.toString('latin1', off + 1, off + 6);
    off += 6;
  }
  return new ServerError(errno, sqlState, p.toString('utf8', off));
}

function sha1(...parts: Buffer[]): Buffer {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest();
}

function sha256(...parts: Buffer[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i % b.length];
  return out;
}

export function nativePasswordAuth(password: string, scramble: Buffer): Buffer {
  if (!password) return Buffer.alloc(0);
  const stage1 = sha1(Buffer.from(password, 'utf8'));
  return xor(stage1, sha1(scramble.subarray(0, 20), sha1(stage1)));
}

export function cachingSha2Auth(password: string, scramble: Buffer): Buffer {
  if (!password) return Buffer.alloc(0);
  const p1 = sha256(Buffer.from(password, 'utf8'));
  const p2 = sha256(sha256(p1), scramble.subarray(0, 20));
  return xor(p1, p2);
}

function lenenc(n: number): Buffer {
  if (n < 0xfb) return Buffer.of(n);
  if (n <= 0xffff) return Buffer.of(0xfc, n & 0xff, n >> 8);
  const b = Buffer.alloc(9);
  b[0] = 0xfe;
  b.writeBigUInt64LE(BigInt(n), 1);
  return b;
}

function readLenenc(p: Buffer, off: number): [value: number | null, next: number] {
  const f = p[off];
  if (f < 0xfb) return [f, off + 1];
  if (f === 0xfb) return [null, off + 1];
  if (f === 0xfc) return [p.readUInt16LE(off + 1), off + 3];
  if (f === 0xfd) return [p.readUIntLE(off + 1, 3), off + 4];
  return [Number(p.readBigUInt64LE(off + 1)), off + 9];
}

export interface Handshake {
  serverVersion: string;
  connectionId: number;
  capabilities: number;
  scramble: Buffer;
  authPlugin: string;
}

/** A SQL session as its users need it: what Sync, the checkpoints and the schema tracker are
 * given (a PacketConnection, or a recording stand-in in unit tests). */
export interface SqlSession {
  readonly flavor: 'mysql' | 'mariadb';
  exec(sql: string): Promise<unknown>;
  query(sql: string): Promise<Record<string, string | null>[]>;
  close(): void;
}

/** A packet-level connection. Packets are read in order with `read()`; in streaming mode the socket
 * is paused while more than `highWaterMark` bytes wait, so a slow consumer never buffers without bound. */
export class PacketConnection implements SqlSession {
  private socket!: Socket;
  /** The server's max_allowed_packet, when the owner read it: a longer statement is refused here
   * with error 1153 rather than sent (the server would drop the connection: ECONNRESET). */
  maxAllowedPacket?: number;
  private queue: Buffer[] = [];
  private queueHead = 0;
  private queuedBytes = 0;
  private readonly framer = new PacketFramer((payload, seq) => {
    this.seq = seq;
    this.queue.push(payload);
    this.queuedBytes += payload.length;
  });
  private seq = 0;
  /** Bytes received from the server (DM's io-total-bytes counters). */
  bytesRead = 0;
  private waiter?: () => void;
  private failure?: Error;
  private paused = false;
  private readonly highWater: number;
  handshake!: Handshake;

  constructor(private readonly opts: ConnectOptions) {
    this.highWater = opts.highWaterMark ?? 16 << 20;
  }

  get flavor(): 'mysql' | 'mariadb' {
    return /mariadb/i.test(this.handshake.serverVersion) ? 'mariadb' : 'mysql';
  }

  /** Connects and authenticates. */
  async open(): Promise<void> {
    const { host, port } = this.opts;
    const timeoutMs = this.opts.connectTimeoutMs ?? 10_000;
    this.socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host, port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new ConnectionLost(`cannot connect to ${host}:${port}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(new ConnectionLost(`cannot connect to ${host}:${port}: ${e.message}`));
      });
    });
    this.socket.setNoDelay(true);
    this.socket.setKeepAlive(true, 10_000);
    this.attach(this.socket);
    await this.authenticate();
  }

  /** Reads and watches `s` (the TCP socket, then the TLS one over it). */
  private attach(s: Socket): void {
    const { host, port } = this.opts;
    s.on('data', (d) => this.onData(d));
    s.on('error', (e) => this.fail(new ConnectionLost(`connection to ${host}:${port} failed: ${e.message}`)));
    s.on('close', () => this.fail(new ConnectionLost(`connection to ${host}:${port} closed by the server`)));
  }

  /** Whether the connection is encrypted. */
  get encrypted(): boolean {
    return this.tlsOn;
  }
  private tlsOn = false;

  /** Sends the SSL request (the handshake response's first 32 bytes) and continues over TLS. */
  private async startTls(head: Buffer, spec: TlsSpec): Promise<void> {
    const { host, port } = this.opts;
    if (!(this.handshake.capabilities & CLIENT_SSL)) throw noTls(host, port, spec.where);
    this.write(head);
    const raw = this.socket;
    raw.removeAllListeners('data');
    raw.removeAllListeners('close');
    raw.removeAllListeners('error');
    this.socket = await upgrade(raw, host, port, spec);
    this.attach(this.socket);
    this.tlsOn = true;
  }

  close(): void {
    this.failure ??= new ConnectionLost('connection closed');
    this.socket?.destroy();
    this.wake();
  }

  /** Sets an idle timeout: no bytes for `ms` closes the connection as lost (0 disables). */
  setIdleTimeout(ms: number): void {
    this.socket.setTimeout(ms, () =>
      this.fail(
        new ConnectionLost(
          `no data from ${this.opts.host}:${this.opts.port} for ${ms} ms (heartbeat missed)`,
        ),
      ),
    );
  }

  private fail(e: Error): void {
    if (!this.failure) this.failure = e;
    this.socket?.destroy();
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private onData(d: Buffer): void {
    this.bytesRead += d.length;
    this.framer.push(d);
    if (!this.paused && this.queuedBytes > this.highWater) {
      this.paused = true;
      this.socket.pause();
    }
    this.wake();
  }

  private take(): Buffer {
    const p = this.queue[this.queueHead++];
    this.queuedBytes -= p.length;
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
    if (this.paused && this.queuedBytes < this.highWater / 2) {
      this.paused = false;
      this.socket.resume();
    }
    return p;
  }

  /** Bytes of packets received and not read yet. */
  get buffered(): number {
    return this.queuedBytes;
  }

  private async available(): Promise<void> {
    while (this.queueHead >= this.queue.length) {
      if (this.failure) throw this.failure;
      await new Promise<void>((r) => (this.waiter = r));
    }
  }

  /** Reads the next packet payload; throws ConnectionLost when the connection ends. */
  async read(): Promise<Buffer> {
    await this.available();
    return this.take();
  }

  /** Reads the packets available now (at least one, at most `max` or about `maxBytes`: a batch
   * is decoded whole, and its decoded rows must stay small): one await per batch. */
  async readBatch(max = 4096, maxBytes = 2 << 20): Promise<Buffer[]> {
    await this.available();
    const out: Buffer[] = [];
    let bytes = 0;
    while (this.queueHead < this.queue.length && out.length < max && bytes < maxBytes) {
      const p = this.take();
      bytes += p.length;
      out.push(p);
    }
    return out;
  }

  /** Writes one packet (a new command when `reset`, i.e. sequence id 0). Returns false when the
   * socket's write buffer is full (wait for `drained()`). */
  write(payload: Buffer, reset = false): boolean {
    if (reset) this.seq = 0;
    let off = 0;
    let ok = true;
    this.socket.cork();
    do {
      const len = Math.min(MAX_PAYLOAD, payload.length - off);
      const header = Buffer.allocUnsafe(4);
      header.writeUIntLE(len, 0, 3);
      header[3] = this.seq;
      this.seq = (this.seq + 1) & 0xff;
      this.socket.write(header);
      ok = this.socket.write(
        off === 0 && len === payload.length ? payload : payload.subarray(off, off + len),
      );
      off += len;
      if (len < MAX_PAYLOAD) break;
    } while (true);
    this.socket.uncork();
    return ok;
  }

  /** Sends a COM_QUERY whose text is the given bytes (sent as they are: no charset conversion). */
  private sendQuery(sql: string | Buffer): void {
    const body = typeof sql === 'string' ? Buffer.from(sql, 'utf8') : sql;
    if (this.maxAllowedPacket && body.length + 1 > this.maxAllowedPacket) {
      const need = 2 ** Math.ceil(Math.log2(body.length + 1024));
      throw new ServerError(
        ER.NET_PACKET_TOO_LARGE,
        '08S01',
        `a statement of ${body.length} bytes is over the server's max_allowed_packet (${this.maxAllowedPacket} bytes): SET GLOBAL max_allowed_packet = ${Math.min(need, 1 << 30)} on it (and in its configuration), then resume-task`,
      );
    }
    const payload = Buffer.allocUnsafe(body.length + 1);
    payload[0] = 0x03;
    body.copy(payload, 1);
    this.write(payload, true);
  }

  /** Runs statements that return no rows; several separated by ';' run in one round trip (the
   * server stops at the first error, which is thrown). Resolves with the summed affected-row count. */
  async exec(sql: string | Buffer): Promise<OkInfo> {
    this.sendQuery(sql);
    const total: OkInfo = { affectedRows: 0, lastInsertId: 0, warnings: 0 };
    for (;;) {
      const p = await this.read();
      if (p[0] === 0xff) throw parseErrorPacket(p);
      if (p[0] === 0xfb) {
        // LOAD DATA LOCAL outside loadLocal(): no file of ours is ever sent on a server's request
        this.write(Buffer.alloc(0));
        continue;
      }
      let more: boolean;
      if (p[0] === 0x00) {
        const ok = parseOk(p);
        total.affectedRows += ok.affectedRows;
        total.lastInsertId = ok.lastInsertId || total.lastInsertId;
        total.warnings += ok.warnings;
        more = (ok.status & SERVER_MORE_RESULTS_EXISTS) !== 0;
      } else {
        // A result set where none was expected: drain it so the connection stays usable.
        more = ((await this.drainResultSet(p)) & SERVER_MORE_RESULTS_EXISTS) !== 0;
      }
      if (!more) return total;
    }
  }

  /** Runs `LOAD DATA LOCAL INFILE … ` (the connection opened with `localInfile`), sending `data` as
   * the file the server asks for, with the socket's backpressure. */
  async loadLocal(sql: string | Buffer, data: AsyncIterable<Buffer>): Promise<OkInfo> {
    this.sendQuery(sql);
    const first = await this.read();
    if (first[0] === 0xff) throw parseErrorPacket(first);
    if (first[0] !== 0xfb) {
      if (first[0] === 0x00) return parseOk(first);
      throw new ConnectionLost('LOAD DATA LOCAL: the server answered with a result set');
    }
    for await (const chunk of data) {
      for (let off = 0; off < chunk.length; off += MAX_PAYLOAD - 1) {
        if (!this.write(chunk.subarray(off, Math.min(chunk.length, off + MAX_PAYLOAD - 1))))
          await this.drained();
      }
    }
    this.write(Buffer.alloc(0));
    const p = await this.read();
    if (p[0] === 0xff) throw parseErrorPacket(p);
    return parseOk(p);
  }

  /** Resolves when the socket takes writes again; throws when the connection ended meanwhile (a
   * server that gave up on a LOAD DATA stops reading). */
  private drained(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (e?: Error) => {
        this.socket.off('drain', onDrain);
        this.socket.off('close', onClose);
        if (e) reject(e);
        else resolve();
      };
      const onDrain = () => done();
      const onClose = () =>
        done(this.failure ?? new ConnectionLost('the connection closed while data was sent'));
      if (this.socket.destroyed) return onClose();
      this.socket.once('drain', onDrain);
      this.socket.once('close', onClose);
    });
  }

  /** Reads past a result set; returns the status flags of its final EOF packet. */
  private async drainResultSet(first: Buffer): Promise<number> {
    const [count] = readLenenc(first, 0);
    for (let i = 0; i < (count ?? 0); i++) await this.read();
    let p = await this.read();
    if (isEof(p)) p = await this.read();
    while (!isEof(p)) {
      if (p[0] === 0xff) throw parseErrorPacket(p);
      p = await this.read();
    }
    return p.length >= 5 ? p.readUInt16LE(3) : 0;
  }

  /** Runs a query and streams its rows: `onColumns` once with the column definitions, then
   * `onRows` with batches of raw text-protocol row packets (one await per batch, so the socket is
   * paused while the consumer is slow). */
  async stream(
    sql: string | Buffer,
    onColumns: (cols: ColumnDef[]) => void,
    onRows: (rows: Buffer[]) => void | Promise<void>,
  ): Promise<void> {
    this.sendQuery(sql);
    const first = await this.read();
    if (first[0] === 0x00) {
      onColumns([]);
      return;
    }
    if (first[0] === 0xff) throw parseErrorPacket(first);
    const [count] = readLenenc(first, 0);
    const cols: ColumnDef[] = [];
    for (let i = 0; i < (count ?? 0); i++) cols.push(parseColumnDef(await this.read()));
    let p = await this.read();
    if (isEof(p)) p = await this.read();
    onColumns(cols);
    let batch: Buffer[] = [p];
    for (;;) {
      let end = -1;
      for (let i = 0; i < batch.length; i++) {
        const r = batch[i];
        if (r[0] === 0xff) throw parseErrorPacket(r);
        if (isEof(r)) {
          end = i;
          break;
        }
      }
      const rows = end < 0 ? batch : batch.slice(0, end);
      if (rows.length) await onRows(rows);
      if (end >= 0) return;
      batch = await this.readBatch();
    }
  }

  private async authenticate(): Promise<void> {
    const p = await this.read();
    if (p[0] === 0xff) throw authError(parseErrorPacket(p), this.opts);
    if (p[0] !== 10) throw new DMError(ERR.protocol, `unsupported protocol version ${p[0]}`);
    let off = 1;
    const vEnd = p.indexOf(0, off);
    const serverVersion = p.toString('latin1', off, vEnd);
    off = vEnd + 1;
    const connectionId = p.readUInt32LE(off);
    off += 4;
    const part1 = p.subarray(off, off + 8);
    off += 9;
    let capabilities = p.readUInt16LE(off);
    off += 2;
    off += 1 + 2; // charset, status
    capabilities |= p.readUInt16LE(off) << 16;
    off += 2;
    const authLen = p[off];
    off += 1 + 10;
    let part2: Buffer = Buffer.alloc(0);
    if (capabilities & CLIENT_SECURE_CONNECTION) {
      const n = Math.max(13, authLen - 8);
      part2 = p.subarray(off, off + n - 1); // last byte is NUL
      off += n;
    }
    let authPlugin = 'mysql_native_password';
    if (capabilities & CLIENT_PLUGIN_AUTH) {
      const e = p.indexOf(0, off);
      authPlugin = p.toString('latin1', off, e < 0 ? p.length : e);
    }
    const scramble = Buffer.concat([part1, part2]);
    this.handshake = { serverVersion, connectionId, capabilities, scramble, authPlugin };

    const tls = this.opts.tls;
    const clientFlags =
      (tls ? CLIENT_SSL : 0) |
      CLIENT_LONG_PASSWORD |
      CLIENT_LONG_FLAG |
      CLIENT_PROTOCOL_41 |
      CLIENT_TRANSACTIONS |
      CLIENT_SECURE_CONNECTION |
      CLIENT_MULTI_STATEMENTS |
      CLIENT_MULTI_RESULTS |
      CLIENT_PLUGIN_AUTH |
      CLIENT_PLUGIN_AUTH_LENENC_DATA |
      (this.opts.localInfile ? CLIENT_LOCAL_FILES : 0);
    const plugin = authPlugin === 'caching_sha2_password' ? authPlugin : 'mysql_native_password';
    const authData = this.authResponse(plugin, scramble);
    const head = Buffer.alloc(32);
    head.writeUInt32LE(clientFlags, 0);
    head.writeUInt32LE(MAX_PAYLOAD, 4);
    head[8] = 45; // utf8mb4_general_ci
    if (tls) await this.startTls(head, tls);
    this.write(
      Buffer.concat([
        head,
        Buffer.from(this.opts.user + '\0', 'utf8'),
        lenenc(authData.length),
        authData,
        Buffer.from(plugin + '\0', 'latin1'),
      ]),
    );
    await this.authResult(plugin, scramble);
  }

  private authResponse(plugin: string, scramble: Buffer): Buffer {
    if (plugin === 'mysql_native_password') return nativePasswordAuth(this.opts.password, scramble);
    if (plugin === 'caching_sha2_password') return cachingSha2Auth(this.opts.password, scramble);
    if (plugin === 'mysql_clear_password') return Buffer.from(this.opts.password + '\0', 'utf8');
    if (plugin === 'client_ed25519') return ed25519Sign(Buffer.from(this.opts.password, 'utf8'), scramble);
    throw new DMError(ERR.authPlugin, {
      message: `the user '${this.opts.user}' authenticates with '${plugin}', which the replication client does not support`,
      workaround:
        "Use a user with mysql_native_password, caching_sha2_password or ed25519: ALTER USER ... IDENTIFIED VIA mysql_native_password USING PASSWORD('...').",
    });
  }

  private async authResult(plugin: string, scramble: Buffer): Promise<void> {
    for (;;) {
      const p = await this.read();
      if (p[0] === 0x00) return; // OK
      if (p[0] === 0xff)
        throw authError(parseErrorPacket(p), this.opts, !!(this.handshake.capabilities & CLIENT_SSL));
      if (p[0] === 0xfe) {
        // Auth switch request: plugin name, then new scramble.
        const e = p.indexOf(0, 1);
        plugin = p.toString('latin1', 1, e);
        // ed25519's scramble is 32 bytes that may end in a zero; the others end with a NUL
        scramble =
          plugin === 'client_ed25519'
            ? p.subarray(e + 1, e + 33)
            : p.subarray(e + 1, p[p.length - 1] === 0 ? p.length - 1 : p.length);
        this.write(this.authResponse(plugin, scramble));
        continue;
      }
      if (p[0] === 0x01 && plugin === 'caching_sha2_password') {
        if (p[1] === 0x03) continue; // fast auth succeeded; OK follows
        if (p[1] === 0x04 && this.tlsOn) {
          // Full authentication over TLS: the password itself, as the channel is encrypted.
          this.write(Buffer.from(this.opts.password + '\0', 'utf8'));
          continue;
        }
        if (p[1] === 0x04) {
          // Full authentication over a plain connection: ask for the server's RSA public key.
          this.write(Buffer.of(0x02));
          const keyPacket = await this.read();
          if (keyPacket[0] === 0xff) throw authError(parseErrorPacket(keyPacket), this.opts);
          const key = keyPacket.subarray(1).toString('latin1');
          const pw = xor(Buffer.from(this.opts.password + '\0', 'utf8'), scramble.subarray(0, 20));
          this.write(publicEncrypt({ key, padding: cryptoConstants.RSA_PKCS1_OAEP_PADDING }, pw));
          continue;
        }
      }
      throw new DMError(ERR.protocol, `unexpected packet 0x${p[0].toString(16)} during authentication`);
    }
  }

  /** Runs a statement; returns rows (values as UTF-8 strings or null, by column name) or [] for OK. */
  async query(sql: string): Promise<Record<string, string | null>[]> {
    const out: Record<string, string | null>[] = [];
    let names: string[] = [];
    await this.stream(
      sql,
      (cols) => (names = cols.map((c) => c.name)),
      (rows) => {
        for (const p of rows) {
          const row: Record<string, string | null> = {};
          let off = 0;
          for (const name of names) {
            const [len, next] = readLenenc(p, off);
            row[name] = len === null ? null : p.toString('utf8', next, next + len);
            off = next + (len ?? 0);
          }
          out.push(row);
        }
      },
    );
    return out;
  }
}

export interface OkInfo {
  affectedRows: number;
  lastInsertId: number;
  warnings: number;
  /** The server's message (e.g. LOAD DATA's "Records: 3  Deleted: 0  Skipped: 0  Warnings: 0"). */
  info?: string;
}

function parseOk(p: Buffer): OkInfo & { status: number } {
  const [affectedRows, o1] = readLenenc(p, 1);
  const [lastInsertId, o2] = readLenenc(p, o1);
  return {
    affectedRows: affectedRows ?? 0,
    lastInsertId: lastInsertId ?? 0,
    status: p.readUInt16LE(o2),
    warnings: p.readUInt16LE(o2 + 2),
    info: p.length > o2 + 4 ? p.toString('utf8', o2 + 4) : undefined,
  };
}

function isEof(p: Buffer): boolean {
  return p[0] === 0xfe && p.length < 9;
}

/** A result-set column: its name, wire type, character set id (63 = binary) and flags. */
export interface ColumnDef {
  name: string;
  table: string;
  type: number;
  charset: number;
  flags: number;
  decimals: number;
}

function parseColumnDef(def: Buffer): ColumnDef {
  let off = 0;
  const str: string[] = [];
  for (let k = 0; k < 6; k++) {
    const [len, next] = readLenenc(def, off);
    str.push(def.toString('utf8', next, next + (len ?? 0)));
    off = next + (len ?? 0);
  }
  off += 1; // length of the fixed fields (0x0c)
  return {
    name: str[4],
    table: str[2],
    charset: def.readUInt16LE(off),
    type: def[off + 6],
    flags: def.readUInt16LE(off + 7),
    decimals: def[off + 9],
  };
}

/** Reads a length-encoded integer; null for the NULL marker (0xfb). */
export { readLenenc };

/** An authentication error; `offersTls`: the server offered TLS and the connection did not use
 * it (MariaDB answers a TLS-only server's plaintext client with "Access denied"). */
function authError(e: ServerError, o: ConnectOptions, offersTls = false): Error {
  const role = o.role ?? DEFAULT_ROLE;
  if (e.errno === ER.ACCESS_DENIED) {
    const tlsHint =
      offersTls && !o.tls
        ? ` The server offers TLS and this connection does not use it: if the server requires it (require_secure_transport, or a user with REQUIRE SSL/X509), set security (ssl-ca …) in ${role.configHint.replace(/^.*?'(\w[\w-]*)[.'].*$/, "'$1'")}.`
        : '';
    return new DMError(role.scope === 'downstream' ? ERR.downstreamAccessDenied : ERR.accessDenied, {
      message: `access denied for user '${o.user}' to ${o.host}:${o.port}: ${e.message}`,
      workaround: `Check ${role.configHint} (an encrypted password must come from 'dmctl encrypt').${tlsHint}`,
      cause: e,
    });
  }
  return e;
}

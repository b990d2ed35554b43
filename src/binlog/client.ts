// The binlog replica client: registers with the upstream as a replica, streams its binlog from a
// (file, pos) or a GTID set, decodes every event, keeps track of where it is, and on a lost
// connection reconnects from the last transaction boundary, dropping what it already delivered.
import { TxnBoundary } from './boundary.js';
import { ER, PRIVILEGE } from '../mysql/errno.js';
import type { EventSource } from './source.js';
import { BinlogDecoder, type RowColumnsOf } from './decoder.js';
import type { BinlogEvent } from './events.js';
import { comparePosition, formatPosition, type BinlogPosition } from './position.js';
import {
  detectGtidFlavor,
  MariadbGtidSet,
  MysqlGtidSet,
  parseGtidSet,
  type Flavor,
  type GtidSet,
  type MariadbGtid,
} from './gtid.js';
import {
  ConnectionLost,
  PacketConnection,
  parseErrorPacket,
  ServerError,
  type ConnectOptions,
} from '../mysql/protocol.js';
import { DMError, ERR } from '../errors.js';

export type StartPoint = { file: string; pos: number } | { gtid: string };

export interface BinlogClientOptions extends ConnectOptions {
  /** server_id this replica registers with; must differ from every server's and replica's. */
  serverId: number;
  start: StartPoint;
  /** The GTID set at a (file, pos) start, when the caller knows it (else MariaDB is asked). */
  startGtid?: string;
  /** Heartbeat period asked of the server (default 5000 ms); 3 missed heartbeats mean a dead link. */
  heartbeatMs?: number;
  /** Stop at the end of the binlog instead of waiting for new events. */
  nonBlocking?: boolean;
  /** Keep reconnecting for this long after a lost connection (default 120 s; 0: never reconnect). */
  reconnectTimeoutMs?: number;
  verifyChecksum?: boolean;
  /** Leave row images undecoded (a scan of which tables changed). */
  skipRows?: boolean;
  /** Decode only transaction and file boundaries (the relay writes events as they are). */
  framesOnly?: boolean;
  /** What to decode of each table's rows (see BinlogDecoder). */
  rowColumns?: RowColumnsOf;
  /** MariaDB: also send ANNOTATE_ROWS events (the relay keeps the binlog byte for byte). */
  annotateRows?: boolean;
  /** Called on each reconnect attempt (for logs and tests). */
  onReconnect?: (attempt: number, error: Error) => void;
}

const COM_BINLOG_DUMP = 0x12;
const COM_REGISTER_SLAVE = 0x15;
const COM_BINLOG_DUMP_GTID = 0x1e;
const BINLOG_DUMP_NON_BLOCK = 0x01;
const BINLOG_SEND_ANNOTATE_ROWS_EVENT = 0x02;
const BINLOG_THROUGH_GTID = 0x04;

export class BinlogClient implements EventSource {
  private conn?: PacketConnection;
  private decoder!: BinlogDecoder;
  private closed = false;
  private readonly gtidMode: boolean;
  /** Upstream flavour, known once connected. */
  flavor?: Flavor;
  serverVersion = '';
  /** Position after the last delivered event. */
  position: BinlogPosition;
  /** Position after the last complete transaction (where a restart resumes without a gap). */
  committedPosition: BinlogPosition;
  /** GTID set of the complete transactions (undefined when the start point did not give one). */
  gtidSet?: GtidSet;
  /** Bytes received from the server and not yet decoded (bounded by highWaterMark). */
  get bufferedBytes(): number {
    return this.conn?.buffered ?? 0;
  }

  /** rawBatches' copy of a read's events. */
  private rawCopy?: RawCopy;

  /** Reconnects so far. */
  reconnects = 0;

  // transaction tracking
  private boundary = new TxnBoundary();
  private pendingMysql?: { uuid: string; gno: number };
  private pendingMariadb?: MariadbGtid;
  /** After a reconnect: drop events up to this position (already delivered). */
  private skipUntil?: BinlogPosition;

  constructor(private readonly opts: BinlogClientOptions) {
    this.gtidMode = 'gtid' in opts.start;
    if ('gtid' in opts.start) {
      this.gtidSet = parseGtidSet(detectGtidFlavor(opts.start.gtid), opts.start.gtid);
      this.position = { file: '', pos: 4 };
    } else {
      this.position = { file: opts.start.file, pos: opts.start.pos };
      if (opts.startGtid) this.gtidSet = parseGtidSet(detectGtidFlavor(opts.startGtid), opts.startGtid);
    }
    this.committedPosition = { ...this.position };
  }

  /** The GTID set as text ('' when unknown). */
  get gtidText(): string {
    return this.gtidSet?.toString() ?? '';
  }

  close(): void {
    this.closed = true;
    this.conn?.close();
  }

  /** Yields decoded events one at a time. */
  async *events(): AsyncGenerator<BinlogEvent> {
    for await (const batch of this.batches()) yield* batch;
  }

  /** Yields decoded events in batches (everything received so far): the efficient way to consume. */
  async *batches(): AsyncGenerator<BinlogEvent[]> {
    for await (const f of this.frames(false)) yield f.events;
  }

  /** Like batches(), with the events' bytes as the server sent them: what the relay writes. */
  rawBatches(): AsyncGenerator<RawBatch> {
    return this.frames(true) as AsyncGenerator<RawBatch>;
  }

  private async *frames(raw: boolean): AsyncGenerator<{ events: BinlogEvent[] } | RawBatch> {
    let failingSince = 0;
    let attempt = 0;
    while (!this.closed) {
      try {
        if (!this.conn) {
          await this.connect();
          attempt = 0;
          failingSince = 0;
        }
        const packets = await this.conn!.readBatch();
        const out: BinlogEvent[] = [];
        const copy = raw ? (this.rawCopy ??= new RawCopy()).start(packets) : undefined;
        let ended = false;
        /** The last event of `out` is one of the file's (a row part may follow its bytes). */
        let inFile = false;
        for (const p of packets) {
          if (p[0] === 0xff) throw this.dumpError(parseErrorPacket(p));
          if (p[0] === 0xfe && p.length < 9) {
            ended = true;
            break;
          }
          if (copy && inFile && this.rowPart(p)) {
            copy.append(p);
            continue;
          }
          const ev = this.decoder.decode(p, 1, p.length);
          if (this.track(ev)) {
            out.push(ev);
            copy?.add(p);
            inFile = ev.kind !== 'heartbeat' && ev.kind !== 'rotate' && ev.header.logPos > 0;
          }
        }
        if (out.length) yield copy ? copy.batch(out) : { events: out };
        if (ended) {
          if (this.opts.nonBlocking) {
            this.close();
            return;
          }
          throw new ConnectionLost('the server ended the binlog stream');
        }
      } catch (e) {
        this.conn?.close();
        this.conn = undefined;
        if (this.closed) return;
        const limit = this.opts.reconnectTimeoutMs ?? 120_000;
        if (!(e instanceof ConnectionLost) || limit === 0) throw e;
        failingSince ||= Date.now();
        if (Date.now() - failingSince > limit) {
          throw new DMError(ERR.binlogStreamLost, {
            message: `lost the binlog stream from ${this.opts.host}:${this.opts.port} and could not reconnect for ${Math.round(limit / 1000)} s: ${e.message}`,
            workaround:
              'Check that the upstream server is running and reachable; the task resumes from its checkpoint.',
            retryable: true,
            cause: e,
          });
        }
        attempt++;
        this.opts.onReconnect?.(attempt, e);
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** Math.min(attempt, 6))));
      }
    }
  }

  /** Connects, registers, and sends the dump command from the last committed point. */
  private async connect(): Promise<void> {
    const first = this.decoder === undefined;
    const conn = new PacketConnection(this.opts);
    try {
      await conn.open();
    } catch (e) {
      if (first && e instanceof ConnectionLost) {
        throw new DMError(ERR.upstreamUnreachable, {
          message: `${e.message}`,
          workaround:
            "Check 'from.host' and 'from.port' in the source config and that the server is running.",
          retryable: true,
          cause: e,
        });
      }
      throw e;
    }
    if (this.closed) {
      // close() ran while this connection was opening: it must not start streaming.
      conn.close();
      throw new ConnectionLost('the client was closed');
    }
    this.conn = conn;
    this.flavor = conn.flavor;
    this.serverVersion = conn.handshake.serverVersion;
    const rows = await conn.query('SELECT @@global.binlog_checksum AS c');
    const checksum = String(rows[0]?.c ?? 'NONE').toUpperCase() === 'CRC32' ? 'CRC32' : 'NONE';
    await conn.query(
      `SET @master_binlog_checksum = @@global.binlog_checksum, @source_binlog_checksum = @@global.binlog_checksum`,
    );
    const hb = this.opts.heartbeatMs ?? 5000;
    await conn.query(`SET @master_heartbeat_period = ${BigInt(hb) * 1_000_000n}`);
    conn.setIdleTimeout(hb * 3 + 2000);

    if (!first) {
      // Resume from the last transaction boundary; drop what was delivered already.
      this.skipUntil = { ...this.position };
      this.reconnects++;
    }
    this.boundary = new TxnBoundary();
    const resumeFile = this.committedPosition;
    this.position = { ...resumeFile };
    this.decoder = new BinlogDecoder({
      checksum,
      verifyChecksum: this.opts.verifyChecksum,
      file: resumeFile.file,
      skipRows: this.opts.skipRows,
      framesOnly: this.opts.framesOnly,
      rowColumns: this.opts.rowColumns,
    });

    this.registerReplica(conn);
    const reg = await conn.read();
    if (reg[0] === 0xff) throw this.dumpError(parseErrorPacket(reg));

    let flags = this.opts.nonBlocking ? BINLOG_DUMP_NON_BLOCK : 0;
    if (this.flavor === 'mariadb') {
      if (this.opts.annotateRows) flags |= BINLOG_SEND_ANNOTATE_ROWS_EVENT;
      await conn.query('SET @mariadb_slave_capability = 4');
      if (this.gtidMode) {
        const set = this.gtidSet!;
        if (set.flavor !== 'mariadb') throw flavorMismatch(set.flavor, 'MariaDB');
        await this.checkNotAhead(conn, set as MariadbGtidSet);
        await conn.query(`SET @slave_connect_state = '${set.toString()}'`);
        await conn.query('SET @slave_gtid_strict_mode = 1');
        await conn.query('SET @slave_gtid_ignore_duplicates = 0');
        this.sendDump(conn, '', 4, flags);
      } else {
        if (first && !this.gtidSet) await this.seedMariadbGtid(conn);
        this.sendDump(conn, resumeFile.file, resumeFile.pos, flags);
      }
    } else if (this.gtidMode) {
      const set = this.gtidSet!;
      if (set.flavor !== 'mysql') throw flavorMismatch(set.flavor, 'MySQL');
      this.sendDumpGtid(conn, set as MysqlGtidSet, flags);
    } else {
      this.sendDump(conn, resumeFile.file, resumeFile.pos, flags);
    }
  }

  /** MariaDB waits, rather than failing, for a GTID beyond its binlog (e.g. a domain it never had):
   * refuse such a start point up front instead of hanging. */
  private async checkNotAhead(conn: PacketConnection, set: MariadbGtidSet): Promise<void> {
    const rows = await conn.query('SELECT @@global.gtid_binlog_state AS s');
    const have = new Map<number, number>();
    for (const part of (rows[0]?.s ?? '').split(',').filter(Boolean)) {
      const [domain, , seq] = part.split('-').map(Number);
      have.set(domain, Math.max(have.get(domain) ?? 0, seq));
    }
    for (const g of set.domains.values()) {
      const top = have.get(g.domain);
      if (g.seq > 0 && (top === undefined || g.seq > top)) {
        throw new DMError(ERR.binlogUnavailable, {
          message: `the requested GTID ${g.domain}-${g.server}-${g.seq} is beyond the upstream binlog (its state is '${rows[0]?.s ?? ''}')`,
          workaround:
            'Check that binlog-gtid belongs to this upstream; start from a GTID set the upstream has written.',
        });
      }
    }
  }

  /** MariaDB maps any (file, pos) to its GTID position, so a file/pos start still tracks GTIDs. */
  private async seedMariadbGtid(conn: PacketConnection): Promise<void> {
    const { file, pos } = this.committedPosition;
    try {
      const rows = await conn.query(`SELECT BINLOG_GTID_POS('${file.replace(/'/g, "''")}', ${pos}) AS g`);
      const g = rows[0]?.g;
      if (g !== null && g !== undefined) this.gtidSet = MariadbGtidSet.parse(g);
    } catch {
      // not fatal: the set stays unknown until a GTID_LIST event
    }
  }

  private registerReplica(conn: PacketConnection): void {
    const host = Buffer.from('dm-ts', 'utf8');
    const b = Buffer.alloc(1 + 4 + 1 + host.length + 1 + 1 + 2 + 4 + 4);
    let off = 0;
    b[off++] = COM_REGISTER_SLAVE;
    off = b.writeUInt32LE(this.opts.serverId, off);
    b[off++] = host.length;
    host.copy(b, off);
    off += host.length;
    b[off++] = 0; // user
    b[off++] = 0; // password
    off = b.writeUInt16LE(0, off);
    off = b.writeUInt32LE(0, off); // rank
    b.writeUInt32LE(0, off); // master id
    conn.write(b, true);
  }

  private sendDump(conn: PacketConnection, file: string, pos: number, flags: number): void {
    const name = Buffer.from(file, 'utf8');
    const b = Buffer.alloc(11 + name.length);
    b[0] = COM_BINLOG_DUMP;
    b.writeUInt32LE(pos, 1);
    b.writeUInt16LE(flags, 5);
    b.writeUInt32LE(this.opts.serverId, 7);
    name.copy(b, 11);
    conn.write(b, true);
  }

  private sendDumpGtid(conn: PacketConnection, set: MysqlGtidSet, flags: number): void {
    const data = set.encode();
    const b = Buffer.alloc(1 + 2 + 4 + 4 + 0 + 8 + 4 + data.length);
    let off = 0;
    b[off++] = COM_BINLOG_DUMP_GTID;
    off = b.writeUInt16LE(flags | BINLOG_THROUGH_GTID, off);
    off = b.writeUInt32LE(this.opts.serverId, off);
    off = b.writeUInt32LE(0, off); // binlog name length
    off = b.writeBigUInt64LE(4n, off);
    off = b.writeUInt32LE(data.length, off);
    data.copy(b, off);
    conn.write(b, true);
  }

  /** Whether packet `p` is a table map, row event or annotation inside the open transaction,
   * continuing the event before it (framesOnly): its checksum checked, it moves the position and
   * needs no event of its own. */
  private rowPart(p: Buffer): boolean {
    if (this.skipUntil || !this.boundary.open || !this.decoder.rowPart(p, 1, p.length)) return false;
    const logPos = p.readUInt32LE(14);
    if (logPos - (p.length - 1) !== this.position.pos) return false;
    this.position = { file: this.position.file, pos: logPos };
    return true;
  }

  /** Updates positions and GTIDs for `ev`; false when `ev` was delivered before a reconnect. */
  private track(ev: BinlogEvent): boolean {
    if (ev.kind === 'rotate') {
      this.position = { file: ev.nextFile, pos: ev.position };
      if (!this.boundary.open) this.committedPosition = { ...this.position };
      if (!this.skipUntil) return true;
      // The server's own ROTATE to where the reconnect resumes is dropped; one to a later file is
      // not (a crash-closed file ends without a ROTATE: the server makes one up to go on).
      if (comparePosition(this.position, this.skipUntil) <= 0) return false;
      this.skipUntil = undefined;
      return true;
    }
    // Heartbeats and artificial events (logPos 0, e.g. the FDE resent at dump start) have no place.
    if (ev.kind === 'heartbeat' || ev.header.logPos === 0) return this.skipUntil === undefined;
    const here = { file: this.decoder.file, pos: ev.header.logPos };
    this.position = here;
    this.trackTransaction(ev, here);
    if (this.skipUntil) {
      if (comparePosition(here, this.skipUntil) <= 0) return false; // delivered before the reconnect
      this.skipUntil = undefined;
    }
    return true;
  }

  private trackTransaction(ev: BinlogEvent, here: BinlogPosition): void {
    const step = this.boundary.feed(ev);
    if (ev.kind === 'gtid') this.pendingMysql = ev.anonymous ? undefined : { uuid: ev.uuid, gno: ev.gno };
    else if (ev.kind === 'mariadb_gtid') this.pendingMariadb = ev.gtid;
    else if (ev.kind === 'previous_gtids') {
      if (!this.gtidSet && this.flavor === 'mysql') this.gtidSet = ev.gtidSet.clone();
    } else if (ev.kind === 'gtid_list' && !this.gtidSet) {
      const set = new MariadbGtidSet();
      for (const g of ev.gtids) set.add(g);
      this.gtidSet = set;
    }
    if (step === 'end') this.endTrx(here);
    else if (step === 'outside') this.committedPosition = here;
  }

  private endTrx(here: BinlogPosition): void {
    if (this.pendingMysql && this.gtidSet instanceof MysqlGtidSet) {
      this.gtidSet.add(this.pendingMysql.uuid, this.pendingMysql.gno);
    } else if (this.pendingMariadb && this.gtidSet instanceof MariadbGtidSet) {
      this.gtidSet.add(this.pendingMariadb);
    }
    this.pendingMysql = undefined;
    this.pendingMariadb = undefined;
    this.committedPosition = here;
  }

  private dumpError(e: ServerError): Error {
    if (e.errno === ER.MASTER_FATAL_READING_BINLOG) {
      const where = this.gtidMode
        ? `GTID set '${this.gtidText}'`
        : `position ${formatPosition(this.committedPosition)}`;
      return new DMError(ERR.binlogUnavailable, {
        message: `the upstream cannot send its binlog from ${where}: ${e.message}`,
        workaround:
          'The binlog may be purged: check SHOW BINARY LOGS on the upstream; restart the task with a full dump (task-mode: all) or a meta position that still exists.',
        cause: e,
      });
    }
    // After a successful login, MariaDB answers COM_REGISTER_SLAVE without the privilege with 1045.
    if (PRIVILEGE.has(e.errno)) {
      return new DMError(ERR.replicationPrivilege, {
        message: `the upstream user '${this.opts.user}' lacks replication privileges: ${e.message}`,
        workaround: `GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '${this.opts.user}'@'%' on the upstream.`,
        cause: e,
      });
    }
    if (e.errno === ER.SERVER_SHUTDOWN || e.errno === ER.QUERY_INTERRUPTED || e.errno === ER.SERVER_LOST)
      return new ConnectionLost(e.message);
    return e;
  }
}

function flavorMismatch(setFlavor: Flavor, server: string): DMError {
  return new DMError(server === 'MariaDB' ? ERR.notMariadbGtid : ERR.notMysqlGtid, {
    message: `a ${setFlavor} GTID set was given but the upstream is ${server}`,
    workaround: `Give a ${server === 'MariaDB' ? "MariaDB GTID list ('domain-server-seq')" : "MySQL GTID set ('uuid:1-5')"} as binlog-gtid.`,
  });
}

/** A read's events as the relay writes them (rawBatches): their bytes back to back as the server
 * sent them. A table map, row event or annotation inside a transaction has no event of its own
 * (framesOnly): its bytes follow those of the event before it. */
export interface RawBatch {
  events: BinlogEvent[];
  /** events[i]'s bytes, and those of the row parts after it, are bytes[ends[i-1] ?? 0, ends[i]). */
  bytes: Buffer;
  ends: number[];
}

/** Copies packets' events (each after its packet's OK byte) into one buffer of their own. */
class RawCopy {
  /** A spare byte, then the events: a packet is copied whole over the byte before its event,
   * which is put back (no view per packet). Used again for the next read (the relay has written
   * a read's bytes before it asks for the next; allocating a buffer per read cost the thread
   * GC work for the external memory). */
  private buf = Buffer.allocUnsafeSlow(0);
  /** The buffer used again: up to 4 MiB (a read is about 2 MiB; a larger event gets its own). */
  private kept = this.buf;
  private at = 1;
  private ends: number[] = [];

  start(packets: Buffer[]): this {
    let n = 1;
    for (const p of packets) n += p.length;
    if (n > this.kept.length && n <= 4 << 20) this.kept = Buffer.allocUnsafeSlow(Math.max(n, 1 << 20));
    this.buf = n <= this.kept.length ? this.kept : Buffer.allocUnsafeSlow(n);
    this.at = 1;
    this.ends = [];
    return this;
  }

  /** The bytes of an event of its own. */
  add(p: Buffer): void {
    this.copy(p);
    this.ends.push(this.at - 1);
  }

  /** Bytes that belong to the event before. */
  append(p: Buffer): void {
    this.copy(p);
    this.ends[this.ends.length - 1] = this.at - 1;
  }

  private copy(p: Buffer): void {
    const keep = this.buf[this.at - 1];
    this.buf.set(p, this.at - 1);
    this.buf[this.at - 1] = keep;
    this.at += p.length - 1;
  }

  batch(events: BinlogEvent[]): RawBatch {
    return { events, bytes: this.buf.subarray(1, this.at), ends: this.ends };
  }
}

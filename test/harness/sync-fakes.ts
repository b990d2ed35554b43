// Stand-ins for Sync's edges in unit tests: a binlog script (canned events with real positions),
// an event source that plays it, an upstream that answers position queries, and a recording
// target that keeps transactions (BEGIN … COMMIT applied whole, or not at all), Sync's checkpoint
// rows and the table schemas the tracker asks for.
import type { BinlogEvent, ColumnInfo, EventHeader, TableMapEvent } from '../../src/binlog/events.js';
import type { BinlogPosition } from '../../src/binlog/position.js';
import type { EventSource } from '../../src/binlog/source.js';
import type { SqlSession } from '../../src/mysql/protocol.js';
import type { SyncEdges } from '../../src/units/sync/edges.js';

const INT = 3;
const VARCHAR = 15;

/** Canned binlog events of one file, each at the position after the one before. */
export class BinlogScript {
  readonly events: BinlogEvent[] = [];
  pos = 4;
  private seq = 0;
  private tableId = 100;
  private readonly maps = new Map<string, TableMapEvent>();

  constructor(readonly file = 'mysql-bin.000001') {}

  get at(): BinlogPosition {
    return { file: this.file, pos: this.pos };
  }

  private header(typeCode: number, size = 50): EventHeader {
    this.pos += size;
    return {
      timestamp: Math.floor(Date.now() / 1000),
      typeCode,
      serverId: 1,
      eventSize: size,
      logPos: this.pos,
      flags: 0,
    };
  }

  /** The table map of `db`.`t` (columns id INT, v VARCHAR); a new one after `alter`. */
  private map(db: string, table: string): TableMapEvent {
    const k = `${db}.${table}`;
    let m = this.maps.get(k);
    if (!m) {
      const col = (name: string, type: number): ColumnInfo => ({
        type,
        mapType: type,
        meta: 0,
        nullable: false,
        unsigned: false,
        name,
      });
      m = {
        kind: 'table_map',
        header: this.header(19),
        tableId: this.tableId++,
        flags: 0,
        schema: db,
        table,
        columns: [col('id', INT), col('v', VARCHAR)],
      };
      this.maps.set(k, m);
    }
    return { ...m, header: this.header(19) };
  }

  private gtid(standalone = false): void {
    this.events.push({
      kind: 'mariadb_gtid',
      header: this.header(162),
      gtid: { domain: 0, server: 1, seq: ++this.seq },
      flags: 0,
      standalone,
    });
  }

  /** One transaction inserting rows (id, 'v<id>') into each table given, `perEvent` rows in a
   * rows event; returns its end. */
  insert(tables: Record<string, number[]>, perEvent = Infinity): string {
    this.gtid();
    for (const [name, ids] of Object.entries(tables)) {
      const [db, table] = name.split('.');
      const map = this.map(db, table);
      this.events.push(map);
      for (let i = 0; i < ids.length; i += perEvent) {
        this.events.push({
          kind: 'rows',
          header: this.header(30),
          action: 'insert',
          tableId: map.tableId,
          flags: 0,
          table: map,
          rows: ids.slice(i, i + perEvent).map((id) => ({ after: [id, `v${id}`] })),
        });
      }
    }
    this.events.push({ kind: 'xid', header: this.header(16), xid: BigInt(this.seq) });
    return `(${this.file}, ${this.pos})`;
  }

  /** A DDL in `schema`; returns its end. */
  ddl(schema: string, query: string): string {
    this.gtid(true);
    this.events.push({
      kind: 'query',
      header: this.header(2),
      threadId: 1,
      execTime: 0,
      errorCode: 0,
      schema,
      query,
      statusVars: Buffer.alloc(0),
    });
    return `(${this.file}, ${this.pos})`;
  }
}

/** Plays canned events, then waits (like a live stream) until closed. */
export class CannedSource implements EventSource {
  private closed = false;
  private wake?: () => void;

  /** `ends`: the source ends after the events (a non-blocking read), else it waits for more. */
  constructor(
    private readonly events: BinlogEvent[],
    private readonly ends = false,
  ) {}

  close(): void {
    this.closed = true;
    this.wake?.();
  }

  async *batches(): AsyncGenerator<BinlogEvent[]> {
    for (let i = 0; i < this.events.length && !this.closed; i += 7) yield this.events.slice(i, i + 7);
    while (!this.closed && !this.ends) await new Promise<void>((r) => (this.wake = r));
  }
}

/** One target server: what its sessions committed, in order. */
export class RecordingTarget {
  /** Statements committed (DML and DDL; not the checkpoint's), in commit order. */
  readonly log: string[] = [];
  /** Sync's checkpoint rows by cp_table ('' is the global row). */
  readonly checkpoint = new Map<string, { file: string; pos: number; gtid: string; info: string }>();
  /** online-ddl's records (`<task>_onlineddl`) by shadow table `db.table`: the ddls JSON. */
  readonly online = new Map<string, string>();
  /** Tables the tracker finds: `db.table` → key column names (columns: id, v). */
  readonly tables = new Map<string, string[]>();
  /** A statement to refuse (the error to throw), checked before each statement runs. */
  refuse?: (sql: string) => Error | undefined;
  /** How long each exec takes (ms). */
  latencyMs = 0;
  /** Sessions opened so far. */
  sessions = 0;

  session(): SqlSession {
    this.sessions++;
    let txn: string[] | undefined;
    const run = (sql: string) => {
      const s = sql.trim();
      if (/^BEGIN$/i.test(s)) txn = [];
      else if (/^COMMIT$/i.test(s)) {
        for (const x of txn ?? []) this.apply(x);
        txn = undefined;
      } else if (/^ROLLBACK$/i.test(s)) txn = undefined;
      else {
        const e = this.refuse?.(s);
        if (e) throw e;
        if (txn) txn.push(s);
        else this.apply(s);
      }
    };
    return {
      flavor: 'mariadb',
      exec: async (sql) => {
        if (this.latencyMs) await new Promise((r) => setTimeout(r, this.latencyMs));
        for (const s of sql.split(';\n')) run(s);
      },
      query: async (sql) => this.query(sql),
      close: () => (txn = undefined),
    };
  }

  private apply(s: string): void {
    if (/^USE /i.test(s) || /^CREATE (DATABASE|SCHEMA|TABLE) IF NOT EXISTS `dm_meta`/i.test(s)) return;
    if (/_syncer_checkpoint` \(id,/.test(s)) {
      const v = sqlValues(s.slice(s.indexOf('VALUES (') + 8));
      this.checkpoint.set(String(v[2]), {
        file: String(v[3]),
        pos: Number(v[4]),
        gtid: String(v[5]),
        info: String(v[6]),
      });
      return;
    }
    if (/_onlineddl` \(id,/.test(s)) {
      const v = sqlValues(s.slice(s.indexOf('VALUES (') + 8));
      this.online.set(`${v[1]}.${v[2]}`, String(v[3]));
      return;
    }
    const del =
      /^DELETE FROM `dm_meta`\.`\w+_onlineddl` WHERE id = '[^']*' AND ghost_schema = '([^']*)' AND ghost_table = '([^']*)'$/.exec(
        s,
      );
    if (del) {
      this.online.delete(`${del[1]}.${del[2]}`);
      return;
    }
    this.log.push(s);
  }

  private query(sql: string): Record<string, string | null>[] {
    if (/_syncer_checkpoint/.test(sql)) {
      return [...this.checkpoint.values()].map((r) => ({
        binlog_name: r.file,
        binlog_pos: String(r.pos),
        binlog_gtid: r.gtid,
        table_info: r.info,
      }));
    }
    if (/_onlineddl/.test(sql)) {
      return [...this.online].map(([k, ddls]) => {
        const [ghost_schema, ghost_table] = k.split('.');
        return { ghost_schema, ghost_table, ddls };
      });
    }
    const m = /TABLE_SCHEMA = '([^']*)' AND TABLE_NAME = '([^']*)'/.exec(sql);
    const key = m && this.tables.get(`${m[1]}.${m[2]}`);
    if (!key) return [];
    if (/information_schema\.COLUMNS/.test(sql))
      return ['id', 'v'].map((c) => ({ c, x: '', n: 'NO', t: c === 'id' ? 'int(11)' : 'varchar(20)' }));
    if (/information_schema\.STATISTICS/.test(sql)) return key.map((c) => ({ i: 'PRIMARY', c }));
    return [];
  }

  /** Ids inserted into `db`.`table` by the committed statements, in order (with repeats). */
  inserted(db: string, table: string): number[] {
    const out: number[] = [];
    for (const s of this.log) {
      if (!new RegExp(`^(INSERT|REPLACE) INTO \`${db}\`\\.\`${table}\``).test(s)) continue;
      for (const m of s.matchAll(/\((\d+),'/g)) out.push(Number(m[1]));
    }
    return out;
  }
}

/** Values of a VALUES (…) list: quoted strings (with backslash escapes) and numbers. */
function sqlValues(s: string): (string | number)[] {
  const out: (string | number)[] = [];
  let i = 0;
  while (i < s.length && s[i] !== ')') {
    if (s[i] === ',' || s[i] === ' ') i++;
    else if (s[i] === "'") {
      let v = '';
      for (i++; s[i] !== "'"; i++)
        v += s[i] === '\\' ? ({ n: '\n', r: '\r', '0': '\0' }[s[++i]] ?? s[i]) : s[i];
      out.push(v);
      i++;
    } else {
      const m = /^[^,)]+/.exec(s.slice(i))![0];
      out.push(Number(m.trim()));
      i += m.length;
    }
  }
  return out;
}

/** Sync's edges over canned events, an upstream at `master`, and a recording target. */
export function fakeEdges(
  target: RecordingTarget,
  events: () => BinlogEvent[],
  master: () => BinlogPosition,
): SyncEdges & { starts: { file: string; pos: number }[] } {
  const starts: { file: string; pos: number }[] = [];
  const upstream = (): SqlSession => ({
    flavor: 'mariadb',
    exec: async () => undefined,
    query: async (sql) => {
      if (sql === 'SHOW MASTER STATUS') return [{ File: master().file, Position: String(master().pos) }];
      if (/gtid_binlog_pos|BINLOG_GTID_POS/.test(sql)) return [{ g: '' }];
      return [];
    },
    close: () => undefined,
  });
  return {
    starts,
    target: async () => target.session(),
    upstream: async () => upstream(),
    events: async ({ start }) => {
      starts.push(start.pos);
      // the stream starts at the first event after the start position
      return new CannedSource(events().filter((e) => e.header.logPos > start.pos.pos));
    },
    scan: (pos) =>
      new CannedSource(
        events().filter((e) => e.header.logPos > pos.pos),
        true,
      ),
  };
}

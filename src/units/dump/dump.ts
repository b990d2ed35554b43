// The Dump unit: exports every selected table of the upstream into a dump directory from one
// consistent snapshot, in parallel chunks, as mydumper-style SQL files, then writes `metadata`
// (the snapshot's binlog position) last. A dump that did not finish is started over.
import { mkdir, open, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../log.js';
import { randomUUID } from 'node:crypto';
import {
  downstreamRole,
  openConnection,
  privilegeError,
  quoteId,
  quoteTable,
  serverIdentity,
  upstreamRole,
} from '../../mysql/connect.js';
import type { PacketConnection } from '../../mysql/protocol.js';
import { replicatedOf } from '../tables.js';
import { DMError, ERR } from '../../errors.js';
import { strictCollation } from '../../schema/collation.js';
import { SPATIAL_TYPES } from '../../schema/types.js';
import type { SubTaskConfig } from '../../task/config.js';
import { okResult, runCancellable, percent, type Unit } from '../unit.js';
import type { ProcessResult } from '../../task/status.js';
import { chunkConditions, chunkCount } from './chunks.js';
import { dataFile, METADATA_FILE, schemaCreateFile, tableKeysFile, tableSchemaFile } from './files.js';
import { splitSecondaryKeys } from './keys.js';
import { formatMetadata, readFinishedDump } from './metadata.js';
import { DumpRecord, foreignDump } from './ownership.js';
import { ByteBuf, takesLoadDataLocal } from '../../mysql/tsv.js';
import { encodeRow, encodeTsvRow, valueKind, type ValueKind } from './rowsql.js';
import { columnMappingOf } from '../tables.js';
import { takeSnapshot } from './snapshot.js';
import type { DumpFeed } from './feed.js';

const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'bigint']);
/** Types whose values the dump writes as hex literals: their tables stay INSERT statements. */
const HEX_TYPES = new Set(['bit', ...SPATIAL_TYPES]);
const FLUSH_BYTES = 4 << 20;
/** Tables at least this large (the upstream's DATA_LENGTH) get their plain secondary keys after
 * their rows (keys.ts); below it an ALTER per table costs more than it saves. */
const KEYS_AFTER_BYTES = 16 << 20;

interface TableInfo {
  db: string;
  table: string;
  estimatedRows: number;
  dataBytes: number;
  /** The SELECT list: every stored column (FLOAT as exact doubles), and the INSERT column list. */
  selectList: string;
  insertHead: Buffer;
  /** Written as tab-separated rows for LOAD DATA (the target takes LOCAL INFILE, and no column
   * needs a hex literal), with this first line: the column list. */
  tsv?: Buffer;
  splitColumn?: string;
  splitIsPrimary: boolean;
  nextFile: number;
  pendingChunks: number;
}

interface Chunk {
  t: TableInfo;
  where?: string;
}

export class DumpUnit implements Unit {
  readonly name = 'Dump' as const;
  private tables: TableInfo[] = [];
  /** The target takes LOAD DATA LOCAL INFILE (takesLoadDataLocal): data files are written for it. */
  private loadData = false;
  private readonly mapping;
  private finishedRows = 0;
  private finishedBytes = 0;
  private completedTables = 0;
  private startedAt = 0;
  private conns: PacketConnection[] = [];
  private readonly record: DumpRecord;
  /** The Load importing while this dump runs (the next run only). */
  private feed?: DumpFeed;

  constructor(
    private readonly cfg: SubTaskConfig,
    /** The dump directory of this subtask. */
    readonly dir: string,
    private readonly log: Logger,
  ) {
    this.record = new DumpRecord(cfg.metaSchema, cfg.name, cfg.instance.sourceId);
    this.mapping = columnMappingOf(cfg);
  }

  /** The upstream server the dump is taken from (see serverIdentity). */
  private async upstreamIdentity(): Promise<string> {
    const c = await openConnection(this.cfg.source.from, upstreamRole());
    try {
      return await serverIdentity(c);
    } finally {
      c.close();
    }
  }

  private async onTarget<T>(f: (c: PacketConnection) => Promise<T>): Promise<T> {
    const c = await openConnection(this.cfg.targetDatabase, downstreamRole());
    try {
      return await f(c);
    } finally {
      c.close();
    }
  }

  /** Why the finished dump in the directory is not this run's (see ownership.ts); undefined when
   * it is, or when there is no finished dump. */
  async foreign(): Promise<string | undefined> {
    const m = await readFinishedDump(this.dir);
    if (!m) return undefined;
    const recorded = await this.onTarget((c) => this.record.read(c));
    return foreignDump(m, recorded, await this.upstreamIdentity());
  }

  /** Removes a finished dump that is not this run's, saying why; true when it did. */
  async discardForeign(): Promise<boolean> {
    const why = await this.foreign();
    if (!why) return false;
    this.log.warn({ dir: this.dir, why }, "dump: the dump directory is not this task run's; dumping again");
    await rm(this.dir, { recursive: true, force: true });
    return true;
  }

  async init(): Promise<void> {}

  /** Tells `feed` of the next run's progress (a Load imports its files as they are complete). */
  announce(feed: DumpFeed): void {
    this.feed = feed;
  }

  async isFresh(): Promise<boolean> {
    return !(await readFinishedDump(this.dir));
  }

  async removeMeta(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
    await this.onTarget((c) => this.record.clear(c));
  }

  async close(): Promise<void> {}

  status(): Record<string, unknown> {
    const est = this.tables.reduce((s, t) => s + t.estimatedRows, 0);
    const secs = this.startedAt ? (Date.now() - this.startedAt) / 1000 : 0;
    return {
      totalTables: String(this.tables.length),
      completedTables: String(this.completedTables),
      finishedBytes: String(this.finishedBytes),
      finishedRows: String(this.finishedRows),
      estimateTotalRows: String(est),
      progress: percent(this.completedTables, this.tables.length),
      bps: String(secs > 0 ? Math.round(this.finishedBytes / secs) : 0),
    };
  }

  /** Bytes the last run's snapshot connections read from the upstream (Sync's `dumpIOTotalBytes`). */
  get ioBytes(): number {
    return this.conns.reduce((n, c) => n + c.bytesRead, 0);
  }

  async process(signal: AbortSignal): Promise<ProcessResult> {
    const feed = this.feed;
    this.feed = undefined;
    const r = await this.dump(signal, feed);
    feed?.end(!r.errors.length && !r.isCanceled);
    return r;
  }

  private async dump(signal: AbortSignal, feed?: DumpFeed): Promise<ProcessResult> {
    const conns: PacketConnection[] = [];
    this.conns = conns;
    return runCancellable(signal, conns, async () => {
      this.startedAt = Date.now();
      this.finishedRows = this.finishedBytes = this.completedTables = 0;
      await rm(this.dir, { recursive: true, force: true });
      await mkdir(this.dir, { recursive: true });
      const dumpId = randomUUID();
      const upstream = await this.upstreamIdentity();
      await this.onTarget(async (c) => {
        await this.record.begin(c, dumpId, upstream);
        this.loadData = await takesLoadDataLocal(c);
      });
      const md = this.cfg.instance.mydumper;
      const startedAt = new Date();
      const snap = await takeSnapshot(
        { ...this.cfg.source.from },
        md.threads,
        !md.skipTzUtc,
        this.log,
        async (c) => {
          conns.push(c);
          await this.discover(c);
        },
      );
      conns.push(...snap.conns.filter((c) => !conns.includes(c)));
      if (signal.aborted) return okResult(true);
      feed?.schemas();
      this.log.info(
        {
          tables: this.tables.length,
          binlog: `(${snap.binlogName}, ${snap.binlogPos})`,
          gtid: snap.gtid,
          threads: snap.conns.length,
        },
        'dump: snapshot taken',
      );
      const chunks = await this.plan(snap.conns[0]);
      await Promise.all(snap.conns.map((c) => this.worker(c, chunks, feed)));
      for (const c of snap.conns) c.close();
      const meta = formatMetadata({
        startedAt,
        finishedAt: new Date(),
        binlogName: snap.binlogName,
        binlogPos: snap.binlogPos,
        gtid: snap.gtid,
        dumpId,
        upstream,
      });
      await writeFile(join(this.dir, METADATA_FILE + '.tmp'), meta);
      await rename(join(this.dir, METADATA_FILE + '.tmp'), join(this.dir, METADATA_FILE));
      this.log.info(
        { rows: this.finishedRows, bytes: this.finishedBytes, ms: Date.now() - this.startedAt },
        'dump: finished',
      );
      return okResult();
    });
  }

  /** Lists the selected tables, their columns and keys, and writes the schema files. */
  private async discover(c: PacketConnection): Promise<void> {
    const filter = replicatedOf(this.cfg);
    const user = this.cfg.source.from.user;
    const q = async (sql: string) => {
      try {
        return await c.query(sql);
      } catch (e) {
        throw privilegeError(
          e,
          upstreamRole(),
          user,
          'read the table list',
          'GRANT SELECT ON db.* TO {user}',
        );
      }
    };
    const all = await q(
      "SELECT TABLE_SCHEMA s, TABLE_NAME t, TABLE_ROWS r, DATA_LENGTH d FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_SCHEMA, TABLE_NAME",
    );
    const listed = this.cfg.instance.mydumper.tablesList;
    const tables = all.filter(
      (r) => filter.table(r.s!, r.t!) && (!listed || inList(listed, r.s!, r.t!, this.cfg.caseSensitive)),
    );
    for (const l of listed ?? []) {
      const found = all.find((r) => inList([l], r.s!, r.t!, this.cfg.caseSensitive));
      if (!found || !filter.table(found.s!, found.t!)) {
        throw new DMError(ERR.configFile, {
          message: `mydumpers extra-args --tables-list names ${quoteTable(l.db, l.table)}, which ${found ? 'the block-allow list leaves out' : 'does not exist upstream'}`,
          workaround:
            'List only tables that exist and that the block-allow list selects, then start the task again.',
        });
      }
    }
    // every schema with a selected table, and the wholly selected ones even when empty
    const schemata = (await q('SELECT SCHEMA_NAME s FROM information_schema.SCHEMATA ORDER BY 1')).map(
      (r) => r.s!,
    );
    const dbs = [
      ...new Set([
        ...tables.map((r) => r.s!),
        ...(listed ? [] : schemata.filter((d) => filter.wholeSchema(d))),
      ]),
    ];
    const cols = await q(
      'SELECT TABLE_SCHEMA s, TABLE_NAME t, COLUMN_NAME c, DATA_TYPE dt, EXTRA x, IS_NULLABLE n FROM information_schema.COLUMNS ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION',
    );
    const keys = await q(
      "SELECT TABLE_SCHEMA s, TABLE_NAME t, INDEX_NAME i, COLUMN_NAME c FROM information_schema.STATISTICS WHERE NON_UNIQUE = 0 AND SEQ_IN_INDEX = 1 ORDER BY INDEX_NAME <> 'PRIMARY', INDEX_NAME",
    );
    const key = (s: string, t: string) => `${s}\0${t}`;
    const colsOf = new Map<string, Record<string, string | null>[]>();
    for (const r of cols) {
      const k = key(r.s!, r.t!);
      if (!colsOf.has(k)) colsOf.set(k, []);
      colsOf.get(k)!.push(r);
    }
    // collation_compatible strict: every collation written out, not left to the target's defaults
    const strict = this.cfg.collationCompatible === 'strict' ? await upstreamCollations(q) : undefined;
    for (const db of dbs) {
      const rows = await q(`SHOW CREATE DATABASE ${quoteId(db)}`);
      let create = rows[0]['Create Database']!;
      if (strict) {
        const s = strict.schemata.get(db);
        if (s)
          create = `CREATE DATABASE ${quoteId(db)} DEFAULT CHARACTER SET ${s.charset} COLLATE ${s.collation}`;
      }
      await writeFile(join(this.dir, schemaCreateFile(db)), `${create};\n`);
    }
    this.tables = [];
    for (const r of tables) {
      const db = r.s!;
      const table = r.t!;
      const shown = (await q(`SHOW CREATE TABLE ${quoteTable(db, table)}`))[0]['Create Table']!;
      let create = strict ? strictCollation(shown, strict) : shown;
      // (not when the dump is the task's product: another tool may load it)
      const split =
        this.cfg.taskMode !== 'dump' && Number(r.d ?? 0) >= KEYS_AFTER_BYTES
          ? splitSecondaryKeys(create)
          : undefined;
      if (split) {
        create = split.table;
        await writeFile(join(this.dir, tableKeysFile(db, table)), split.keys.join('\n') + '\n');
      }
      await writeFile(join(this.dir, tableSchemaFile(db, table)), `${create};\n`);
      const columns = (colsOf.get(key(db, table)) ?? []).filter((col) => !/GENERATED/i.test(col.x ?? ''));
      const byName = new Map(columns.map((col) => [col.c!, col]));
      let splitColumn: string | undefined;
      let splitIsPrimary = false;
      for (const k of keys) {
        if (k.s !== db || k.t !== table) continue;
        const col = byName.get(k.c!);
        if (col && INTEGER_TYPES.has(col.dt!.toLowerCase()) && col.n === 'NO') {
          splitColumn = col.c!;
          splitIsPrimary = k.i === 'PRIMARY';
          break;
        }
      }
      const selectList = columns
        .map((col) => (col.dt!.toLowerCase() === 'float' ? `${quoteId(col.c!)}+0e0` : quoteId(col.c!)))
        .join(',');
      const columnList = `(${columns.map((col) => quoteId(col.c!)).join(',')})`;
      const tsv =
        this.loadData &&
        !columns.some((col) => HEX_TYPES.has(col.dt!.toLowerCase())) &&
        !this.mappedTable(db, table);
      this.tables.push({
        db,
        table,
        estimatedRows: Number(r.r ?? 0),
        dataBytes: Number(r.d ?? 0),
        selectList,
        ...(tsv ? { tsv: Buffer.from(columnList + '\n', 'utf8') } : {}),
        insertHead: Buffer.from(`INSERT INTO ${quoteId(table)} ${columnList} VALUES\n`, 'utf8'),
        splitColumn,
        splitIsPrimary,
        nextFile: 1,
        pendingChunks: 0,
      });
    }
  }

  /** Whether a column mapping names the table (its rows are mapped as INSERT statements). */
  private mappedTable(db: string, table: string): boolean {
    try {
      return this.mapping.active && !!this.mapping.forTable(db, table);
    } catch {
      return true; // the load reports the rule's problem
    }
  }

  /** Splits tables into chunks (in the snapshot): the first chunk of each table (biggest tables
   * first), then the second of each, and so on, so the files completed early belong to many
   * tables, which Load imports side by side while the dump goes on. */
  private async plan(c: PacketConnection): Promise<Chunk[]> {
    const md = this.cfg.instance.mydumper;
    const chunks: Chunk[][] = [];
    if (md.noData) {
      // extra-args --no-data: the structures only
      this.completedTables = this.tables.length;
      return [];
    }
    const order = [...this.tables].sort((a, b) => b.dataBytes - a.dataBytes);
    for (const t of order) {
      let min: bigint | undefined;
      let max: bigint | undefined;
      const shape = { splitColumn: t.splitColumn, estimatedRows: t.estimatedRows, dataBytes: t.dataBytes };
      const opts = { threads: md.threads, rows: md.rows, chunkBytes: md.chunkFilesize << 20 };
      // the key's range only for a table that would be split (many small tables: no query each)
      if (t.splitColumn && chunkCount({ ...shape, min: 0n, max: 1n << 62n }, opts) > 1) {
        const col = quoteId(t.splitColumn);
        const r = await c.query(`SELECT MIN(${col}) lo, MAX(${col}) hi FROM ${quoteTable(t.db, t.table)}`);
        if (r[0].lo !== null && r[0].hi !== null) {
          min = BigInt(r[0].lo);
          max = BigInt(r[0].hi);
        }
      }
      const conds = chunkConditions({ ...shape, min, max }, opts);
      t.pendingChunks = conds.length;
      chunks.push(conds.map((where) => ({ t, where })));
    }
    return interleave(chunks);
  }

  private async worker(c: PacketConnection, queue: Chunk[], feed?: DumpFeed): Promise<void> {
    // one buffer for every chunk of this worker (a new one per chunk: 10 000 small tables made
    // 50 GB of garbage)
    const out = new ByteBuf(FLUSH_BYTES + (1 << 20));
    for (let chunk = queue.shift(); chunk; chunk = queue.shift()) {
      try {
        out.reset();
        await this.dumpChunk(c, chunk, out, (name) => feed?.file(name));
      } catch (e) {
        const { db, table } = chunk.t;
        throw privilegeError(
          e,
          upstreamRole(),
          this.cfg.source.from.user,
          `read ${quoteTable(db, table)}`,
          `GRANT SELECT ON ${quoteId(db)}.* TO {user}`,
        );
      }
      if (--chunk.t.pendingChunks === 0) this.completedTables++;
    }
  }

  /** Dumps a chunk into one or more data files; `complete` hears of each once it is closed. */
  private async dumpChunk(
    c: PacketConnection,
    { t, where }: Chunk,
    out: ByteBuf,
    complete: (name: string) => void,
  ): Promise<void> {
    const md = this.cfg.instance.mydumper;
    const conds = [where, md.where ? `(${md.where})` : undefined].filter(Boolean);
    const sql =
      `SELECT ${t.selectList} FROM ${quoteTable(t.db, t.table)}` +
      (conds.length ? ` WHERE ${conds.join(' AND ')}` : '') +
      (t.splitIsPrimary && t.splitColumn ? ` ORDER BY ${quoteId(t.splitColumn)}` : '');
    const chunkBytes = md.chunkFilesize << 20;
    let file: FileHandle | undefined;
    let name = '';
    let fileBytes = 0;
    let stmtStart = -1; // offset in `out` of the open statement's first byte, or -1
    let stmtBytes = 0;
    let kinds: ValueKind[] = [];
    const flush = async () => {
      if (!out.len) return;
      const n = out.len;
      await file!.write(out.buf, 0, n);
      this.finishedBytes += n;
      fileBytes += n;
      out.reset();
      if (stmtStart >= 0) stmtStart = 0;
    };
    const endStatement = () => {
      out.ascii(';\n');
      stmtStart = -1;
    };
    const closeFile = async () => {
      if (stmtStart >= 0) endStatement();
      await flush();
      if (!file) return;
      await file.close();
      file = undefined;
      complete(name);
    };
    try {
      await c.stream(
        sql,
        (cols) => (kinds = cols.map(valueKind)),
        async (rows) => {
          for (const p of rows) {
            if (!file) {
              name = dataFile(t.db, t.table, t.nextFile++, t.tsv ? 'tsv' : 'sql');
              file = await open(join(this.dir, name), 'w');
              fileBytes = 0;
              if (t.tsv) out.bytes(t.tsv);
              else out.ascii('/*!40101 SET NAMES binary*/;\n/*!40014 SET FOREIGN_KEY_CHECKS=0*/;\n');
            }
            if (t.tsv) {
              encodeTsvRow(p, kinds.length, out);
              this.finishedRows++;
              if (out.len >= FLUSH_BYTES) await flush();
              if (chunkBytes > 0 && fileBytes + out.len >= chunkBytes) await closeFile();
              continue;
            }
            if (stmtStart < 0) {
              stmtStart = out.len;
              stmtBytes = 0;
              out.bytes(t.insertHead);
            } else out.ascii(',\n');
            const before = out.len;
            encodeRow(p, kinds, out);
            stmtBytes += out.len - before + 2;
            this.finishedRows++;
            if (stmtBytes + t.insertHead.length >= md.statementSize) {
              endStatement();
              if (chunkBytes > 0 && fileBytes + out.len >= chunkBytes) await closeFile();
            }
            if (out.len >= FLUSH_BYTES) await flush();
          }
        },
      );
      await closeFile();
    } finally {
      await file?.close().catch(() => undefined);
    }
  }
}

/** The first of each list, then the second of each, and so on. Pure. */
export function interleave<T>(lists: T[][]): T[] {
  const out: T[] = [];
  const longest = Math.max(0, ...lists.map((l) => l.length));
  for (let i = 0; i < longest; i++) for (const l of lists) if (i < l.length) out.push(l[i]);
  return out;
}

/** Whether a table is one of a --tables-list. */
function inList(
  list: { db: string; table: string }[],
  db: string,
  table: string,
  caseSensitive: boolean,
): boolean {
  const f = (x: string) => (caseSensitive ? x : x.toLowerCase());
  return list.some((l) => f(l.db) === f(db) && f(l.table) === f(table));
}

/** The upstream's charset defaults and each schema's charset and collation (strict collations). */
async function upstreamCollations(q: (sql: string) => Promise<Record<string, string | null>[]>) {
  const defaults = new Map(
    (
      await q(
        "SELECT CHARACTER_SET_NAME c, COLLATION_NAME n FROM information_schema.COLLATIONS WHERE IS_DEFAULT = 'Yes'",
      )
    ).map((r) => [r.c!.toLowerCase(), r.n!]),
  );
  const schemata = new Map(
    (
      await q(
        'SELECT SCHEMA_NAME s, DEFAULT_CHARACTER_SET_NAME c, DEFAULT_COLLATION_NAME n FROM information_schema.SCHEMATA',
      )
    ).map((r) => [r.s!, { charset: r.c!, collation: r.n! }]),
  );
  return { defaults, schemata };
}

// The Load unit: creates the dumped schemas and tables on the target and imports the data files
// in parallel (`loaders.pool-size`), each file in one transaction together with its checkpoint
// row, so a crash or a pause at any moment resumes without importing a file twice.
import {
  ColumnMappingError,
  mapDumpedInsert,
  type ColumnMapping,
  type TableMapping,
} from '../../rules/column-mapping.js';
import { columnMappingOf } from '../tables.js';
import { targetSqlMode } from '../../mysql/session.js';
import { formatPosition } from '../../binlog/position.js';
import { locationOf } from '../../binlog/location.js';
import { open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DMError, ERR } from '../../errors.js';
import type { Logger } from '../../log.js';
import {
  downstreamRole,
  openConnection,
  privilegeError,
  quoteId,
  quoteString,
  quoteTable,
} from '../../mysql/connect.js';
import { isMissingMeta } from '../meta.js';
import { isServerError, type PacketConnection } from '../../mysql/protocol.js';
import { NO_SUCH_TABLE, PRIVILEGE } from '../../mysql/errno.js';
import type { SubTaskConfig } from '../../task/config.js';
import {
  renameDatabase,
  routeStatement,
  routerOf,
  type ExtraColumn,
  type Router,
} from '../../rules/route.js';
import { parseDumpFile, tableKeysFile, type DumpFile } from '../dump/files.js';
import { KeysAfterRows } from './keys.js';
import type { DumpFeed } from '../dump/feed.js';
import { FileQueue } from './queue.js';
import { readFinishedDump, type DumpMetadata } from '../dump/metadata.js';
import {
  ExecSQLError,
  runCancellable,
  isRetryableServerError,
  okResult,
  percent,
  type Unit,
} from '../unit.js';
import type { ProcessResult } from '../../task/status.js';
import { LoaderCheckpoint, type Interrupted } from './checkpoint.js';
import { readStatements } from './statements.js';
import { loadTsv } from './load-data.js';

const ROLE = downstreamRole();

interface SchemaFile {
  db: string;
  table?: string;
  filename: string;
  /** The table's keys to add after its rows (KeysAfterRows). */
  keys?: string;
}

/** The schema files of a dump directory: databases, and tables with their keys file if any. */
function schemaFiles(names: string[]): SchemaFile[] {
  const all = new Set(names);
  const out: SchemaFile[] = [];
  for (const filename of [...names].sort()) {
    const f = parseDumpFile(filename);
    if (f?.kind === 'schema-create') out.push({ db: f.db, filename });
    if (f?.kind !== 'table-schema') continue;
    const keys = tableKeysFile(f.db, f.table);
    out.push({ db: f.db, table: f.table, filename, ...(all.has(keys) ? { keys } : {}) });
  }
  return out;
}

interface DataFile {
  filename: string;
  db: string;
  table: string;
  format: 'sql' | 'tsv';
  size: number;
}

const INSERT_INTO = Buffer.from('INSERT INTO ', 'latin1');
const HEADS = {
  replace: Buffer.from('REPLACE INTO ', 'latin1'),
  ignore: Buffer.from('INSERT IGNORE INTO ', 'latin1'),
  error: INSERT_INTO,
};

/** Rewrites a dumped `INSERT INTO <from> …` for the `on-duplicate` policy and, when the table is
 * routed, into `<to>` (both quoted names, as the dump writes them). */
export function applyOnDuplicate(
  sql: Buffer,
  policy: 'replace' | 'error' | 'ignore',
  from?: string,
  to?: string,
): Buffer {
  if (sql.compare(INSERT_INTO, 0, INSERT_INTO.length, 0, INSERT_INTO.length) !== 0) return sql;
  const rename = from !== undefined && to !== undefined && from !== to;
  const name = rename ? Buffer.from(from + ' ', 'utf8') : undefined;
  const renamed =
    name && sql.compare(name, 0, name.length, INSERT_INTO.length, INSERT_INTO.length + name.length) === 0;
  if (policy === 'error' && !renamed) return sql;
  return Buffer.concat([
    HEADS[policy],
    renamed ? Buffer.from(to + ' ', 'utf8') : Buffer.alloc(0),
    sql.subarray(INSERT_INTO.length + (renamed ? name.length : 0)),
  ]);
}

const NL = 0x0a;

/** Adds a route's extract-* columns to a dumped INSERT: to the column list of its first line and
 * as constant values to each row (one row per line: the dump escapes newlines in values). */
export function addExtraColumns(sql: Buffer, extras: ExtraColumn[]): Buffer {
  if (!extras.length || !/^(INSERT|REPLACE)\b/i.test(sql.subarray(0, 20).toString('latin1'))) return sql;
  const nl = sql.indexOf(NL);
  const header = sql.subarray(0, nl < 0 ? sql.length : nl).toString('latin1');
  const at = header.lastIndexOf(') VALUES');
  if (nl < 0 || at < 0) return sql;
  const cols = Buffer.from(extras.map((e) => ',' + quoteId(e.column)).join(''), 'utf8');
  const vals = Buffer.from(extras.map((e) => ',' + quoteString(e.value)).join(''), 'utf8');
  const parts: Buffer[] = [sql.subarray(0, at), cols, sql.subarray(at, nl + 1)];
  let start = nl + 1;
  while (start < sql.length) {
    let end = sql.indexOf(NL, start);
    if (end < 0) end = sql.length;
    const line = sql.subarray(start, end);
    if (!line.length) {
      start = end + 1;
      continue;
    }
    const close = line.length && line[line.length - 1] === 0x2c ? line.length - 2 : line.length - 1;
    parts.push(line.subarray(0, close), vals, line.subarray(close));
    if (end < sql.length) parts.push(sql.subarray(end, end + 1));
    start = end + 1;
  }
  return Buffer.concat(parts);
}

/** A table's column mapping; a rule problem is the subtask's error. */
function mappingOf(m: ColumnMapping, db: string, table: string): TableMapping | undefined {
  return m.active ? mapped(() => m.forTable(db, table)) : undefined;
}

function mapped<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ColumnMappingError) throw new DMError(ERR.columnMapping, e.message);
    throw e;
  }
}

/** loaders.sql-log-bin: false: this session's writes stay out of the target's binlog (the load
 * is faster, and the target's own replicas do not get the rows: the operator's choice). */
async function skipBinlog(c: PacketConnection, user: string): Promise<void> {
  try {
    await c.exec('SET SESSION sql_log_bin = 0');
  } catch (e) {
    if (!isServerError(e, PRIVILEGE)) throw e;
    throw new DMError(ERR.downstreamPrivilege, {
      message: `loaders.sql-log-bin: false needs the target user '${user}' to set sql_log_bin: ${(e as Error).message}`,
      workaround: `Grant it (MariaDB: GRANT BINLOG ADMIN ON *.* TO '${user}'@'%'; MySQL: SYSTEM_VARIABLES_ADMIN), or remove sql-log-bin: false to load with the target's binlog on.`,
    });
  }
}

export class LoadUnit implements Unit {
  readonly name = 'Load' as const;
  private readonly checkpoint: LoaderCheckpoint;
  private readonly keys: KeysAfterRows;
  private readonly router: Router;
  private readonly mapping: ColumnMapping;
  private totalBytes = 0;
  private committedBytes = 0;
  /** While this run imports: since when, and the bytes done then (for `bps`). */
  private importing?: { at: number; bytes: number };
  private readonly inFlight = new Map<string, number>();
  /** Files imported by this process (for tests and logs). */
  importedFiles = 0;
  /** The dump's snapshot position, known once the dump directory was read. */
  metadata?: DumpMetadata;
  /** The dump to import from while it runs (the next run only). */
  private feed?: DumpFeed;

  constructor(
    private readonly cfg: SubTaskConfig,
    readonly dir: string,
    private readonly log: Logger,
  ) {
    this.checkpoint = new LoaderCheckpoint(cfg.metaSchema, cfg.name, cfg.instance.sourceId);
    this.keys = new KeysAfterRows(dir, this.checkpoint, log);
    this.mapping = columnMappingOf(cfg);
    this.router = routerOf(cfg.instance.routeRules, cfg.routes, cfg.caseSensitive, cfg.instance.sourceId);
  }

  async init(): Promise<void> {}

  async close(): Promise<void> {}

  status(): Record<string, unknown> {
    let done = this.committedBytes;
    for (const b of this.inFlight.values()) done += b;
    const secs = this.importing ? (Date.now() - this.importing.at) / 1000 : 0;
    return {
      finishedBytes: String(done),
      totalBytes: String(this.totalBytes),
      progress: percent(done, this.totalBytes),
      metaBinlog: this.metadata ? formatPosition(locationOf(this.metadata).pos) : '',
      metaBinlogGTID: this.metadata?.gtid ?? '',
      // DM v2's: bytes imported per second by this run (0 while it does not import)
      bps: String(secs > 0 ? Math.round((done - this.importing!.bytes) / secs) : 0),
    };
  }

  private async connect(): Promise<PacketConnection> {
    const c = await openConnection({ ...this.cfg.targetDatabase, localInfile: true }, ROLE);
    const utc = !this.cfg.instance.mydumper.skipTzUtc;
    await c.exec('SET NAMES binary');
    await c.exec(`SET SESSION sql_mode = '${targetSqlMode(this.cfg.targetDatabase.session)}'`);
    await c.exec('SET SESSION foreign_key_checks = 0');
    if (utc) await c.exec("SET SESSION time_zone = '+00:00'");
    if (!this.cfg.instance.loader.sqlLogBin) await skipBinlog(c, this.cfg.targetDatabase.user);
    return c;
  }

  /** Whether no earlier run began importing (which it does only from a complete dump). */
  async isFresh(): Promise<boolean> {
    const c = await this.connect();
    try {
      return (await this.checkpoint.load(c)).size === 0;
    } catch (e) {
      if (isMissingMeta(e)) return true;
      throw e;
    } finally {
      c.close();
    }
  }

  async removeMeta(): Promise<void> {
    const c = await this.connect();
    try {
      await this.checkpoint.clear(c);
    } finally {
      c.close();
    }
  }

  /** The next run imports the dump's files as `feed` announces them, while the dump runs. */
  follow(feed: DumpFeed): void {
    this.feed = feed;
  }

  async process(signal: AbortSignal): Promise<ProcessResult> {
    const conns: PacketConnection[] = [];
    const feed = this.feed;
    this.feed = undefined;
    this.importing = undefined;
    return runCancellable(signal, conns, async () => {
      const setup = await this.connect();
      conns.push(setup);
      const pool = [setup];
      const grow = async (n: number) => {
        while (pool.length < n) {
          const c = await this.connect();
          conns.push(c);
          pool.push(c);
        }
        return pool;
      };
      try {
        await this.checkpoint.prepare(setup);
      } catch (e) {
        throw privilegeError(
          e,
          ROLE,
          this.cfg.targetDatabase.user,
          `create the checkpoint table ${this.checkpoint.table}`,
          `GRANT ALL ON ${quoteId(this.cfg.metaSchema)}.* TO {user}`,
        );
      }
      let state = await this.checkpoint.load(setup);
      let created = false;
      if (feed) {
        created = await this.alongside(feed, state.size === 0, setup, grow, signal);
        if (!feed.finished || signal.aborted) return okResult(true); // the dump's result is the subtask's
        state = await this.checkpoint.load(setup);
      }
      this.metadata = await readFinishedDump(this.dir);
      if (!this.metadata) {
        if (state.size && [...state.values()].every((f) => f.offset >= f.endPos)) {
          this.totalBytes = this.committedBytes = [...state.values()].reduce((s, f) => s + f.endPos, 0);
          return okResult(); // imported earlier; the dump files are already cleaned up
        }
        throw new DMError(ERR.loadDumpDirNotFound, {
          message: `the dump directory ${this.dir} holds no finished dump (its 'metadata' file is missing or unfinished)`,
          workaround:
            'Restart the task so it dumps again (stop-task, then start-task), or point loaders.dir at a complete dump.',
        });
      }
      await this.checkpoint.endOverlap(setup);
      const names = await readdir(this.dir);
      const files: DataFile[] = [];
      const schemas = schemaFiles(names);
      for (const filename of names.sort()) {
        const f = parseDumpFile(filename);
        if (f?.kind === 'data') files.push(await this.dataFile(filename, f));
      }
      await this.checkpoint.register(
        setup,
        files.filter((f) => !state.has(f.filename)),
      );
      this.totalBytes = files.reduce((s, f) => s + f.size, 0);
      const done = (f: DataFile) => {
        const st = state.get(f.filename);
        return st !== undefined && st.offset >= st.endPos;
      };
      this.committedBytes = files.filter(done).reduce((s, f) => s + f.size, 0);
      const queue = new FileQueue(files.filter((f) => !done(f)));
      const workers = Math.max(
        1,
        Math.min(this.cfg.instance.loader.poolSize, Math.max(queue.length, created ? 0 : schemas.length)),
      );
      await grow(workers);
      if (!created) await this.createSchemas(pool, schemas);
      await this.findAutoIncTables(setup);
      this.importing = { at: Date.now(), bytes: this.committedBytes };
      this.log.info(
        { files: files.length, remaining: queue.length, totalBytes: this.totalBytes },
        'load: importing',
      );
      await Promise.all(pool.map((c) => this.worker(c, queue, signal)));
      if (signal.aborted) return okResult(true);
      await this.keys.addPending(pool, (db, table) => this.router.route(db, table));
      await this.cleanDumpFiles(names);
      return okResult();
    }).finally(() => {
      this.inFlight.clear();
      this.importing = undefined;
    });
  }

  private async dataFile(filename: string, f: Extract<DumpFile, { kind: 'data' }>): Promise<DataFile> {
    const size = (await stat(join(this.dir, filename))).size;
    return { filename, db: f.db, table: f.table, format: f.format, size };
  }

  /** While the dump runs (`fresh`: nothing imported before), its files are imported as they are
   * complete, except those of tables that may not be imported before the dump has finished (see
   * importsEarly); they wait for the rest of the load. True when the schemas were created. */
  private async alongside(
    feed: DumpFeed,
    fresh: boolean,
    setup: PacketConnection,
    grow: (n: number) => Promise<PacketConnection[]>,
    signal: AbortSignal,
  ): Promise<boolean> {
    if (!fresh) {
      while (await feed.take()); // an earlier run's import: it goes on once the dump has finished
      return false;
    }
    await this.checkpoint.beginOverlap(setup);
    if (!(await feed.schemasReady())) return false;
    const schemas = schemaFiles(await readdir(this.dir));
    const pool = await grow(Math.max(1, this.cfg.instance.loader.poolSize));
    await this.createDatabases(setup, schemas);
    // a table is created when its first file comes (creating thousands of tables and importing
    // their files go on side by side), the rest once the dump has finished
    const tables = new Map(
      schemas.filter((t) => t.table !== undefined).map((t) => [`${t.db}\0${t.table}`, t]),
    );
    const created = new Map<string, Promise<void>>();
    const ensure = (c: PacketConnection, k: string): Promise<void> => {
      let p = created.get(k);
      if (!p) {
        const t = tables.get(k);
        p = t ? this.createTable(c, t) : Promise.resolve();
        created.set(k, p);
      }
      return p;
    };
    await this.findAutoIncTables(setup);
    const queue = new FileQueue<DataFile>([], true);
    this.importing = { at: Date.now(), bytes: 0 };
    const early = new Map<string, Promise<boolean>>();
    const feeding = (async () => {
      for (let names = await feed.take(); names; names = await feed.take()) {
        const files: DataFile[] = [];
        for (const n of names) {
          const f = parseDumpFile(n);
          if (f?.kind === 'data') files.push(await this.dataFile(n, f));
        }
        this.totalBytes += files.reduce((s, f) => s + f.size, 0);
        queue.add(files);
      }
      queue.close();
    })();
    this.log.info({ workers: pool.length }, 'load: importing while the dump runs');
    await Promise.all([
      feeding,
      ...pool.map((c) =>
        this.worker(c, queue, signal, async (f) => {
          const k = `${f.db}\0${f.table}`;
          await ensure(c, k);
          if (!early.has(k)) early.set(k, this.importsEarly(c, f));
          return early.get(k)!;
        }),
      ),
    ]);
    if (!feed.finished || signal.aborted) return true;
    const rest = [...tables.keys()].filter((k) => !created.has(k));
    await Promise.all(
      pool.map(async (c) => {
        for (let k = rest.shift(); k !== undefined; k = rest.shift()) await ensure(c, k);
      }),
    );
    return true;
  }

  /** Whether a table's files may be imported before the dump has finished: if the dump does not
   * finish, the next start truncates the tables it imported into and dumps again, which is right
   * only for a table that was empty, that this source alone writes (no route, the task's only
   * source). */
  private async importsEarly(c: PacketConnection, f: DataFile): Promise<boolean> {
    if (!this.writesAlone(f.db, f.table)) return false;
    const rows = await c.query(`SELECT 1 AS x FROM ${quoteTable(f.db, f.table)} LIMIT 1`);
    return rows.length === 0;
  }

  /** Whether this source alone writes the table: the task's only source, no route (or extract
   * column) on the table. */
  private writesAlone(db: string, table: string): boolean {
    const to = this.router.route(db, table);
    const routed = to.db !== db || to.table !== table || this.router.extras(db, table).length > 0;
    return this.cfg.taskSources === 1 && !routed;
  }

  /** The dump that a Load imported from while it ran did not finish: the rows imported are of a
   * snapshot that is gone. Undefined when that is not so; else the tables they went into. */
  async overlapInterrupted(): Promise<Interrupted[] | undefined> {
    if (await readFinishedDump(this.dir)) return undefined;
    const c = await this.connect();
    try {
      return await this.checkpoint.interrupted(c);
    } catch (e) {
      if (isMissingMeta(e)) return undefined;
      throw e;
    } finally {
      c.close();
    }
  }

  /** After a dump that did not finish: the tables this source alone writes are emptied (they
   * were empty before this Load imported into them, see importsEarly), or dropped when this Load
   * created them (without their keys: the next run creates them again); the Load's progress is
   * forgotten (but for the keys of tables it keeps). The dump starts over. */
  async discardPartial(tables: Interrupted[]): Promise<void> {
    const c = await this.connect();
    const keep: string[] = [];
    try {
      for (const t of tables) {
        const name = quoteTable(t.db, t.table);
        if (!this.writesAlone(t.db, t.table)) {
          if (t.keysFile) keep.push(t.keysFile); // nothing was imported into it early
          continue;
        }
        try {
          await c.exec(`${t.created ? 'DROP TABLE IF EXISTS' : 'TRUNCATE TABLE'} ${name}`);
        } catch (e) {
          if (isServerError(e, NO_SUCH_TABLE)) continue;
          if (!isServerError(e, PRIVILEGE)) throw e;
          await c.exec(`DELETE FROM ${name}`); // DROP and TRUNCATE need the DROP privilege
          if (t.keysFile) keep.push(t.keysFile);
        }
      }
      await this.checkpoint.forgetBut(c, keep);
    } finally {
      c.close();
    }
  }

  /** Databases first (on one session), then the tables on every session of the pool at once. */
  private async createSchemas(pool: PacketConnection[], schemas: SchemaFile[]): Promise<void> {
    await this.createDatabases(pool[0], schemas);
    const queue = schemas.filter((s) => s.table !== undefined);
    await Promise.all(
      pool.map(async (c) => {
        for (let s = queue.shift(); s; s = queue.shift()) await this.createTable(c, s);
      }),
    );
  }

  private async readSchema(f: string): Promise<string> {
    return (await readFile(join(this.dir, f))).toString('utf8').trim().replace(/;$/, '');
  }

  /** Each upstream database becomes its route target, and every database a table is routed into
   * is created (with the upstream database's options); a database whose tables all go elsewhere
   * is not created. */
  private async createDatabases(c: PacketConnection, schemas: SchemaFile[]): Promise<void> {
    const tables = schemas.filter((s) => s.table !== undefined);
    for (const s of schemas.filter((x) => x.table === undefined)) {
      const sql = (await this.readSchema(s.filename)).replace(
        /^CREATE DATABASE (?!IF NOT EXISTS)/i,
        'CREATE DATABASE IF NOT EXISTS ',
      );
      const own = this.router.route(s.db, '').db;
      const mine = tables.filter((t) => t.db === s.db);
      const targets = new Set(mine.map((t) => this.router.route(s.db, t.table!).db));
      if (!mine.length) targets.add(own);
      for (const db of targets) await this.execSchema(c, renameDatabase(sql, s.db, db), s);
    }
  }

  private async createTable(c: PacketConnection, s: SchemaFile): Promise<void> {
    let sql = (await this.readSchema(s.filename)).replace(
      /^CREATE TABLE (?!IF NOT EXISTS)/i,
      'CREATE TABLE IF NOT EXISTS ',
    );
    if (this.router.active) sql = routeStatement(sql, s.db, this.router);
    const target = this.router.route(s.db, s.table!);
    if (s.keys) await this.keys.claim(c, s.keys, { db: s.db, table: s.table! }, target);
    await this.execSchema(c, sql, s, target.db);
    const extras = this.router.extras(s.db, s.table!);
    if (extras.length) await this.checkExtraColumns(c, target.db, target.table, extras);
  }

  /** A route's extract-* columns must exist on the target (as in DM, the merged table is created
   * by the operator with them). */
  private async checkExtraColumns(
    c: PacketConnection,
    db: string,
    table: string,
    extras: ExtraColumn[],
  ): Promise<void> {
    const rows = await c.query(
      `SELECT COLUMN_NAME n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ${quoteString(db)} AND TABLE_NAME = ${quoteString(table)}`,
    );
    const have = new Set(rows.map((r) => String(r.n).toLowerCase()));
    const missing = extras.filter((e) => !have.has(e.column.toLowerCase())).map((e) => e.column);
    if (missing.length) {
      throw new DMError(ERR.loadExtractColumn, {
        message: `the route's extract target column(s) ${missing.join(', ')} are not columns of ${quoteId(db)}.${quoteId(table)} on the target`,
        workaround:
          'Create the merged table on the target before the task, with the extra columns (string type, last), usually in its primary key; then resume-task.',
      });
    }
  }

  private async execSchema(
    c: PacketConnection,
    sql: string,
    s: { db: string; table?: string; filename: string },
    use?: string,
  ): Promise<void> {
    try {
      if (use !== undefined) await c.exec(`USE ${quoteId(use)}`);
      await c.exec(Buffer.from(sql, 'utf8'));
    } catch (e) {
      const p = privilegeError(
        e,
        ROLE,
        this.cfg.targetDatabase.user,
        `create ${s.table ?? s.db}`,
        'GRANT CREATE, INSERT, UPDATE, DELETE, SELECT ON *.* TO {user}',
      );
      if (p !== e) throw p;
      throw new ExecSQLError(e as Error, `file ${s.filename}`, isRetryableServerError(e));
    }
  }

  /** Target tables whose LOAD DATA must not run twice at once: with an AUTO_INCREMENT column
   * and innodb_autoinc_lock_mode below 2, LOAD DATA holds the table's AUTO-INC lock for its whole
   * statement, so a second one into the table waits (lock wait timeouts, deadlocks). */
  private autoInc = new Set<string>();
  private readonly busyTables = new Set<string>();

  private async findAutoIncTables(c: PacketConnection): Promise<void> {
    this.autoInc.clear();
    const [mode] = await c.query('SELECT @@innodb_autoinc_lock_mode AS m').catch(() => [{ m: '1' }]);
    if (Number(mode?.m) === 2) return;
    const rows = await c.query(
      "SELECT DISTINCT TABLE_SCHEMA s, TABLE_NAME t FROM information_schema.COLUMNS WHERE EXTRA LIKE '%auto_increment%'",
    );
    for (const r of rows) this.autoInc.add(`${r.s}\0${r.t}`);
  }

  /** Imports files from `queue` until it is empty and closed; `early`: whether a file may be
   * imported now (else it is left for later). */
  private async worker(
    c: PacketConnection,
    queue: FileQueue<DataFile>,
    signal: AbortSignal,
    early?: (f: DataFile) => Promise<boolean>,
  ): Promise<void> {
    const key = (f: DataFile) => {
      const to = this.router.route(f.db, f.table);
      return `${to.db}\0${to.table}`;
    };
    for (;;) {
      // the biggest file whose table is free (a serial table loads one file at a time)
      const f = await queue.take((x) => !this.busyTables.has(key(x)), signal);
      if (!f) return;
      const k = key(f);
      const serial = f.format === 'tsv' && this.autoInc.has(k);
      if (serial) this.busyTables.add(k);
      try {
        if (!early || (await early(f))) await this.loadFile(c, f);
      } finally {
        if (serial) {
          this.busyTables.delete(k);
          queue.wake();
        }
      }
    }
  }

  private async loadFile(c: PacketConnection, f: DataFile): Promise<void> {
    const policy = this.cfg.instance.loader.onDuplicate;
    const fh = await open(join(this.dir, f.filename), 'r');
    this.inFlight.set(f.filename, 0);
    try {
      const to = this.router.route(f.db, f.table);
      await c.exec(`USE ${quoteId(to.db)}`);
      await c.exec('BEGIN');
      const [fromName, toName] = [quoteId(f.table), quoteId(to.table)];
      const extras = this.router.extras(f.db, f.table);
      const mapping = mappingOf(this.mapping, f.db, f.table);
      if (f.format === 'tsv') {
        if (mapping)
          throw new DMError(ERR.columnMapping, {
            message: `${f.filename} holds rows for LOAD DATA, which a column mapping cannot rewrite`,
            workaround:
              'Dump again with the column mapping in the task (its tables are then dumped as INSERT statements).',
          });
        await loadTsv(c, f, fh, toName, policy, extras, (end) => this.inFlight.set(f.filename, end));
      }
      for await (const { sql, end } of f.format === 'tsv' ? [] : readStatements(fh, f.size)) {
        let stmt = applyOnDuplicate(sql, policy, fromName, toName);
        if (mapping) stmt = mapped(() => mapDumpedInsert(stmt, mapping));
        await c.exec(addExtraColumns(stmt, extras));
        this.inFlight.set(f.filename, end);
      }
      await c.exec(this.checkpoint.doneSQL(f));
      await c.exec('COMMIT');
      this.committedBytes += f.size;
      this.importedFiles++;
    } catch (e) {
      await c.exec('ROLLBACK').catch(() => undefined);
      if (e instanceof DMError) throw e;
      throw new ExecSQLError(e as Error, `file ${f.filename}`, isRetryableServerError(e));
    } finally {
      this.inFlight.delete(f.filename);
      await fh.close();
    }
  }

  /** After a full import: `full` mode removes the dump directory; other modes keep `metadata`
   * and the schema files (Sync starts from them) and remove the data files. */
  private async cleanDumpFiles(names: string[]): Promise<void> {
    if (!this.cfg.cleanDumpFile) return;
    if (this.cfg.taskMode === 'full') {
      await rm(this.dir, { recursive: true, force: true });
      return;
    }
    for (const n of names) {
      if (parseDumpFile(n)?.kind === 'data') await rm(join(this.dir, n), { force: true });
    }
  }
}

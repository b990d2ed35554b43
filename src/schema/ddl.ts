// Classifying the statements of binlog QUERY events: transaction control, DDL (with the schemas
// and tables it touches, so the schema tracker and filters know what changed), statements that
// need no replication (GRANT, FLUSH, …) and statement-based DML (unsupported: ROW format only).
// Pure.
import { txnControl } from '../binlog/boundary.js';

export interface TableName {
  db: string;
  table: string;
}

export type QueryKind =
  | { kind: 'begin' }
  | { kind: 'commit' }
  | { kind: 'rollback' }
  | { kind: 'ignore'; reason: string }
  /** Statement-based DML (binlog_format=STATEMENT/MIXED) and the table it writes; `table`
   * undefined when it may write more than one (a multi-table UPDATE/DELETE) or was not read. */
  | { kind: 'dml'; table?: TableName }
  | { kind: 'ddl'; op: DDLOp; tables: TableName[]; dbs: string[]; names: NameSpan[] };

/** Where a table (or, with `table` undefined, a schema) is named in the statement with its
 * leading comments stripped: [start, end) offsets, so routing can rewrite it. */
export interface NameSpan {
  start: number;
  end: number;
  db: string;
  table?: string;
}

export type DDLOp =
  | 'create table'
  | 'alter table'
  | 'drop table'
  | 'rename table'
  | 'truncate table'
  | 'create index'
  | 'drop index'
  | 'create database'
  | 'drop database'
  | 'alter database';

const IDENT = '(?:`(?:[^`]|``)+`|[\\w$\\u0080-\\uffff]+)';
const NAME = `(${IDENT})(?:\\s*\\.\\s*(${IDENT}))?`;

function unquote(id: string): string {
  return id.startsWith('`') ? id.slice(1, -1).replace(/``/g, '`') : id;
}

function tableName(defaultDb: string, a: string, b: string | undefined): TableName {
  return b === undefined ? { db: defaultDb, table: unquote(a) } : { db: unquote(a), table: unquote(b) };
}

/** Collects the names a statement's regexes matched (with the `d` flag), with their spans. */
class Names {
  readonly tables: TableName[] = [];
  readonly spans: NameSpan[] = [];
  constructor(private readonly defaultDb: string) {}

  /** Groups `g` and `g + 1` of `m` ([db.]table), matched on the statement from offset `base`. */
  table(m: RegExpExecArray, g: number, base = 0): void {
    const t = tableName(this.defaultDb, m[g], m[g + 1]);
    this.tables.push(t);
    const a = m.indices![g]!;
    const b = m.indices![g + 1] ?? a;
    this.spans.push({ start: base + a[0], end: base + b[1], ...t });
  }

  db(m: RegExpExecArray, g: number): string {
    const db = m[g] ? unquote(m[g]) : this.defaultDb;
    if (m[g]) this.spans.push({ start: m.indices![g]![0], end: m.indices![g]![1], db });
    return db;
  }

  ddl(op: DDLOp, dbs: string[] = []): QueryKind {
    return { kind: 'ddl', op, tables: this.tables, dbs, names: this.spans };
  }
}

/** The statement (leading comments stripped) with each named table or schema replaced by
 * `name(…)`'s result, e.g. routed to its target. */
export function rewriteNames(query: string, spans: NameSpan[], name: (s: NameSpan) => string): string {
  const sql = stripLeadingComments(query);
  let out = '';
  let at = 0;
  for (const s of [...spans].sort((x, y) => x.start - y.start)) {
    out += sql.slice(at, s.start) + name(s);
    at = s.end;
  }
  return out + sql.slice(at);
}

/** Removes leading comments (`/* … *\/`, `-- …`, `# …`) and unwraps a leading executable comment. */
export function stripLeadingComments(sql: string): string {
  let s = sql.trimStart();
  for (;;) {
    const exec = /^\/\*!\d*\s*([\s\S]*?)\*\/\s*;?\s*$/.exec(s);
    if (exec) return stripLeadingComments(exec[1]);
    if (s.startsWith('/*')) {
      const end = s.indexOf('*/');
      if (end < 0) return s;
      s = s.slice(end + 2).trimStart();
    } else if (s.startsWith('--') || s.startsWith('#')) {
      const nl = s.indexOf('\n');
      s = nl < 0 ? '' : s.slice(nl + 1).trimStart();
    } else return s;
  }
}

/** The statement with its comments (`/* … *\/`, `-- …`, `# …`; not the executable `/*! … *\/`)
 * outside quotes replaced by spaces: the same length, so offsets into it hold for the original. */
export function blankComments(sql: string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i];
    if (ch === "'" || ch === '"' || ch === '`') {
      let j = i + 1;
      while (j < sql.length && sql[j] !== ch) j += sql[j] === '\\' && ch !== '`' ? 2 : 1;
      out += sql.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    let end = -1;
    if (ch === '/' && sql[i + 1] === '*' && sql[i + 2] !== '!') {
      const close = sql.indexOf('*/', i + 2);
      end = close < 0 ? sql.length : close + 2;
    } else if (ch === '#' || (ch === '-' && sql[i + 1] === '-' && /\s/.test(sql[i + 2] ?? ' '))) {
      const nl = sql.indexOf('\n', i);
      end = nl < 0 ? sql.length : nl;
    }
    if (end < 0) {
      out += ch;
      i++;
    } else {
      out += ' '.repeat(end - i);
      i = end;
    }
  }
  return out;
}

/** Every `[db.]table` in a comma-separated list starting at `s`. */
function nameList(names: Names, sql: string, from: number): void {
  const re = new RegExp(`^\\s*${NAME}\\s*(,|$|;|/\\*|RESTRICT|CASCADE)`, 'diu');
  let at = from;
  for (;;) {
    const m = re.exec(sql.slice(at));
    if (!m) break;
    names.table(m, 1, at);
    at += m[0].length;
    if (m[3] !== ',') break;
  }
}

const DML_TABLE = [
  `^(?:INSERT|REPLACE)\\s+(?:(?:LOW_PRIORITY|DELAYED|HIGH_PRIORITY|IGNORE)\\s+)*(?:INTO\\s+)?${NAME}`,
  `^UPDATE\\s+(?:(?:LOW_PRIORITY|IGNORE)\\s+)*${NAME}`,
  `^DELETE\\s+(?:(?:LOW_PRIORITY|QUICK|IGNORE)\\s+)*FROM\\s+${NAME}`,
  `^LOAD\\s+DATA\\s+[\\s\\S]*?\\bINTO\\s+TABLE\\s+${NAME}`,
].map((re) => new RegExp(re, 'iu'));

/** The one table a DML statement writes; undefined when it may write several. */
function dmlTable(defaultDb: string, sql: string): TableName | undefined {
  for (const re of DML_TABLE) {
    const m = re.exec(sql);
    if (!m) continue;
    const rest = sql.slice(m[0].length).trimStart();
    // UPDATE a, b … / a JOIN b … / DELETE FROM a, b USING …: more than one table may change
    if (
      !/^(INSERT|REPLACE|LOAD)/i.test(sql) &&
      /^((AS\s+)?\w+\s*)?(,|(JOIN|STRAIGHT_JOIN|USING|INNER|LEFT|RIGHT|CROSS|NATURAL)\b)/i.test(rest)
    )
      return undefined;
    return tableName(defaultDb, m[1], m[2]);
  }
  return undefined;
}

export function classifyQuery(defaultDb: string, query: string): QueryKind {
  // Comments inside the statement (gh-ost writes `alter /* gh-ost */ table …`) are blanked out.
  const sql = blankComments(stripLeadingComments(query));
  const head = sql.slice(0, 40).toUpperCase();
  const control = txnControl(head);
  if (control) return { kind: control };
  if (/^SAVEPOINT\b|^RELEASE\s+SAVEPOINT\b/.test(head)) return { kind: 'ignore', reason: 'savepoint' };
  if (/^(INSERT|UPDATE|DELETE|REPLACE|LOAD\s+DATA)\b/.test(head))
    return { kind: 'dml', table: dmlTable(defaultDb, sql) };
  let m: RegExpExecArray | null;
  const u = 'diu';
  const n = new Names(defaultDb);
  if (
    (m = new RegExp(`^CREATE\\s+(?:OR\\s+REPLACE\\s+)?TEMPORARY\\s+TABLE`, u).exec(sql)) ||
    /^DROP\s+TEMPORARY\s+TABLE/i.test(sql)
  ) {
    return { kind: 'ignore', reason: 'temporary table' };
  }
  if (
    (m = new RegExp(`^CREATE\\s+(?:OR\\s+REPLACE\\s+)?TABLE\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?${NAME}`, u).exec(
      sql,
    ))
  ) {
    n.table(m, 1);
    const like = new RegExp(`\\bLIKE\\s+${NAME}`, u).exec(sql.slice(m[0].length));
    if (like && /^\s*\(?\s*LIKE\b/i.test(sql.slice(m[0].length))) n.table(like, 1, m[0].length);
    return n.ddl('create table');
  }
  if (
    (m = new RegExp(`^ALTER\\s+(?:ONLINE\\s+)?(?:IGNORE\\s+)?TABLE\\s+(?:IF\\s+EXISTS\\s+)?${NAME}`, u).exec(
      sql,
    ))
  ) {
    n.table(m, 1);
    const ren = new RegExp(`\\bRENAME\\s+(?:TO\\s+|AS\\s+)?${NAME}`, u).exec(sql.slice(m[0].length));
    if (ren && !/^\s*(COLUMN|INDEX|KEY)\b/i.test(sql.slice(m[0].length + ren.index + 6)))
      n.table(ren, 1, m[0].length);
    return n.ddl('alter table');
  }
  if ((m = /^DROP\s+TABLES?\s+(?:IF\s+EXISTS\s+)?/i.exec(sql))) {
    nameList(n, sql, m[0].length);
    return n.ddl('drop table');
  }
  if ((m = /^RENAME\s+TABLES?\s+/i.exec(sql))) {
    const re = new RegExp(`${NAME}\\s+TO\\s+${NAME}`, 'dgiu');
    for (const p of sql.slice(m[0].length).matchAll(re)) {
      n.table(p, 1, m[0].length);
      n.table(p, 3, m[0].length);
    }
    return n.ddl('rename table');
  }
  if ((m = new RegExp(`^TRUNCATE\\s+(?:TABLE\\s+)?${NAME}`, u).exec(sql))) {
    n.table(m, 1);
    return n.ddl('truncate table');
  }
  if (
    (m = new RegExp(
      `^CREATE\\s+(?:OR\\s+REPLACE\\s+)?(?:UNIQUE\\s+|FULLTEXT\\s+|SPATIAL\\s+)?INDEX\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?${IDENT}\\s+(?:USING\\s+\\w+\\s+)?ON\\s+${NAME}`,
      u,
    ).exec(sql))
  ) {
    n.table(m, 1);
    return n.ddl('create index');
  }
  if ((m = new RegExp(`^DROP\\s+INDEX\\s+(?:IF\\s+EXISTS\\s+)?${IDENT}\\s+ON\\s+${NAME}`, u).exec(sql))) {
    n.table(m, 1);
    return n.ddl('drop index');
  }
  if (
    (m = new RegExp(
      `^(CREATE|DROP|ALTER)\\s+(?:DATABASE|SCHEMA)\\s+(?:IF\\s+(?:NOT\\s+)?EXISTS\\s+)?(${IDENT})?`,
      u,
    ).exec(sql))
  ) {
    const op = `${m[1].toLowerCase()} database` as DDLOp;
    return n.ddl(op, [n.db(m, 2)]);
  }
  return { kind: 'ignore', reason: sql.split(/\s+/, 2).join(' ').toUpperCase() };
}

// Classifying the statements of binlog QUERY events: transaction control, DDL (with the schemas
// and tables it touches, so the schema tracker and filters know what changed), statements that
// need no replication (GRANT, FLUSH, …) and statement-based DML (unsupported: ROW format only).
// Pure.

export interface TableName {
  db: string;
  table: string;
}

export type QueryKind =
  | { kind: 'begin' }
  | { kind: 'commit' }
  | { kind: 'rollback' }
  | { kind: 'ignore'; reason: string }
  | { kind: 'dml' }
  | { kind: 'ddl'; op: DDLOp; tables: TableName[]; dbs: string[] };

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

/** Every `[db.]table` in a comma-separated list starting at `s`. */
function nameList(defaultDb: string, s: string): TableName[] {
  const out: TableName[] = [];
  const re = new RegExp(`^\\s*${NAME}\\s*(,|$|;|/\\*|RESTRICT|CASCADE)`, 'iu');
  let rest = s;
  for (;;) {
    const m = re.exec(rest);
    if (!m) break;
    out.push(tableName(defaultDb, m[1], m[2]));
    rest = rest.slice(m[0].length);
    if (m[3] !== ',') break;
  }
  return out;
}

export function classifyQuery(defaultDb: string, query: string): QueryKind {
  const sql = stripLeadingComments(query);
  const head = sql.slice(0, 40).toUpperCase();
  if (/^(BEGIN|START\s+TRANSACTION|XA\s+START)\b/.test(head)) return { kind: 'begin' };
  if (/^(COMMIT|XA\s+(END|PREPARE|COMMIT))\b/.test(head)) return { kind: 'commit' };
  if (/^(ROLLBACK|XA\s+ROLLBACK)\b/.test(head)) return { kind: 'rollback' };
  if (/^SAVEPOINT\b|^RELEASE\s+SAVEPOINT\b/.test(head)) return { kind: 'ignore', reason: 'savepoint' };
  if (/^(INSERT|UPDATE|DELETE|REPLACE|LOAD\s+DATA)\b/.test(head)) return { kind: 'dml' };
  let m: RegExpExecArray | null;
  const u = 'iu';
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
    const tables = [tableName(defaultDb, m[1], m[2])];
    const like = new RegExp(`\\bLIKE\\s+${NAME}`, u).exec(sql.slice(m[0].length));
    if (like && /^\s*\(?\s*LIKE\b/i.test(sql.slice(m[0].length)))
      tables.push(tableName(defaultDb, like[1], like[2]));
    return { kind: 'ddl', op: 'create table', tables, dbs: [] };
  }
  if (
    (m = new RegExp(`^ALTER\\s+(?:ONLINE\\s+)?(?:IGNORE\\s+)?TABLE\\s+(?:IF\\s+EXISTS\\s+)?${NAME}`, u).exec(
      sql,
    ))
  ) {
    const tables = [tableName(defaultDb, m[1], m[2])];
    const ren = new RegExp(`\\bRENAME\\s+(?:TO\\s+|AS\\s+)?${NAME}`, u).exec(sql.slice(m[0].length));
    if (ren && !/^\s*(COLUMN|INDEX|KEY)\b/i.test(sql.slice(m[0].length + ren.index + 6)))
      tables.push(tableName(defaultDb, ren[1], ren[2]));
    return { kind: 'ddl', op: 'alter table', tables, dbs: [] };
  }
  if ((m = /^DROP\s+TABLES?\s+(?:IF\s+EXISTS\s+)?/i.exec(sql))) {
    return { kind: 'ddl', op: 'drop table', tables: nameList(defaultDb, sql.slice(m[0].length)), dbs: [] };
  }
  if ((m = /^RENAME\s+TABLES?\s+/i.exec(sql))) {
    const tables: TableName[] = [];
    const re = new RegExp(`${NAME}\\s+TO\\s+${NAME}`, 'giu');
    for (const p of sql.slice(m[0].length).matchAll(re)) {
      tables.push(tableName(defaultDb, p[1], p[2]), tableName(defaultDb, p[3], p[4]));
    }
    return { kind: 'ddl', op: 'rename table', tables, dbs: [] };
  }
  if ((m = new RegExp(`^TRUNCATE\\s+(?:TABLE\\s+)?${NAME}`, u).exec(sql))) {
    return { kind: 'ddl', op: 'truncate table', tables: [tableName(defaultDb, m[1], m[2])], dbs: [] };
  }
  if (
    (m = new RegExp(
      `^CREATE\\s+(?:OR\\s+REPLACE\\s+)?(?:UNIQUE\\s+|FULLTEXT\\s+|SPATIAL\\s+)?INDEX\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?${IDENT}\\s+(?:USING\\s+\\w+\\s+)?ON\\s+${NAME}`,
      u,
    ).exec(sql))
  ) {
    return { kind: 'ddl', op: 'create index', tables: [tableName(defaultDb, m[1], m[2])], dbs: [] };
  }
  if ((m = new RegExp(`^DROP\\s+INDEX\\s+(?:IF\\s+EXISTS\\s+)?${IDENT}\\s+ON\\s+${NAME}`, u).exec(sql))) {
    return { kind: 'ddl', op: 'drop index', tables: [tableName(defaultDb, m[1], m[2])], dbs: [] };
  }
  if (
    (m = new RegExp(
      `^(CREATE|DROP|ALTER)\\s+(?:DATABASE|SCHEMA)\\s+(?:IF\\s+(?:NOT\\s+)?EXISTS\\s+)?(${IDENT})?`,
      u,
    ).exec(sql))
  ) {
    const op = `${m[1].toLowerCase()} database` as DDLOp;
    return { kind: 'ddl', op, tables: [], dbs: [m[2] ? unquote(m[2]) : defaultDb] };
  }
  return { kind: 'ignore', reason: sql.split(/\s+/, 2).join(' ').toUpperCase() };
}

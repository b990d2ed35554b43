// Block-allow lists (DM's `block-allow-list`, formerly `black-white-list`): which schemas and
// tables a task migrates. Pure. Semantics of DM (tidb-tools filter): system schemas never pass;
// `do-dbs` (when set) admits schemas, `ignore-dbs` rejects them; `do-tables` (when set) admits
// tables, `ignore-tables` rejects them. Names are wildcards (`*`, `?`, `[a-z]`) or, starting
// with `~`, regular expressions; matching ignores case unless the task is case-sensitive.

export interface TableRef {
  dbName: string;
  tblName: string;
}

export interface BAList {
  doDbs: string[];
  ignoreDbs: string[];
  doTables: TableRef[];
  ignoreTables: TableRef[];
}

export const SYSTEM_SCHEMAS = ['mysql', 'information_schema', 'performance_schema', 'sys', 'metrics_schema'];

export type NameMatcher = (name: string) => boolean;

/** Compiles a DM name pattern (wildcard or `~regex`) into a matcher. */
export function namePattern(pattern: string, caseSensitive: boolean): NameMatcher {
  const flags = caseSensitive ? '' : 'i';
  if (pattern.startsWith('~')) {
    const re = new RegExp(pattern.slice(1), flags);
    return (n) => re.test(n);
  }
  let src = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') src += '.*';
    else if (c === '?') src += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) src += '\\[';
      else {
        let cls = pattern.slice(i + 1, end);
        if (cls.startsWith('!')) cls = '^' + cls.slice(1);
        src += `[${cls.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else src += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  const re = new RegExp(`^${src}$`, flags);
  return (n) => re.test(n);
}

export interface TableFilter {
  schema(db: string): boolean;
  table(db: string, table: string): boolean;
  /** The whole schema is selected (no table rule narrows it): it is migrated even when empty. */
  wholeSchema(db: string): boolean;
}

/** A filter admitting what the list allows; with no list, everything but system schemas. */
export function blockAllowFilter(list: BAList | undefined, caseSensitive = false): TableFilter {
  const sys = new Set(SYSTEM_SCHEMAS);
  const m = (p: string) => namePattern(p, caseSensitive);
  const doDbs = (list?.doDbs ?? []).map(m);
  const ignoreDbs = (list?.ignoreDbs ?? []).map(m);
  const tables = (refs: BAList['doTables']) => refs.map((r) => ({ db: m(r.dbName), tbl: m(r.tblName) }));
  const doTables = tables(list?.doTables ?? []);
  const ignoreTables = tables(list?.ignoreTables ?? []);

  const schema = (db: string): boolean => {
    if (sys.has(db.toLowerCase())) return false;
    if (doDbs.length) {
      if (doDbs.some((f) => f(db))) return true;
      // A schema not in do-dbs still passes when do-tables names a table in it.
      return doTables.some((t) => t.db(db));
    }
    if (ignoreDbs.some((f) => f(db))) return false;
    return true;
  };
  const table = (db: string, tbl: string): boolean => {
    if (!schema(db)) return false;
    if (doTables.length) {
      const anyForDb = doTables.some((t) => t.db(db));
      const dbListed = doDbs.some((f) => f(db));
      if (anyForDb || !dbListed) {
        if (!doTables.some((t) => t.db(db) && t.tbl(tbl))) return false;
      }
    }
    return !ignoreTables.some((t) => t.db(db) && t.tbl(tbl));
  };
  const wholeSchema = (db: string): boolean =>
    schema(db) &&
    !doTables.some((t) => t.db(db)) &&
    (doDbs.length ? doDbs.some((f) => f(db)) : !doTables.length);
  return { schema, table, wholeSchema };
}

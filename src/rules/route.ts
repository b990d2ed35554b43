// Table routing (DM's `routes`, tidb-tools table-router): which target schema and table an
// upstream table goes to. Pure. A rule with a `table-pattern` is a table rule, one without is a
// schema rule; table rules win over schema rules; two matching rules of the same level are an
// error (as in DM), since the result would depend on their order. Empty targets keep the name.
import { DMError, ERR } from '../errors.js';
import { namePattern, type NameMatcher } from './balist.js';
import { classifyQuery, rewriteNames, type TableName } from '../schema/ddl.js';

/** A route's `extract-table|schema|source`: the regexp's submatches, joined, fill `column`. */
export interface Extract {
  regexp: string;
  column: string;
}

export interface RouteRule {
  schemaPattern: string;
  tablePattern: string;
  targetSchema: string;
  targetTable: string;
  extractTable?: Extract;
  extractSchema?: Extract;
  extractSource?: Extract;
}

/** An extra target column and its value for one upstream table (DM's `extract-*`). */
export interface ExtraColumn {
  column: string;
  value: string;
}

export interface Router {
  /** The target of `db`.`table` (`table` '' for a schema). */
  route(db: string, table: string): TableName;
  /** The extra columns the table's route fills (empty without `extract-*`). */
  extras(db: string, table: string): ExtraColumn[];
  /** Whether any rule exists (routing is the identity otherwise). */
  readonly active: boolean;
}

interface Compiled {
  name: string;
  rule: RouteRule;
  schema: NameMatcher;
  table?: NameMatcher;
}

/** A table that two route rules of one level claim: the task's routes must be fixed. */
export class RouteError extends DMError {
  constructor(message: string) {
    super(ERR.routeDupMatch, message);
  }
}

export function tableRouter(rules: Array<[string, RouteRule]>, caseSensitive = false, source = ''): Router {
  const compiled: Compiled[] = rules.map(([name, rule]) => ({
    name,
    rule,
    schema: namePattern(rule.schemaPattern, caseSensitive),
    table: rule.tablePattern ? namePattern(rule.tablePattern, caseSensitive) : undefined,
  }));
  const cache = new Map<string, TableName>();
  const ruleOf = (db: string, table: string): RouteRule | undefined => {
    const bySchema = compiled.filter((c) => c.schema(db));
    const tableRules = table ? bySchema.filter((c) => c.table?.(table)) : [];
    const schemaRules = bySchema.filter((c) => !c.table);
    const level = tableRules.length ? tableRules : schemaRules;
    if (level.length > 1) {
      throw new RouteError(
        `\`${db}\`${table ? `.\`${table}\`` : ''} matches ${level.length} ${tableRules.length ? 'table' : 'schema'} route rules (${level.map((c) => c.name).join(', ')}); make the patterns exclusive`,
      );
    }
    return level[0]?.rule;
  };
  const route = (db: string, table: string): TableName => {
    const key = `${db}\0${table}`;
    const hit = cache.get(key);
    if (hit) return hit;
    const r = ruleOf(db, table);
    const out = { db: r?.targetSchema || db, table: table && (r?.targetTable || table) };
    cache.set(key, out);
    return out;
  };
  const extras = (db: string, table: string): ExtraColumn[] => {
    const r = table ? ruleOf(db, table) : undefined;
    if (!r) return [];
    const out: ExtraColumn[] = [];
    const add = (e: Extract | undefined, name: string) => {
      if (!e) return;
      const m = new RegExp(e.regexp).exec(name);
      out.push({ column: e.column, value: m && m.length > 1 ? m.slice(1).join('') : '' });
    };
    add(r.extractTable, table);
    add(r.extractSchema, db);
    add(r.extractSource, source);
    return out;
  };
  return { route, extras, active: compiled.length > 0 };
}

/** The router of one subtask: its instance's `route-rules`, in the task's `routes`. */
export function routerOf(
  names: string[],
  rules: Map<string, RouteRule>,
  caseSensitive = false,
  source = '',
): Router {
  return tableRouter(
    names.map((n) => [n, rules.get(n)!]),
    caseSensitive,
    source,
  );
}

const q = (name: string) => '`' + name.replace(/`/g, '``') + '`';

/** A DDL statement with every table and schema it names replaced by its route target
 * (qualified); other statements unchanged. */
export function routeStatement(sql: string, defaultDb: string, router: Router): string {
  const k = classifyQuery(defaultDb, sql);
  if (k.kind !== 'ddl') return sql;
  return rewriteNames(sql, k.names, (s) => {
    if (s.table === undefined) return q(router.route(s.db, '').db);
    const t = router.route(s.db, s.table);
    return `${q(t.db)}.${q(t.table)}`;
  });
}

/** A CREATE DATABASE statement for database `from`, creating `to` instead (options kept). */
export function renameDatabase(sql: string, from: string, to: string): string {
  if (from === to) return sql;
  const k = classifyQuery(from, sql);
  if (k.kind !== 'ddl') return sql;
  return rewriteNames(sql, k.names, () => q(to));
}

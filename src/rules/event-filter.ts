// The binlog event filter (DM's `filters`, tidb-tools binlog-filter): whether a change to a table
// is applied, ignored, or stops the task. Pure. Every rule whose schema/table patterns match is
// consulted (a rule without `table-pattern` covers the whole schema): an event that matches an
// `Error` rule stops the task, one that matches an `Ignore` rule is dropped, one that does not
// match a `Do` rule is dropped; anything else is applied. An event matches a rule when its type
// is in the rule's `events` (or a group: all, all dml, all ddl, none…) or, for DDL, its SQL text
// matches one of the rule's `sql-pattern` regexes.
import { closest } from '../words.js';
import { namePattern, type NameMatcher } from './balist.js';

export interface FilterRule {
  schemaPattern: string;
  tablePattern: string;
  events: string[];
  sqlPattern: string[];
  action: 'Ignore' | 'Do' | 'Error';
}

export type FilterAction = 'Do' | 'Ignore' | 'Error';

export const DML_EVENTS = ['insert', 'update', 'delete'];
export const DDL_EVENTS = [
  'create database',
  'drop database',
  'alter database',
  'create table',
  'drop table',
  'truncate table',
  'rename table',
  'alter table',
  'create index',
  'drop index',
  'create view',
  'drop view',
];
/** DM's finer events (its "incompatible ddl changes" and partition events): named by DM, but
 * this filter tells DDLs apart only by statement kind, so a rule naming one is refused with a
 * sql-pattern to use instead, never taken for a different event. */
export const DM_FINER_EVENTS = [
  'incompatible ddl changes',
  'value range decrease',
  'precision decrease',
  'modify column',
  'rename column',
  'rename index',
  'drop column',
  'drop primary key',
  'drop unique key',
  'modify default value',
  'modify constraint',
  'modify columns order',
  'modify charset',
  'modify collation',
  'remove auto increment',
  'modify storage engine',
  'reorganize table partition',
  'rebuild table partition',
  'coalesce table partition',
  'split table partition',
  'exchange table partition',
  'add table partition',
  'drop table partition',
  'truncate table partition',
  'rebase auto id',
];

const GROUPS: Record<string, string[]> = {
  all: [...DML_EVENTS, ...DDL_EVENTS],
  'all dml': DML_EVENTS,
  'all ddl': DDL_EVENTS,
  none: [],
  'none dml': [],
  'none ddl': [],
};

interface Compiled {
  rule: FilterRule;
  schema: NameMatcher;
  table?: NameMatcher;
  events: Set<string>;
  sql: RegExp[];
}

/** An unknown event name: the config is wrong, named with the rule. */
export class FilterConfigError extends Error {}

export interface EventFilter {
  /** `event` is an event type (`insert`, `alter table`…); `sql` the DDL's text, if any. */
  action(db: string, table: string, event: string, sql?: string): FilterAction;
}

/** `warn`: told of each rule dropped because it names an event DM does not know either (DM drops
 * such a rule with a warning too). */
export function eventFilter(
  rules: Array<[string, FilterRule]>,
  caseSensitive = false,
  warn: (message: string) => void = () => undefined,
): EventFilter {
  const compiled: Compiled[] = rules.flatMap(([name, rule]): Compiled[] => {
    const events = new Set<string>();
    for (const e of rule.events) {
      const k = e.toLowerCase().trim();
      const group = GROUPS[k];
      if (group) group.forEach((x) => events.add(x));
      else if (DML_EVENTS.includes(k) || DDL_EVENTS.includes(k)) events.add(k);
      else if (DM_FINER_EVENTS.includes(k)) {
        throw new FilterConfigError(
          `filter rule '${name}': event '${e}' is not supported yet (only whole statement kinds: ${DDL_EVENTS.join(', ')}); match its statements with sql-pattern instead, e.g. sql-pattern: ["(?i)^ALTER TABLE .* DROP COLUMN"]`,
        );
      } else if (closest(k, [...Object.keys(GROUPS), ...DML_EVENTS, ...DDL_EVENTS])) {
        const best = closest(k, [...Object.keys(GROUPS), ...DML_EVENTS, ...DDL_EVENTS])!;
        throw new FilterConfigError(`filter rule '${name}': unknown event '${e}'; did you mean '${best}'?`);
      } else {
        warn(
          `filter rule '${name}' is dropped: unknown event '${e}' (as DM does); known: ${[...Object.keys(GROUPS), ...DML_EVENTS, ...DDL_EVENTS].join(', ')}`,
        );
        return [];
      }
    }
    return [
      {
        rule,
        schema: namePattern(rule.schemaPattern, caseSensitive),
        table: rule.tablePattern ? namePattern(rule.tablePattern, caseSensitive) : undefined,
        events,
        sql: rule.sqlPattern.map((p) => {
          try {
            return new RegExp(p, 'i');
          } catch (e) {
            throw new FilterConfigError(
              `filter rule '${name}': sql-pattern ${JSON.stringify(p)} is not a valid regular expression (${(e as Error).message})`,
            );
          }
        }),
      },
    ];
  });
  return {
    action(db, table, event, sql) {
      let ignore = false;
      for (const c of compiled) {
        if (!c.schema(db) || (c.table && !(table && c.table(table)))) continue;
        const matched = c.events.has(event) || (sql !== undefined && c.sql.some((re) => re.test(sql)));
        if (matched && c.rule.action === 'Error') return 'Error';
        if (matched ? c.rule.action === 'Ignore' : c.rule.action === 'Do') ignore = true;
      }
      return ignore ? 'Ignore' : 'Do';
    },
  };
}

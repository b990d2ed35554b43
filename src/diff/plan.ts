// Which target tables check-data compares, and from which upstream tables of which sources: the
// task's block-allow list, online-ddl's shadow tables left out, routes merging shards into one
// target table. A table whose target rows are not a plain copy of its upstream rows by rule (an
// expression filter, a column mapping, an event filter dropping row changes, a route adding
// extract-* columns) is not compared, and is listed with why. Pure.
import type { SubTaskConfig } from '../task/config.js';
import { routerOf } from '../rules/route.js';
import { eventFilter } from '../rules/event-filter.js';
import { ExprFilters } from '../rules/expr/row-filter.js';
import { columnMappingOf, replicatedOf } from '../units/tables.js';

export interface Shard {
  source: string;
  db: string;
  table: string;
}

export interface TargetPlan {
  db: string;
  table: string;
  shards: Shard[];
}

export interface Skipped {
  table: string;
  reason: string;
}

export interface Plan {
  targets: TargetPlan[];
  skipped: Skipped[];
}

/** `only`: target table names `db.table` to compare (all when empty). */
export function planTables(
  subtasks: SubTaskConfig[],
  upstreamTables: Map<string, { db: string; table: string }[]>,
  only: string[] = [],
): Plan {
  const targets = new Map<string, TargetPlan>();
  const skipped = new Map<string, string>();
  for (const cfg of subtasks) {
    const source = cfg.instance.sourceId;
    const tables = replicatedOf(cfg);
    const router = routerOf(cfg.instance.routeRules, cfg.routes, cfg.caseSensitive, source);
    const events = eventFilter(
      cfg.instance.filterRules.map((n) => [n, cfg.filters.get(n)!]),
      cfg.caseSensitive,
    );
    const exprs = new ExprFilters(
      cfg.instance.exprFilterRules.map((n) => [n, cfg.exprFilters.get(n)!]),
      cfg.caseSensitive,
    );
    const mapping = columnMappingOf(cfg);
    for (const u of upstreamTables.get(source) ?? []) {
      if (!tables.table(u.db, u.table)) continue;
      const dst = router.route(u.db, u.table);
      const name = `${dst.db}.${dst.table}`;
      if (only.length && !only.includes(name)) continue;
      const up = `${source}:\`${u.db}\`.\`${u.table}\``;
      const why = exprs.has(u.db, u.table)
        ? `an expression filter skips rows of ${up}`
        : mapping.active && mapping.forTable(u.db, u.table)
          ? `a column mapping changes values of ${up}`
          : ['insert', 'update', 'delete'].some((e) => events.action(u.db, u.table, e) !== 'Do')
            ? `an event filter drops row changes of ${up}`
            : router.extras(u.db, u.table).length
              ? `the route of ${up} adds extract-* columns`
              : undefined;
      if (why) skipped.set(name, skipped.get(name) ? `${skipped.get(name)}; ${why}` : why);
      const t = targets.get(name) ?? { db: dst.db, table: dst.table, shards: [] };
      t.shards.push({ source, db: u.db, table: u.table });
      targets.set(name, t);
    }
  }
  return {
    targets: [...targets.entries()].filter(([n]) => !skipped.has(n)).map(([, t]) => t),
    skipped: [...skipped].map(([table, reason]) => ({ table, reason })),
  };
}

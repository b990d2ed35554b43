// Which upstream tables a subtask copies and replicates: those its block-allow list admits,
// without the shadow and trash tables of online schema change tools (online-ddl), whose effect
// reaches the real table through its recorded DDLs.
import { blockAllowFilter, type TableFilter } from '../rules/balist.js';
import { OnlineTables } from '../rules/online-ddl.js';
import { ColumnMapping } from '../rules/column-mapping.js';
import type { SubTaskConfig } from '../task/config.js';

type Cfg = Pick<
  SubTaskConfig,
  'instance' | 'blockAllowList' | 'caseSensitive' | 'onlineDDL' | 'shadowTableRules' | 'trashTableRules'
>;

/** The subtask's block-allow list (every table of a non-system schema without one). */
export function blockAllowOf(cfg: Cfg): TableFilter {
  const name = cfg.instance.blockAllowList;
  return blockAllowFilter(name ? cfg.blockAllowList.get(name) : undefined, cfg.caseSensitive);
}

/** The online schema change tools' tables, when online-ddl is on. */
export function onlineTablesOf(cfg: Cfg): OnlineTables | undefined {
  return cfg.onlineDDL ? new OnlineTables(cfg.shadowTableRules, cfg.trashTableRules) : undefined;
}

/** The tables whose rows the subtask copies and replicates. */
export function replicatedOf(cfg: Cfg): TableFilter {
  const bal = blockAllowOf(cfg);
  const online = onlineTablesOf(cfg);
  if (!online) return bal;
  return {
    schema: (db) => bal.schema(db),
    wholeSchema: (db) => bal.wholeSchema(db),
    table: (db, table) => online.kind(table) === 'real' && bal.table(db, table),
  };
}

/** The subtask's column mapping (DM v2.0's column-mappings, by its instance's rule names). */
export function columnMappingOf(
  cfg: Pick<SubTaskConfig, 'instance' | 'columnMappings' | 'caseSensitive'>,
): ColumnMapping {
  return new ColumnMapping(
    cfg.instance.columnMappingRules.map((n) => [n, cfg.columnMappings.get(n)!]),
    cfg.caseSensitive,
  );
}

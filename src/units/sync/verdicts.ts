// What the task's rules say about a transaction: the block-allow list and the binlog event filter,
// for row events and DDLs. An event filter with action Error stops the subtask.
import { quoteId } from '../../mysql/connect.js';
import type { TableFilter } from '../../rules/balist.js';
import { blockAllowOf, replicatedOf } from '../tables.js';
import { eventFilter, type EventFilter } from '../../rules/event-filter.js';
import type { SubTaskConfig } from '../../task/config.js';
import { ExprFilters } from '../../rules/expr/row-filter.js';
import { DMError, ERR } from '../../errors.js';
import type { Txn } from './txn.js';
import type { SqlSession } from '../../mysql/protocol.js';

export class Verdicts {
  /** The block-allow list (DDLs are admitted by it, online DDLs by their real tables). */
  readonly filter: TableFilter;
  /** The tables whose rows are replicated (online-ddl's shadow and trash tables are not). */
  private readonly replicated: TableFilter;
  private readonly events: EventFilter;
  /** The expression filters: which row changes of a table are skipped. */
  readonly rows: ExprFilters;

  constructor(cfg: SubTaskConfig) {
    this.filter = blockAllowOf(cfg);
    this.replicated = replicatedOf(cfg);
    this.events = eventFilter(
      cfg.instance.filterRules.map((n) => [n, cfg.filters.get(n)!]),
      cfg.caseSensitive,
    );
    this.rows = new ExprFilters(
      cfg.instance.exprFilterRules.map((n) => [n, cfg.exprFilters.get(n)!]),
      cfg.caseSensitive,
    );
  }

  /** Whether a table's rows are replicated. */
  table(db: string, table: string): boolean {
    return this.replicated.table(db, table);
  }

  /** The upstream's tables whose rows are replicated. */
  async tablesOf(upstream: SqlSession): Promise<Array<{ db: string; table: string }>> {
    const rows = await upstream.query(
      "SELECT TABLE_SCHEMA s, TABLE_NAME t FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE'",
    );
    return rows.map((r) => ({ db: r.s!, table: r.t! })).filter((t) => this.table(t.db, t.table));
  }

  /** The binlog event filter's verdict; `Error` stops the subtask with the rule's reason. */
  admits(db: string, table: string, event: string, at: string, sql?: string): boolean {
    const a = this.events.action(db, table, event, sql);
    if (a === 'Error') {
      throw new DMError(
        ERR.eventFilterError,
        `a binlog event filter with action Error matches ${event} on ${quoteId(db)}${table ? '.' + quoteId(table) : ''} (binlog ${at})`,
      );
    }
    return a === 'Do';
  }

  /** Whether a shard table's DDL goes through (its first table, then the event filter). */
  admitsShardDDL(txn: Txn): boolean {
    const { info, query, schema } = txn.ddl!;
    const t = info.tables[0];
    if (t && !this.filter.table(t.db, t.table)) return false;
    return this.admits(t?.db ?? schema, t?.table ?? '', info.op, txn.endText, query);
  }

  /** Whether a DDL is applied: one of its tables (else schemas) is replicated (a DDL whose names
   * could not be read is applied rather than silently dropped), and the event filter lets it. */
  admitsDDL(txn: Txn): boolean {
    const { schema, query, info } = txn.ddl!;
    const allowed = info.tables.length
      ? info.tables.some((t) => this.filter.table(t.db, t.table))
      : info.dbs.length
        ? info.dbs.some((d) => this.filter.schema(d))
        : true;
    if (!allowed) return false;
    const first = info.tables[0] ?? { db: info.dbs[0] ?? schema, table: '' };
    return this.admits(first.db, first.table, info.op, txn.endText, query);
  }

  /** Statement-based DML on a replicated table (or one whose table could not be read), which
   * cannot be applied row by row. */
  replicatedStatement(txn: Txn): NonNullable<Txn['statements']>[number] | undefined {
    return txn.statements?.find((x) => !x.table || this.table(x.table.db, x.table.table));
  }
}

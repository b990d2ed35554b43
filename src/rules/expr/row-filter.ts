// DM's expression-filter: per upstream table, the row changes that are not replicated. An insert
// or a delete is skipped when any of its table's insert (delete) expressions is true of the row;
// an update when, for one rule, its update-old-value-expr is true of the before image and its
// update-new-value-expr of the after image (a missing side is true), as DM's ExprFilterGroup.
// Rules name one table each (no wildcards, as DM). Pure.
import type { Value } from '../../binlog/events.js';
import { sqlValue, type ColumnDef } from './binlog-value.js';
import { matches } from './eval.js';
import { columnsOf, parseExpr, type Expr } from './parse.js';

export interface ExprFilterRule {
  schema: string;
  table: string;
  insertValueExpr?: string;
  updateOldValueExpr?: string;
  updateNewValueExpr?: string;
  deleteValueExpr?: string;
}

/** Where a column of the row is, and what it is. */
export interface BoundColumn {
  /** Index in the row image. */
  idx: number;
  /** Binlog column type (binlog/constants ColumnType). */
  binlogType: number;
  def: ColumnDef;
}

/** A rule names a column its table does not have. */
export class UnknownColumnError extends Error {
  constructor(
    readonly rule: string,
    readonly column: string,
  ) {
    super(`expression-filter '${rule}' reads column '${column}'`);
  }
}

interface Parsed {
  name: string;
  insert?: Expr;
  old?: Expr;
  new?: Expr;
  delete?: Expr;
}

/** The row filter of one table, its columns bound. */
export interface RowFilter {
  /** Whether a row change is skipped. */
  skip(
    action: 'insert' | 'update' | 'delete',
    before?: (Value | undefined)[],
    after?: (Value | undefined)[],
  ): boolean;
  /** Row image columns read from before images (update-old and delete expressions). */
  beforeColumns: number[];
}

export class ExprFilters {
  private readonly byTable = new Map<string, Parsed[]>();

  constructor(
    rules: [name: string, rule: ExprFilterRule][],
    private readonly caseSensitive: boolean,
  ) {
    for (const [name, r] of rules) {
      const k = this.key(r.schema, r.table);
      const p = (x?: string) => (x ? parseExpr(x) : undefined);
      const parsed = {
        name,
        insert: p(r.insertValueExpr),
        old: p(r.updateOldValueExpr),
        new: p(r.updateNewValueExpr),
        delete: p(r.deleteValueExpr),
      };
      this.byTable.set(k, [...(this.byTable.get(k) ?? []), parsed]);
    }
  }

  private key(db: string, table: string): string {
    return this.caseSensitive ? `${db}\0${table}` : `${db}\0${table}`.toLowerCase();
  }

  /** Whether a rule names the upstream table. */
  has(db: string, table: string): boolean {
    return this.byTable.has(this.key(db, table));
  }

  /** The filter of an upstream table, or undefined when no rule names it. `column` finds a
   * column of the row by name; a rule naming a column the table lacks throws UnknownColumnError. */
  forTable(
    db: string,
    table: string,
    column: (name: string) => BoundColumn | undefined,
  ): RowFilter | undefined {
    const rules = this.byTable.get(this.key(db, table));
    if (!rules) return undefined;
    const bound = new Map<string, BoundColumn>();
    const before = new Set<number>();
    for (const r of rules) {
      for (const [e, isBefore] of [
        [r.insert, false],
        [r.old, true],
        [r.new, false],
        [r.delete, true],
      ] as const) {
        if (!e) continue;
        for (const name of columnsOf(e)) {
          const c = column(name);
          if (!c) throw new UnknownColumnError(r.name, name);
          bound.set(name.toLowerCase(), c);
          if (isBefore) before.add(c.idx);
        }
      }
    }
    const test = (e: Expr | undefined, img: (Value | undefined)[] | undefined) => {
      if (!e) return true;
      if (!img) return false;
      return matches(e, (name) => {
        const c = bound.get(name.toLowerCase())!;
        return sqlValue(img[c.idx], c.binlogType, c.def);
      });
    };
    const inserts = rules.filter((r) => r.insert);
    const deletes = rules.filter((r) => r.delete);
    const updates = rules.filter((r) => r.old || r.new);
    return {
      beforeColumns: [...before],
      skip(action, b, a) {
        if (action === 'insert') return inserts.some((r) => test(r.insert, a));
        if (action === 'delete') return deletes.some((r) => test(r.delete, b));
        return updates.some((r) => test(r.old, b) && test(r.new, a));
      },
    };
  }
}

// Per-table schema as Sync needs it: columns in order (and which are generated), the primary key,
// and NOT NULL unique keys. Read from the target, whose tables match the upstream at the point
// Sync has reached because DDLs are applied in binlog order; DDLs invalidate the cache.
import { quoteString } from '../mysql/connect.js';

/** A column's definition as information_schema gives it: COLUMN_TYPE and COLLATION_NAME. */
export interface ColumnDef {
  type: string;
  collation: string | null;
}

export interface TableSchema {
  db: string;
  table: string;
  /** `unsigned`: an integer column declared UNSIGNED (a binlog without signedness metadata
   * writes its values as the signed ones' bits). */
  columns: {
    name: string;
    generated: boolean;
    unsigned?: boolean;
    autoIncrement?: boolean;
    def?: ColumnDef;
  }[];
  /** The key that identifies a row: the primary key, else a NOT NULL unique key (column names). */
  key?: string[];
  /** Every unique key's columns (for causality). */
  uniqueKeys: string[][];
}

export type Query = (sql: string) => Promise<Record<string, string | null>[]>;

export class SchemaTracker {
  private readonly cache = new Map<string, Promise<TableSchema | undefined>>();

  constructor(private readonly query: Query) {}

  private static key(db: string, table: string): string {
    return `${db}\0${table}`;
  }

  get(db: string, table: string): Promise<TableSchema | undefined> {
    const k = SchemaTracker.key(db, table);
    let p = this.cache.get(k);
    if (!p) {
      p = this.load(db, table);
      p.catch(() => this.cache.delete(k));
      this.cache.set(k, p);
    }
    return p;
  }

  /** Forgets a table, or every table of a schema. */
  invalidate(db: string, table?: string): void {
    if (table !== undefined) this.cache.delete(SchemaTracker.key(db, table));
    else for (const k of this.cache.keys()) if (k.startsWith(`${db}\0`)) this.cache.delete(k);
  }

  private async load(db: string, table: string): Promise<TableSchema | undefined> {
    const where = `TABLE_SCHEMA = ${quoteString(db)} AND TABLE_NAME = ${quoteString(table)}`;
    const cols = await this.query(
      `SELECT COLUMN_NAME c, EXTRA x, IS_NULLABLE n, COLUMN_TYPE t, COLLATION_NAME k FROM information_schema.COLUMNS WHERE ${where} ORDER BY ORDINAL_POSITION`,
    );
    if (!cols.length) return undefined;
    const idx = await this.query(
      `SELECT INDEX_NAME i, COLUMN_NAME c FROM information_schema.STATISTICS WHERE ${where} AND NON_UNIQUE = 0 ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX`,
    );
    const nullable = new Set(cols.filter((c) => c.n === 'YES').map((c) => c.c!));
    const keys = new Map<string, string[]>();
    for (const r of idx) {
      if (!keys.has(r.i!)) keys.set(r.i!, []);
      keys.get(r.i!)!.push(r.c!);
    }
    const uniqueKeys = [...keys.values()];
    const key = keys.get('PRIMARY') ?? uniqueKeys.find((k) => k.every((c) => !nullable.has(c)));
    return {
      db,
      table,
      columns: cols.map((c) => ({
        name: c.c!,
        generated: /GENERATED/i.test(c.x ?? ''),
        autoIncrement: /auto_increment/i.test(c.x ?? ''),
        unsigned: /^(tiny|small|medium|big)?int\b.*\bunsigned\b/i.test(c.t ?? ''),
        def: { type: c.t ?? '', collation: c.k ?? null },
      })),
      key,
      uniqueKeys,
    };
  }
}

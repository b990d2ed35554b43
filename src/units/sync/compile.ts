// A transaction's row events as row changes of target tables (routed, filtered, with a route's
// extract-* columns), their causality keys, and the cache of target tables by upstream table map.
import type { RowColumns } from '../../binlog/decoder.js';
import type { ColumnInfo, RowsEvent, TableMapEvent, Value } from '../../binlog/events.js';
import { ColumnMappingError, type ColumnMapping, type TableMapping } from '../../rules/column-mapping.js';
import { quoteId } from '../../mysql/connect.js';
import type { Router } from '../../rules/route.js';
import type { SchemaTracker, TableSchema } from '../../schema/tracker.js';
import { UnknownColumnError, type RowFilter } from '../../rules/expr/row-filter.js';
import type { TableName } from '../../schema/ddl.js';
import type { RowChange } from './dml.js';
import { keepsKeys, rowKeys, targetTable, unsignedValues, type TargetTable } from './target-table.js';
import { DMError, ERR } from '../../errors.js';
import type { Txn } from './txn.js';
import type { Verdicts } from './verdicts.js';

/** A target table for an upstream table map, with what a route's extract-* columns add. */
interface TableEntry {
  tableId: number;
  columns: number;
  t: TargetTable;
  extra: string[];
  /** The event filter's verdict per row action (once known). */
  admit: Partial<Record<RowsEvent['action'], boolean>>;
  /** The expression filters of the table, if any names it. */
  rows?: RowFilter;
  /** The column mapping of the table (DM v2.0's column-mappings): the row image index it maps. */
  mapping?: { idx: number; m: TableMapping };
}

export interface Compiled {
  keys: string[];
  changes: RowChange[];
}

export class DmlCompiler {
  /** Target tables by upstream name, valid while the table id and column count stay the same
   * (a new table map object arrives with every transaction; DDLs drop the entries). */
  private readonly tables = new Map<string, TableEntry>();
  /** The same by table map (its columns array, shared by the maps repeating its bytes: no name
   * to build and hash per event); null for a table the block-allow list leaves out. Valid while
   * `gen` is unchanged. */
  private readonly byMap = new WeakMap<ColumnInfo[], (TableEntry & { gen: number }) | null>();
  private gen = 0;

  constructor(
    private readonly router: Router,
    private readonly verdicts: Verdicts,
    private readonly mapping?: ColumnMapping,
  ) {}

  /** What the decoder needs to decode of a table's rows: nothing of a table the block-allow list
   * leaves out; of before images, only the columns that identify a row (the key, unique keys)
   * once the table is known: an UPDATE's new values come from its after image. */
  readonly rowColumns = (map: TableMapEvent): RowColumns | undefined => {
    if (!this.verdicts.table(map.schema, map.table)) return { skip: true };
    const e = this.tables.get(`${map.schema}\0${map.table}`);
    if (!e || e.tableId !== map.tableId || e.columns !== map.columns.length || !e.t.hasKey) return undefined;
    const before = new Array<boolean>(map.columns.length).fill(false);
    for (const c of [...e.t.where, ...e.t.uniques.flat()]) before[c.idx] = true;
    for (const idx of e.rows?.beforeColumns ?? []) before[idx] = true;
    return { before };
  };

  /** Forgets every table (a new run reads the target tables again: an operator may have changed
   * them while Sync was paused). */
  reset(): void {
    this.tables.clear();
    this.gen++;
  }

  /** A DDL changed these tables (or every table of these schemas): their entries are gone. */
  forget(info: { tables: TableName[]; dbs: string[] }): void {
    for (const k of [...this.tables.keys()]) {
      const [db, table] = k.split('\0');
      if (info.dbs.includes(db) || info.tables.some((t) => t.db === db && t.table === table))
        this.tables.delete(k);
    }
    this.gen++;
  }

  /** A transaction's row changes; undefined when nothing in it is replicated. */
  async compile(txn: Txn, tracker: SchemaTracker): Promise<Compiled | undefined> {
    // (again while a table's entry went stale meanwhile: a DDL forgot it)
    for (let p = this.load(txn, tracker); p; p = this.load(txn, tracker)) await p;
    return this.compileLoaded(txn);
  }

  /** Reads what the transaction's tables need (their target schemas) unless every one is known
   * already: then undefined, and compileLoaded can run at once. */
  load(txn: Txn, tracker: SchemaTracker): Promise<void> | undefined {
    for (let i = 0; i < txn.rows.length; i++) {
      if (this.known(txn.rows[i].table) === undefined) return this.loadFrom(i, txn, tracker);
    }
    return undefined;
  }

  private async loadFrom(i: number, txn: Txn, tracker: SchemaTracker): Promise<void> {
    for (; i < txn.rows.length; i++) await this.entryOf(txn.rows[i].table, tracker, txn);
  }

  /** The entry of a table map when it is known (null: a table left out). */
  private known(map: TableMapEvent): TableEntry | null | undefined {
    const entry = this.byMap.get(map.columns);
    return entry === null || entry?.gen === this.gen ? entry : undefined;
  }

  /** compile() once load() is done: synchronous, no promise per transaction (a backlog has
   * hundreds of thousands of them). */
  compileLoaded(txn: Txn): Compiled | undefined {
    const changes: RowChange[] = [];
    for (const ev of txn.rows) {
      const entry = this.known(ev.table);
      if (entry === undefined)
        throw new Error(`internal: ${ev.table.schema}.${ev.table.table} compiled before it was loaded`);
      if (!entry) continue;
      const { schema: up, table: upTable } = ev.table;
      const admit = (entry.admit[ev.action] ??= this.verdicts.admits(up, upTable, ev.action, txn.endText));
      if (!admit) continue;
      const { t, extra } = entry;
      for (const r of ev.rows) {
        // A route's extract-* columns: their values follow the binlog's in every row image.
        const before = extra.length && r.before ? [...r.before, ...extra] : r.before;
        const after = extra.length && r.after ? [...r.after, ...extra] : r.after;
        if (t.unsigned.length) {
          unsignedValues(before, t.unsigned);
          unsignedValues(after, t.unsigned);
        }
        if (entry.rows && this.skips(entry.rows, ev, before, after, txn)) continue;
        if (entry.mapping) {
          const { idx, m } = entry.mapping;
          // copies: the decoder's images are not ours to change, and a re-read must map afresh
          const map = (img: typeof before) => img && mapImage(img, idx, m, txn);
          changes.push({ t, op: ev.action, before: map(before), after: map(after), unchanged: r.unchanged });
          continue;
        }
        changes.push({ t, op: ev.action, before, after, unchanged: r.unchanged });
      }
    }
    if (!changes.length) return undefined;
    const keys: string[] = [];
    for (const c of changes) {
      rowKeys(c.t, c.before, keys);
      if (c.op !== 'update' || !keepsKeys(c.t, c.before!, c.after!)) rowKeys(c.t, c.after, keys);
    }
    return { keys, changes };
  }

  /** Whether the expression filters skip a row change (an expression that cannot be evaluated
   * stops the subtask: replicating or dropping the row by guess would be silently wrong). */
  private skips(
    f: RowFilter,
    ev: RowsEvent,
    before: RowChange['before'],
    after: RowChange['after'],
    txn: Txn,
  ): boolean {
    try {
      return f.skip(ev.action, before, after);
    } catch (e) {
      throw new DMError(
        ERR.exprFilterEval,
        `an expression filter of ${quoteId(ev.table.schema)}.${quoteId(ev.table.table)} cannot be evaluated on a row (binlog ${txn.endText}): ${(e as Error).message}`,
      );
    }
  }

  private async entryOf(map: TableMapEvent, tracker: SchemaTracker, txn: Txn): Promise<TableEntry | null> {
    const entry = this.known(map);
    if (entry !== undefined) return entry;
    if (!this.verdicts.table(map.schema, map.table)) {
      this.byMap.set(map.columns, null);
      return null;
    }
    const e = { ...(await this.tableEntry(map, tracker, txn)), gen: this.gen };
    this.byMap.set(map.columns, e);
    return e;
  }

  /** The target table of an upstream table map (cached by name while its id and column count stay). */
  private async tableEntry(map: TableMapEvent, tracker: SchemaTracker, txn: Txn): Promise<TableEntry> {
    const { schema: up, table: upTable } = map;
    const cacheKey = `${up}\0${upTable}`;
    const known = this.tables.get(cacheKey);
    if (known && known.tableId === map.tableId && known.columns === map.columns.length) return known;
    const { db, table } = this.router.route(up, upTable);
    const schema = await tracker.get(db, table);
    if (!schema) {
      throw new DMError(
        ERR.targetTableMissing,
        `table ${quoteId(db)}.${quoteId(table)}${db === up && table === upTable ? '' : ` (the route target of ${quoteId(up)}.${quoteId(upTable)})`} does not exist on the target (binlog ${txn.endText})`,
      );
    }
    const extras = this.router.extras(up, upTable);
    const entry: TableEntry = {
      tableId: map.tableId,
      columns: map.columns.length,
      t: targetTable(
        map,
        schema,
        db,
        table,
        extras.map((e) => e.column),
      ),
      extra: extras.map((e) => e.value),
      admit: {},
    };
    entry.rows = this.rowFilter(map, schema, entry.t, txn);
    entry.mapping = this.columnMapping(map, entry.t, txn);
    this.tables.set(cacheKey, entry);
    return entry;
  }

  /** The table's column mapping, bound to the row image's column. */
  private columnMapping(map: TableMapEvent, t: TargetTable, txn: Txn): TableEntry['mapping'] {
    if (!this.mapping?.active) return undefined;
    const m = mapped(() => this.mapping!.forTable(map.schema, map.table), txn);
    if (!m) return undefined;
    const c = t.cols.find((x) => x.name.toLowerCase() === m.column.toLowerCase());
    if (!c)
      throw new DMError(
        ERR.columnMapping,
        `column mapping '${m.rule}': target-column '${m.column}' is not a column of ${t.quoted} (binlog ${txn.endText})`,
      );
    return { idx: c.idx, m };
  }

  /** The table's expression filters, bound to the row image's columns by name. */
  private rowFilter(
    map: TableMapEvent,
    schema: TableSchema,
    t: TargetTable,
    txn: Txn,
  ): RowFilter | undefined {
    try {
      return this.verdicts.rows.forTable(map.schema, map.table, (name) => {
        const c = t.cols.find((x) => x.name.toLowerCase() === name.toLowerCase());
        const def = schema.columns.find((x) => x.name.toLowerCase() === name.toLowerCase())?.def;
        if (!c || !def) return undefined;
        return { idx: c.idx, binlogType: map.columns[c.idx]?.type ?? -1, def };
      });
    } catch (e) {
      if (!(e instanceof UnknownColumnError)) throw e;
      throw new DMError(ERR.exprFilterEval, {
        message: `${e.message}, which ${quoteId(map.schema)}.${quoteId(map.table)} does not have (binlog ${txn.endText})`,
        workaround:
          "Correct the rule's expression (or the table) and start the task again; a row filter that cannot be evaluated is not guessed at.",
      });
    }
  }
}

function mapped<T>(f: () => T, txn: Txn): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ColumnMappingError)
      throw new DMError(ERR.columnMapping, `${e.message} (binlog ${txn.endText})`);
    throw e;
  }
}

/** A copy of a row image with one column mapped. */
function mapImage(img: (Value | undefined)[], idx: number, m: TableMapping, txn: Txn): (Value | undefined)[] {
  const out = [...img];
  const v = out[idx];
  if (v !== undefined) out[idx] = mapped(() => m.map(v), txn);
  return out;
}

// A target table's shape for check-data, read from the target's information_schema: the columns
// compared (generated ones are left out: the target computes them) and the key that orders and
// identifies rows (the primary key, else a unique key of NOT NULL columns). The upstream tables of
// the table must have every one of those columns.
import { quoteString } from '../mysql/connect.js';
import type { SqlSession } from '../mysql/protocol.js';
import { columnKind, type TableShape } from './sql.js';

const COLUMNS = `SELECT COLUMN_NAME AS name, DATA_TYPE AS type, IS_NULLABLE AS nullable, EXTRA AS extra, CHARACTER_SET_NAME AS cs
  FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = {db} AND TABLE_NAME = {table} ORDER BY ORDINAL_POSITION`;
const KEYS = `SELECT INDEX_NAME AS idx, COLUMN_NAME AS name FROM information_schema.STATISTICS
  WHERE TABLE_SCHEMA = {db} AND TABLE_NAME = {table} AND NON_UNIQUE = 0 ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX`;

const fill = (sql: string, db: string, table: string) =>
  sql.replace('{db}', quoteString(db)).replace('{table}', quoteString(table));

/** The table's shape, or why it cannot be compared row by row. */
export async function readShape(c: SqlSession, db: string, table: string): Promise<TableShape | string> {
  const cols = await c.query(fill(COLUMNS, db, table));
  if (!cols.length) return `the target has no table \`${db}\`.\`${table}\``;
  const generated = (x: Record<string, string | null>) => /VIRTUAL|PERSISTENT|STORED/i.test(x.extra ?? '');
  const columns = cols
    .filter((x) => !generated(x))
    .map((x) => ({ name: x.name!, kind: columnKind(x.type!), ...(x.cs ? { charset: x.cs } : {}) }));
  const notNull = new Set(cols.filter((x) => x.nullable === 'NO').map((x) => x.name!));
  const byIndex = new Map<string, string[]>();
  for (const k of await c.query(fill(KEYS, db, table)))
    byIndex.set(k.idx!, [...(byIndex.get(k.idx!) ?? []), k.name!]);
  const key = [...byIndex.values()].find((k) =>
    k.every((n) => notNull.has(n) && columns.some((c) => c.name === n)),
  );
  if (!key)
    return `\`${db}\`.\`${table}\` has no primary key and no unique key of NOT NULL columns: rows cannot be told apart`;
  return { db, table, columns, key };
}

/** Why an upstream table cannot be compared with the target's shape (a column it lacks); marks
 * the text columns whose charset differs from the target's, to be compared in utf8mb4. */
export async function upstreamProblem(
  c: SqlSession,
  shape: TableShape,
  db: string,
  table: string,
): Promise<string | undefined> {
  const cols = await c.query(fill(COLUMNS, db, table));
  const have = new Set(cols.map((x) => x.name!.toLowerCase()));
  if (!have.size) return `the upstream has no table \`${db}\`.\`${table}\``;
  for (const col of shape.columns) {
    const up = cols.find((x) => x.name!.toLowerCase() === col.name.toLowerCase());
    if (col.kind === 'text' && up && up.cs !== col.charset) col.convert = true;
  }
  const missing = shape.columns.filter((x) => !have.has(x.name.toLowerCase())).map((x) => x.name);
  return missing.length ? `\`${db}\`.\`${table}\` upstream lacks column(s) ${missing.join(', ')}` : undefined;
}

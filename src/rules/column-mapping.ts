// DM v2.0's column-mappings (tidb-tools column-mapping), deprecated by later DM versions but still
// in shard-merge task files: one expression rewrites one column of the matching tables' rows, in
// Load and in Sync (before and after images, so keys stay consistent):
//   partition id [instance, schema-prefix, table-prefix, separator?]: the column's integer id gets
//     the instance id (4 bits), the schema's and the table's numeric suffix (7 and 8 bits) in its
//     high bits: [1 unused][4 instance][7 schema][8 table][44 id], as DM computes it;
//   add prefix [p] / add suffix [s]: the column's string gets p before or s after it.
// Table rules win over schema rules; two matching rules of one level are an error. Pure.
import { quoteString } from '../mysql/connect.js';
import { namePattern, type NameMatcher } from './balist.js';

export interface ColumnMappingRule {
  schemaPattern: string;
  tablePattern: string;
  sourceColumn: string;
  targetColumn: string;
  expression: 'partition id' | 'add prefix' | 'add suffix';
  arguments: string[];
}

export const MAPPING_EXPRESSIONS = ['partition id', 'add prefix', 'add suffix'] as const;

const INSTANCE_BITS = 4;
const SCHEMA_BITS = 7;
const TABLE_BITS = 8;
/** Ids from here on would overflow into the partition bits. */
export const MAX_ORIGIN_ID = 1n << BigInt(64 - INSTANCE_BITS - SCHEMA_BITS - TABLE_BITS - 1);

export class ColumnMappingError extends Error {}

/** What is wrong with a rule's expression and arguments (undefined when nothing is). */
export function ruleProblem(r: ColumnMappingRule): string | undefined {
  if (!r.targetColumn) return 'has no target-column';
  if (r.expression === 'partition id') {
    if (r.arguments.length < 3 || r.arguments.length > 4)
      return `'partition id' takes 3 or 4 arguments (instance id, schema prefix, table prefix, separator), not ${r.arguments.length}`;
    const id = r.arguments[0];
    if (id && !(/^\d+$/.test(id) && Number(id) < 1 << INSTANCE_BITS))
      return `'partition id' instance id '${id}' is not an integer 0-${(1 << INSTANCE_BITS) - 1}`;
  } else if (r.arguments.length !== 1) {
    return `'${r.expression}' takes one argument, not ${r.arguments.length}`;
  }
  return undefined;
}

/** The id a schema or table name carries after `prefix` + `sep` (0 for the name `prefix` itself). */
function nameId(name: string, prefix: string, sep: string, bits: number, what: string): bigint {
  if (name === prefix) return 0n;
  const p = prefix + sep;
  const rest = name.startsWith(p) ? name.slice(p.length) : '';
  if (!/^\d+$/.test(rest) || BigInt(rest) >= 1n << BigInt(bits))
    throw new ColumnMappingError(
      `the ${what} name '${name}' is not '${p}' followed by a number below ${1 << bits} (partition id arguments)`,
    );
  return BigInt(rest);
}

export type Mapped = string | number | bigint | Buffer | null;

/** One table's mapping: which column, and what its value becomes. */
export interface TableMapping {
  rule: string;
  column: string;
  map(v: Mapped): Mapped;
}

interface Compiled {
  name: string;
  rule: ColumnMappingRule;
  schema: NameMatcher;
  table?: NameMatcher;
}

export class ColumnMapping {
  private readonly rules: Compiled[];

  constructor(rules: [name: string, rule: ColumnMappingRule][], caseSensitive: boolean) {
    this.rules = rules.map(([name, rule]) => ({
      name,
      rule,
      schema: namePattern(rule.schemaPattern, caseSensitive),
      table: rule.tablePattern ? namePattern(rule.tablePattern, caseSensitive) : undefined,
    }));
  }

  get active(): boolean {
    return this.rules.length > 0;
  }

  /** The mapping of an upstream table, or undefined when no rule matches it. */
  forTable(db: string, table: string): TableMapping | undefined {
    const bySchema = this.rules.filter((c) => c.schema(db));
    const tableRules = bySchema.filter((c) => c.table?.(table));
    const level = tableRules.length ? tableRules : bySchema.filter((c) => !c.table);
    if (level.length > 1)
      throw new ColumnMappingError(
        `\`${db}\`.\`${table}\` matches ${level.length} column mapping rules (${level.map((c) => c.name).join(', ')}); one table takes one rule`,
      );
    const c = level[0];
    if (!c) return undefined;
    const { rule } = c;
    const arg = rule.arguments;
    const err = (v: Mapped, want: string) =>
      new ColumnMappingError(
        `column mapping '${c.name}' (${rule.expression}) needs ${want} in \`${db}\`.\`${table}\`.${rule.targetColumn}, not ${v === null ? 'NULL' : Buffer.isBuffer(v) ? 'bytes' : typeof v === 'string' ? `'${v}'` : String(v)}`,
      );
    if (rule.expression === 'partition id') {
      const sep = arg[3] ?? '';
      let high = 0n;
      let shift = 63n;
      if (arg[0]) {
        shift -= BigInt(INSTANCE_BITS);
        high |= BigInt(arg[0]) << shift;
      }
      if (arg[1]) {
        shift -= BigInt(SCHEMA_BITS);
        high |= nameId(db, arg[1], sep, SCHEMA_BITS, 'schema') << shift;
      }
      if (arg[2]) {
        shift -= BigInt(TABLE_BITS);
        high |= nameId(table, arg[2], sep, TABLE_BITS, 'table') << shift;
      }
      return {
        rule: c.name,
        column: rule.targetColumn,
        map(v) {
          if (v === null) return null; // NULL stays NULL
          // an id in a character column comes as text (or its bytes), and goes back as text
          const text = Buffer.isBuffer(v) ? v.toString('latin1') : typeof v === 'string' ? v : undefined;
          let id: bigint;
          if (typeof v === 'number' && Number.isInteger(v)) id = BigInt(v);
          else if (typeof v === 'bigint') id = v;
          else if (text !== undefined && /^\d+$/.test(text)) id = BigInt(text);
          else throw err(v, 'an integer id');
          if (id < 0n || id >= MAX_ORIGIN_ID) throw err(v, `an id from 0 to ${MAX_ORIGIN_ID - 1n}`);
          const out = high | id;
          return text !== undefined ? out.toString() : out;
        },
      };
    }
    const [text] = arg;
    const prefix = rule.expression === 'add prefix';
    return {
      rule: c.name,
      column: rule.targetColumn,
      map(v) {
        if (v === null) return null; // NULL stays NULL (as CONCAT would have it)
        if (typeof v === 'string') return prefix ? text + v : v + text;
        if (Buffer.isBuffer(v)) {
          const t = Buffer.from(text, 'utf8');
          return Buffer.concat(prefix ? [t, v] : [v, t]);
        }
        throw err(v, 'a string');
      },
    };
  }
}

/** The values of one dumped row line `(v1,v2,…)` as byte ranges [start, end) of each value. */
function valueRanges(line: Buffer): [number, number][] | undefined {
  if (line[0] !== 0x28) return undefined;
  const out: [number, number][] = [];
  let i = 1;
  while (i < line.length) {
    const start = i;
    if (line[i] === 0x27) {
      i++;
      while (i < line.length && line[i] !== 0x27) i += line[i] === 0x5c ? 2 : 1;
      i++;
    } else {
      while (i < line.length && line[i] !== 0x2c && line[i] !== 0x29) i++;
    }
    out.push([start, i]);
    if (line[i] === 0x29) return out;
    i++; // ,
  }
  return undefined;
}

/** A dumped SQL value ('…' with backslash escapes, NULL, a number, 0x…) as a value to map; a
 * string stays bytes (the dump is in each column's own charset). */
function readValue(b: Buffer): Mapped {
  const s = b.toString('latin1');
  if (s === 'NULL') return null;
  if (s.startsWith("'")) {
    const out: number[] = [];
    const UNESC: Record<number, number> = { 0x30: 0, 0x6e: 0x0a, 0x72: 0x0d, 0x5a: 0x1a };
    for (let i = 1; i < b.length - 1; i++) {
      if (b[i] === 0x5c) out.push(UNESC[b[++i]] ?? b[i]);
      else out.push(b[i]);
    }
    return Buffer.from(out);
  }
  if (/^0x/i.test(s)) return Buffer.from(s.slice(2), 'hex');
  return /^-?\d+$/.test(s) ? BigInt(s) : s;
}

function writeValue(v: Mapped): Buffer {
  if (v === null) return Buffer.from('NULL');
  if (typeof v === 'bigint' || typeof v === 'number') return Buffer.from(String(v));
  const bytes = Buffer.isBuffer(v) ? v : Buffer.from(v, 'utf8');
  // one character per byte: the escaped bytes stay the column's own
  return Buffer.from(quoteString(bytes.toString('latin1')), 'latin1');
}

/** A dumped INSERT statement (column list on its first line, one row per line) with the mapped
 * column's value of every row rewritten. */
export function mapDumpedInsert(sql: Buffer, m: TableMapping): Buffer {
  const nl = sql.indexOf(0x0a);
  if (nl < 0 || !/^(INSERT|REPLACE)\b/i.test(sql.subarray(0, 20).toString('latin1'))) return sql;
  const header = sql.subarray(0, nl).toString('utf8');
  const list = /\((`(?:[^`]|``)*`(?:,`(?:[^`]|``)*`)*)\)\s*VALUES\s*$/i.exec(header);
  const cols = list ? [...list[1].matchAll(/`((?:[^`]|``)*)`/g)].map((x) => x[1].replace(/``/g, '`')) : [];
  const k = cols.findIndex((c) => c.toLowerCase() === m.column.toLowerCase());
  if (k < 0)
    throw new ColumnMappingError(
      `column mapping '${m.rule}': target-column '${m.column}' is not a column of the dumped table (${cols.join(', ')})`,
    );
  const parts: Buffer[] = [sql.subarray(0, nl + 1)];
  let start = nl + 1;
  while (start < sql.length) {
    let end = sql.indexOf(0x0a, start);
    if (end < 0) end = sql.length;
    const line = sql.subarray(start, end);
    const r = line.length ? valueRanges(line) : undefined;
    if (r && r[k]) {
      const [a, b] = r[k];
      parts.push(line.subarray(0, a), writeValue(m.map(readValue(line.subarray(a, b)))), line.subarray(b));
    } else parts.push(line);
    if (end < sql.length) parts.push(sql.subarray(end, end + 1));
    start = end + 1;
  }
  return Buffer.concat(parts);
}

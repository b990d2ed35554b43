// Inserted rows as LOAD DATA LOCAL INFILE data, for a large transaction's runs of inserts: the
// target parses far less than INSERT text (hex literals double a binary value's bytes). Only for a
// table where each value means to the target column what its INSERT literal means: the binlog
// column and the target column are of one type family (a number or an ENUM index would be read
// as text), strings decoded from UTF-8 go to UTF-8 columns (LOAD DATA's CHARACTER SET binary
// copies bytes where INSERT would convert), and no BIT, YEAR, JSON, GEOMETRY or VECTOR (their
// text forms differ from their literals). Pure.
import { isStringCharset } from '../../binlog/charset.js';
import { ColumnType as T } from '../../binlog/constants.js';
import type { ColumnInfo, Value } from '../../binlog/events.js';
import { quoteId } from '../../mysql/connect.js';
import { duplicateKeyword, TSV_FORMAT, tsvField, type ByteBuf } from '../../mysql/tsv.js';
import type { ColumnDef } from '../../schema/tracker.js';

/** What of a target table the rows need (target-table.ts's TargetTable). */
interface RowsTable {
  quoted: string;
  cols: readonly { name: string; idx: number }[];
}

type Family =
  'int' | 'float' | 'decimal' | 'date' | 'time' | 'datetime' | 'timestamp' | 'string' | 'enum' | 'set';

const BINLOG_FAMILY: Readonly<Record<number, Family>> = {
  [T.TINY]: 'int',
  [T.SHORT]: 'int',
  [T.INT24]: 'int',
  [T.LONG]: 'int',
  [T.LONGLONG]: 'int',
  [T.FLOAT]: 'float',
  [T.DOUBLE]: 'float',
  [T.NEWDECIMAL]: 'decimal',
  [T.DATE]: 'date',
  [T.NEWDATE]: 'date',
  [T.TIME]: 'time',
  [T.TIME2]: 'time',
  [T.DATETIME]: 'datetime',
  [T.DATETIME2]: 'datetime',
  [T.TIMESTAMP]: 'timestamp',
  [T.TIMESTAMP2]: 'timestamp',
  [T.VARCHAR]: 'string',
  [T.VAR_STRING]: 'string',
  [T.STRING]: 'string',
  [T.TINY_BLOB]: 'string',
  [T.BLOB]: 'string',
  [T.MEDIUM_BLOB]: 'string',
  [T.LONG_BLOB]: 'string',
};

/** information_schema's COLUMN_TYPE, by its first word. */
const TARGET_FAMILY: Readonly<Record<string, Family>> = {
  tinyint: 'int',
  smallint: 'int',
  mediumint: 'int',
  int: 'int',
  bigint: 'int',
  float: 'float',
  double: 'float',
  decimal: 'decimal',
  date: 'date',
  time: 'time',
  datetime: 'datetime',
  timestamp: 'timestamp',
  char: 'string',
  varchar: 'string',
  binary: 'string',
  varbinary: 'string',
  tinytext: 'string',
  text: 'string',
  mediumtext: 'string',
  longtext: 'string',
  tinyblob: 'string',
  blob: 'string',
  mediumblob: 'string',
  longblob: 'string',
  enum: 'enum',
  set: 'set',
};

/** A binlog column's family, and whether its values are JS strings of UTF-8 text (ENUM and SET
 * only when the binlog names their members: else the value is an index). */
function binlogSide(c: ColumnInfo): { family: Family; text: boolean } | undefined {
  if (c.type === T.ENUM) return c.enumValues ? { family: 'enum', text: true } : undefined;
  if (c.type === T.SET) return c.setValues ? { family: 'set', text: true } : undefined;
  const family = BINLOG_FAMILY[c.type];
  if (!family) return undefined;
  return { family, text: family === 'string' && c.charset !== undefined && isStringCharset(c.charset) };
}

/** Whether LOAD DATA carries the values of a target column fed by binlog column `src` (undefined:
 * a route's extract column, a JS string) as the column's INSERT literals would. */
export function tsvColumn(src: ColumnInfo | undefined, def: ColumnDef | undefined): boolean {
  if (!def) return false;
  const side = src ? binlogSide(src) : { family: 'string' as const, text: true };
  if (!side) return false;
  const family = TARGET_FAMILY[/^[a-z]+/.exec(def.type.toLowerCase())?.[0] ?? ''];
  if (family !== side.family) return false;
  return !side.text || /^utf8/i.test(def.collation ?? '');
}

/** The LOAD DATA of rows into `t` (REPLACE in safe mode; else IGNORE, its duplicate warnings
 * refused as INSERT's errors). */
export function tsvLoadSQL(t: RowsTable, safe: boolean): string {
  return `LOAD DATA LOCAL INFILE 'dm-ts-rows' ${duplicateKeyword(safe ? 'replace' : 'error')} INTO TABLE ${t.quoted} ${TSV_FORMAT} (${t.cols.map((c) => quoteId(c.name)).join(',')})`;
}

const NEEDS_ESCAPE = /[\t\n\\]/;
const ESCAPED: Readonly<Record<string, string>> = { '\t': '\\t', '\n': '\\n', '\\': '\\\\' };

function field(v: Value, out: ByteBuf): void {
  if (v === null) {
    out.ensure(2);
    out.buf[out.len++] = 0x5c; // \N
    out.buf[out.len++] = 0x4e;
  } else if (typeof v === 'string') {
    out.ascii(NEEDS_ESCAPE.test(v) ? v.replace(/[\t\n\\]/g, (m) => ESCAPED[m]) : v);
  } else if (typeof v === 'number') {
    out.ascii(Object.is(v, -0) ? '-0' : String(v));
  } else if (typeof v === 'bigint') {
    out.ascii(v.toString());
  } else {
    tsvField(v, 0, v.length, out);
  }
}

/** Appends the after images of `rows[from, to)` as lines of `t`'s columns; false (and nothing
 * appended) when an image lacks a column (binlog_row_image=MINIMAL: INSERT leaves it to its
 * default). */
export function tsvRows(
  t: RowsTable,
  rows: readonly { after?: (Value | undefined)[] }[],
  out: ByteBuf,
  from = 0,
  to = rows.length,
): boolean {
  const start = out.len;
  const cols = t.cols;
  for (let r = from; r < to; r++) {
    const img = rows[r].after!;
    for (let i = 0; i < cols.length; i++) {
      const v = img[cols[i].idx];
      if (v === undefined) {
        out.len = start;
        return false;
      }
      if (i) {
        out.ensure(1);
        out.buf[out.len++] = 0x09;
      }
      field(v, out);
    }
    out.ensure(1);
    out.buf[out.len++] = 0x0a;
  }
  return true;
}

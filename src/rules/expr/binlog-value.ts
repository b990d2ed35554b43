// A decoded binlog value as the SQL value an expression sees, given the column's binlog type and
// its definition (COLUMN_TYPE and collation, read from the table): text in its character set and
// collation, ENUM/SET indexes as their names, BIT as an integer, DECIMAL exact, temporal values
// as temporal values (TIMESTAMP in UTC, as the decoder gives it). Pure.
import { ColumnType as T, INTEGER_BITS } from '../../binlog/constants.js';
import type { Value } from '../../binlog/events.js';
import type { ColumnDef } from '../../schema/tracker.js';
import { int, parseDecimal, parseTemporal, real, type SqlValue } from './value.js';

export type { ColumnDef };

/** The names of an ENUM or SET column type, in order. */
export function memberNames(columnType: string): string[] {
  const m = /^(?:enum|set)\((.*)\)$/is.exec(columnType.trim());
  if (!m) return [];
  const out: string[] = [];
  const re = /'((?:[^']|'')*)'/g;
  for (let x = re.exec(m[1]); x; x = re.exec(m[1])) out.push(x[1].replace(/''/g, "'"));
  return out;
}

const caseSensitive = (collation: string | null) => !collation || /_(bin|cs)$/i.test(collation);

/** Whether a collation's character set has one byte per character. */
const octets = (collation: string | null) => /^(latin1|ascii)_/i.test(collation ?? '');

function text(v: string | Buffer, collation: string | null): SqlValue {
  const one = octets(collation);
  const s = typeof v === 'string' ? v : v.toString(one ? 'latin1' : 'utf8');
  return { t: 'str', v: s, cs: caseSensitive(collation), ...(one ? { octets: true } : {}) };
}

export function sqlValue(v: Value | undefined, binlogType: number, def: ColumnDef): SqlValue {
  if (v === null || v === undefined) return null;
  switch (binlogType) {
    case T.FLOAT:
    case T.DOUBLE:
      return real(Number(v));
    case T.DECIMAL:
    case T.NEWDECIMAL:
      return parseDecimal(String(v));
    case T.DATE:
    case T.NEWDATE:
      return { t: 'time', v: String(v), kind: 'date' };
    case T.TIME:
    case T.TIME2:
      return { t: 'time', v: String(v), kind: 'time' };
    case T.DATETIME:
    case T.DATETIME2:
    case T.TIMESTAMP:
    case T.TIMESTAMP2:
      return parseTemporal(String(v), 'datetime') ?? { t: 'time', v: String(v), kind: 'datetime' };
    case T.BIT: {
      const b = v as Buffer;
      return int(b.length ? BigInt('0x' + b.toString('hex')) : 0n);
    }
    case T.ENUM:
    case T.SET: {
      if (typeof v === 'string') return { t: 'str', v, cs: caseSensitive(def.collation) };
      const names = memberNames(def.type);
      const n = BigInt(v as number | bigint);
      const text =
        binlogType === T.ENUM
          ? n === 0n
            ? ''
            : (names[Number(n) - 1] ?? '')
          : names.filter((_, i) => n & (1n << BigInt(i))).join(',');
      return { t: 'str', v: text, cs: caseSensitive(def.collation) };
    }
  }
  if (typeof v === 'number' || typeof v === 'bigint') {
    // without signedness metadata an UNSIGNED column's value arrives as the signed one's bits
    const bits = INTEGER_BITS[binlogType];
    if (bits && v < 0 && /\bunsigned\b/i.test(def.type)) return int(BigInt(v) + (1n << BigInt(bits)));
    return int(v);
  }
  if (Buffer.isBuffer(v)) {
    if (!def.collation || /^binary$/i.test(def.collation))
      return { t: 'str', v: v.toString('latin1'), cs: true, bin: true };
    return text(v, def.collation);
  }
  return text(String(v), def.collation);
}

// SQL values as MySQL/MariaDB evaluate expressions over them: exact integers and decimals,
// doubles, strings with a case-(in)sensitive collation, and temporal values; conversions and the
// comparison rules (which type two operands are compared as). Pure.

export type SqlValue =
  | null
  | { t: 'int'; v: bigint }
  /** An exact decimal: `v` scaled by 10^`s`. */
  | { t: 'dec'; v: bigint; s: number }
  /** `dp`: shown with this many decimals (ROUND, FLOOR and the like of a double). */
  | { t: 'real'; v: number; dp?: number }
  /** `cs`: compared case- and accent-sensitively (a binary string, a _bin or _cs collation);
   * `bin`: bytes, one character per byte (a BINARY, VARBINARY or BLOB column); `octets`: one byte
   * per character (latin1, ascii). */
  | { t: 'str'; v: string; cs: boolean; bin?: boolean; octets?: boolean }
  /** Canonical text: 'YYYY-MM-DD', 'YYYY-MM-DD hh:mm:ss[.ffffff]' or '[-]hh:mm:ss[.ffffff]'. */
  | { t: 'time'; v: string; kind: 'date' | 'datetime' | 'time' };

export class ExprError extends Error {}

const INT_MIN = -(1n << 63n);
const INT_MAX = (1n << 64n) - 1n; // BIGINT UNSIGNED's top: a result between is representable

export const int = (v: bigint | number): SqlValue => {
  const b = BigInt(v);
  if (b < INT_MIN || b > INT_MAX) throw new ExprError(`BIGINT value is out of range (${b})`);
  return { t: 'int', v: b };
};
export const real = (v: number, dp?: number): SqlValue =>
  Number.isFinite(v) ? (dp === undefined ? { t: 'real', v } : { t: 'real', v, dp }) : null;
export const str = (v: string, cs = false): SqlValue => ({ t: 'str', v, cs });
export const bool = (b: boolean | null): SqlValue => (b === null ? null : { t: 'int', v: b ? 1n : 0n });

/** A decimal literal or column text ('-12.50') as an exact decimal. */
export function parseDecimal(text: string): SqlValue {
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?\s*$/.exec(text);
  if (!m || (!m[2] && !m[3])) throw new ExprError(`not a decimal: ${text}`);
  const frac = m[3] ?? '';
  const v = BigInt((m[2] || '0') + frac) * (m[1] === '-' ? -1n : 1n);
  return { t: 'dec', v, s: frac.length };
}

export const pow10 = (n: number): bigint => 10n ** BigInt(n);

/** The value's number as MySQL reads a string in numeric context: its leading numeric prefix
 * ('12abc' is 12, 'abc' is 0). */
export function stringToNumber(s: string): number {
  const m = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/i.exec(s);
  return m ? Number(m[0]) : 0;
}

/** A temporal value as the number MySQL uses in numeric context (20240131123000). */
function temporalNumber(v: Extract<SqlValue, { t: 'time' }>): number {
  const neg = v.v.startsWith('-');
  const digits = v.v.replace(/[^\d.]/g, '');
  const n = Number(digits.includes('.') ? digits : digits);
  return neg ? -n : n;
}

export function toDouble(v: Exclude<SqlValue, null>): number {
  switch (v.t) {
    case 'int':
      return Number(v.v);
    case 'dec':
      return Number(v.v) / 10 ** v.s;
    case 'real':
      return v.v;
    case 'str':
      return stringToNumber(v.v);
    case 'time':
      return temporalNumber(v);
  }
}

/** The value as an exact decimal (ints and decimals only). */
export function toDec(v: Extract<SqlValue, { t: 'int' | 'dec' }>): { v: bigint; s: number } {
  return v.t === 'int' ? { v: v.v, s: 0 } : { v: v.v, s: v.s };
}

/** The value's text, as CONCAT and the client see it. */
export function toText(v: Exclude<SqlValue, null>): string {
  switch (v.t) {
    case 'int':
      return v.v.toString();
    case 'dec': {
      if (v.s === 0) return v.v.toString();
      const neg = v.v < 0n;
      const digits = (neg ? -v.v : v.v).toString().padStart(v.s + 1, '0');
      return `${neg ? '-' : ''}${digits.slice(0, -v.s)}.${digits.slice(-v.s)}`;
    }
    case 'real':
      return v.dp !== undefined && Math.abs(v.v) < 1e21 ? v.v.toFixed(v.dp) : formatDouble(v.v);
    case 'str':
    case 'time':
      return v.v;
  }
}

/** A double as MariaDB prints it: the shortest text that reads back the same, in exponent form
 * from 1e15 up and below 1e-4 ('1e20', '1.5e-7'). */
export function formatDouble(n: number): string {
  if (n === 0) return '0';
  const a = Math.abs(n);
  if (a >= 1e15 || a < 1e-4) {
    const [m, e] = n.toExponential().split('e');
    return `${m}e${e.startsWith('+') ? e.slice(1) : e}`;
  }
  return String(n);
}

/** The text's temporal value of `kind`, if it reads as one (MySQL's relaxed forms). */
export function parseTemporal(text: string, kind?: 'date' | 'datetime' | 'time'): SqlValue | undefined {
  const s = text.trim();
  const p = (x: string | undefined, n: number) => (x ?? '0').padStart(n, '0');
  let m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2})(\.\d{1,6})?)?)?$/.exec(s);
  if (!m) m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})(\.\d{1,6})?)?$/.exec(s);
  if (m && kind !== 'time') {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (mo > 12 || d > 31 || (mo === 0) !== (d === 0)) return undefined;
    const date = `${m[1]}-${p(m[2], 2)}-${p(m[3], 2)}`;
    if (y > 9999) return undefined;
    if (m[4] === undefined && kind !== 'datetime') return { t: 'time', v: date, kind: 'date' };
    if (Number(m[4] ?? 0) > 23 || Number(m[5] ?? 0) > 59 || Number(m[6] ?? 0) > 59) return undefined;
    return {
      t: 'time',
      v: `${date} ${p(m[4], 2)}:${p(m[5], 2)}:${p(m[6], 2)}${m[7] ?? ''}`,
      kind: 'datetime',
    };
  }
  const t = /^(-?)(\d{1,3}):(\d{1,2})(?::(\d{1,2})(\.\d{1,6})?)?$/.exec(s);
  if (t && (kind === undefined || kind === 'time')) {
    return { t: 'time', v: `${t[1]}${p(t[2], 2)}:${p(t[3], 2)}:${p(t[4], 2)}${t[5] ?? ''}`, kind: 'time' };
  }
  return undefined;
}

/** Case- and accent-insensitive folding, trailing spaces ignored (utf8mb4_general_ci's PAD SPACE). */
export function fold(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toUpperCase().replace(/ +$/, '');
}

function cmpStrings(a: string, b: string, cs: boolean): number {
  const [x, y] = cs ? [a.replace(/ +$/, ''), b.replace(/ +$/, '')] : [fold(a), fold(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);

function cmpTemporal(a: string, b: string): number {
  // canonical forms compare as text once a date is widened to a datetime's length
  const [x, y] = [a, b].map((v) => (v.length === 10 ? `${v} 00:00:00` : v));
  if (x.startsWith('-') || y.startsWith('-'))
    return sign(Number(x.replace(/:/g, '')) - Number(y.replace(/:/g, '')));
  return x < y ? -1 : x > y ? 1 : 0;
}

/** MySQL's comparison of two non-NULL values: -1, 0 or 1. */
export function compare(a: Exclude<SqlValue, null>, b: Exclude<SqlValue, null>): number {
  if (a.t === 'str' && b.t === 'str') return cmpStrings(a.v, b.v, a.cs || b.cs);
  if (a.t === 'time' || b.t === 'time') {
    const [ta, tb] = [a, b];
    const asTime = (v: Exclude<SqlValue, null>, like: Extract<SqlValue, { t: 'time' }>) =>
      v.t === 'time'
        ? v
        : v.t === 'str'
          ? parseTemporal(v.v, like.kind === 'time' ? 'time' : undefined)
          : undefined;
    const x = ta.t === 'time' ? ta : asTime(ta, tb as Extract<SqlValue, { t: 'time' }>);
    const y = tb.t === 'time' ? tb : asTime(tb, ta as Extract<SqlValue, { t: 'time' }>);
    if (x?.t === 'time' && y?.t === 'time' && (x.kind === 'time') === (y.kind === 'time'))
      return cmpTemporal(x.v, y.v);
    return sign(toDouble(a) - toDouble(b));
  }
  if ((a.t === 'int' || a.t === 'dec') && (b.t === 'int' || b.t === 'dec')) {
    const x = toDec(a);
    const y = toDec(b);
    const s = Math.max(x.s, y.s);
    const d = x.v * pow10(s - x.s) - y.v * pow10(s - y.s);
    return d < 0n ? -1 : d > 0n ? 1 : 0;
  }
  return sign(toDouble(a) - toDouble(b));
}

/** Whether a value is true in a condition (non-zero; NULL is unknown). */
export function truth(v: SqlValue): boolean | null {
  if (v === null) return null;
  switch (v.t) {
    case 'int':
    case 'dec':
      return v.v !== 0n;
    default:
      return toDouble(v) !== 0;
  }
}

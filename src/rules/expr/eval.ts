// Evaluates a parsed expression over one row with MySQL/MariaDB's semantics: NULL propagation,
// three-valued logic, exact integer and decimal arithmetic (division to the dividend's scale + 4,
// as div_precision_increment's default), comparison by MySQL's type rules, collation-aware string
// comparison and LIKE, and the functions of FUNCTIONS. Pure.
import type { Expr } from './parse.js';
import {
  bool,
  compare,
  ExprError,
  fold,
  int,
  parseDecimal,
  parseTemporal,
  pow10,
  real,
  str,
  toDec,
  toDouble,
  toText,
  truth,
  type SqlValue,
} from './value.js';

type V = Exclude<SqlValue, null>;
type Str = Extract<SqlValue, { t: 'str' }>;

/** Reads a column's value of the row being evaluated. */
export type ColumnValue = (name: string) => SqlValue;

export function evaluate(e: Expr, col: ColumnValue): SqlValue {
  switch (e.k) {
    case 'lit':
      return e.v;
    case 'col':
      return col(e.name);
    case 'un':
      return unary(e.op, evaluate(e.e, col));
    case 'bin':
      return binary(e.op, e.l, e.r, col);
    case 'in': {
      const v = evaluate(e.e, col);
      if (v === null) return null;
      let unknown = false;
      for (const x of e.list) {
        const w = evaluate(x, col);
        if (w === null) unknown = true;
        else if (compare(v, w) === 0) return bool(!e.not);
      }
      return unknown ? null : bool(e.not);
    }
    case 'between': {
      const v = evaluate(e.e, col);
      const lo = evaluate(e.lo, col);
      const hi = evaluate(e.hi, col);
      const ge = v === null || lo === null ? null : compare(v, lo) >= 0;
      const le = v === null || hi === null ? null : compare(v, hi) <= 0;
      const r = and(ge, le);
      return bool(r === null ? null : e.not ? !r : r);
    }
    case 'like': {
      const v = evaluate(e.e, col);
      const p = evaluate(e.pat, col);
      const esc = e.esc ? evaluate(e.esc, col) : str('\\');
      if (v === null || p === null) return null;
      const r = like(v, p, esc === null ? '\\' : toText(esc));
      return bool(e.not ? !r : r);
    }
    case 'is': {
      const v = evaluate(e.e, col);
      const r = e.what === 'null' ? v === null : truth(v) === (e.what === 'true');
      return bool(e.not ? !r : r);
    }
    case 'case': {
      const base = e.base ? evaluate(e.base, col) : undefined;
      for (const [w, then] of e.whens) {
        const c = evaluate(w, col);
        const hit =
          base === undefined ? truth(c) === true : base !== null && c !== null && compare(base, c) === 0;
        if (hit) return evaluate(then, col);
      }
      return e.else ? evaluate(e.else, col) : null;
    }
    case 'fn':
      return call(e.name, e.args, col);
  }
}

/** Whether a row matches: the expression is true (NULL and false do not match). */
export function matches(e: Expr, col: ColumnValue): boolean {
  return truth(evaluate(e, col)) === true;
}

function and(a: boolean | null, b: boolean | null): boolean | null {
  if (a === false || b === false) return false;
  return a === null || b === null ? null : true;
}

function unary(op: '-' | 'not' | '~', v: SqlValue): SqlValue {
  if (v === null) return null;
  if (op === 'not') return bool(!truth(v));
  const n = number(v);
  if (n.t === 'int') return int(-n.v);
  if (n.t === 'dec') return { t: 'dec', v: -n.v, s: n.s };
  return real(-n.v);
}

/** A value in numeric context: strings as doubles, temporal values as their digits' number. */
function number(v: V): Extract<SqlValue, { t: 'int' | 'dec' | 'real' }> {
  switch (v.t) {
    case 'int':
    case 'dec':
    case 'real':
      return v;
    case 'str':
      return { t: 'real', v: toDouble(v) };
    case 'time': {
      // 2024-01-31 12:00:00.5 is 20240131120000.5, -01:02:03 is -10203
      const d = parseDecimal(v.v.replace(/[-: ]/g, '')) as Extract<SqlValue, { t: 'dec' }>;
      const n = v.v.startsWith('-') ? -d.v : d.v;
      return d.s ? { t: 'dec', v: n, s: d.s } : { t: 'int', v: n };
    }
  }
}

const roundDiv = (num: bigint, den: bigint): bigint => {
  const neg = num < 0n !== den < 0n;
  const [a, b] = [num < 0n ? -num : num, den < 0n ? -den : den];
  const q = (a * 2n + b) / (2n * b);
  return neg ? -q : q;
};

function arith(op: string, a: V, b: V): SqlValue {
  const x = number(a);
  const y = number(b);
  if (x.t === 'real' || y.t === 'real') {
    const [p, q] = [toDouble(x), toDouble(y)];
    switch (op) {
      case '+':
        return real(p + q);
      case '-':
        return real(p - q);
      case '*':
        return real(p * q);
      case '/':
        return q === 0 ? null : real(p / q);
      case '%':
        return q === 0 ? null : real(p % q);
      case 'div':
        return q === 0 ? null : int(BigInt(Math.trunc(p / q)));
    }
  }
  if (x.t === 'int' && y.t === 'int') {
    switch (op) {
      case '+':
        return int(x.v + y.v);
      case '-':
        return int(x.v - y.v);
      case '*':
        return int(x.v * y.v);
      case '%':
        return y.v === 0n ? null : int(x.v % y.v);
      case 'div':
        return y.v === 0n ? null : int(x.v / y.v);
    }
  }
  const p = toDec(x as Extract<SqlValue, { t: 'int' | 'dec' }>);
  const q = toDec(y as Extract<SqlValue, { t: 'int' | 'dec' }>);
  const s = Math.max(p.s, q.s);
  const [pv, qv] = [p.v * pow10(s - p.s), q.v * pow10(s - q.s)];
  switch (op) {
    case '+':
      return { t: 'dec', v: pv + qv, s };
    case '-':
      return { t: 'dec', v: pv - qv, s };
    case '*':
      return { t: 'dec', v: p.v * q.v, s: p.s + q.s };
    case '%':
      return qv === 0n ? null : { t: 'dec', v: pv % qv, s };
    case 'div':
      return qv === 0n ? null : int(pv / qv);
    case '/': {
      if (q.v === 0n) return null;
      const scale = p.s + 4; // div_precision_increment
      return { t: 'dec', v: roundDiv(p.v * pow10(scale + q.s), q.v * pow10(p.s)), s: scale };
    }
  }
  throw new ExprError(`operator ${op} is not supported`);
}

function binary(op: string, l: Expr, r: Expr, col: ColumnValue): SqlValue {
  if (op === 'and' || op === 'or') {
    const a = truth(evaluate(l, col));
    if (op === 'and' && a === false) return bool(false);
    if (op === 'or' && a === true) return bool(true);
    const b = truth(evaluate(r, col));
    if (op === 'and') return bool(and(a, b));
    return bool(b === true ? true : a === null || b === null ? null : false);
  }
  const a = evaluate(l, col);
  const b = evaluate(r, col);
  if (op === '<=>') return bool(a === null || b === null ? a === b : compare(a, b) === 0);
  if (a === null || b === null) return null;
  if (op === 'xor') return bool(truth(a) !== truth(b));
  switch (op) {
    case '=':
      return bool(compare(a, b) === 0);
    case '<>':
      return bool(compare(a, b) !== 0);
    case '<':
      return bool(compare(a, b) < 0);
    case '<=':
      return bool(compare(a, b) <= 0);
    case '>':
      return bool(compare(a, b) > 0);
    case '>=':
      return bool(compare(a, b) >= 0);
  }
  return arith(op, a, b);
}

/** Folding for LIKE and LOCATE under a case-insensitive collation (no PAD SPACE). */
const foldChars = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toUpperCase();

const cs = (...vs: V[]) => vs.some((v) => v.t === 'str' && v.cs) || vs.every((v) => v.t !== 'str');

function like(v: V, p: V, esc: string): boolean {
  const sensitive = (v.t === 'str' && v.cs) || (p.t === 'str' && p.cs);
  const f = sensitive ? (s: string) => s : foldChars;
  const text = f(toText(v));
  const pat = [...toText(p)];
  let re = '';
  for (let i = 0; i < pat.length; i++) {
    const c = pat[i];
    if (c === esc && i + 1 < pat.length) re += f(pat[++i]).replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
    else if (c === '%') re += '[^]*';
    else if (c === '_') re += '[^]';
    else re += f(c).replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'u').test(text);
}

/** A function's string result, keeping its string argument's collation and binary-ness. */
function strLike(v: string, from: V[]): Str {
  const s = from.find((x): x is Str => x.t === 'str');
  return {
    t: 'str',
    v,
    cs: s?.cs ?? false,
    ...(from.some((x) => x.t === 'str' && x.bin) ? { bin: true } : {}),
  };
}

const chars = (v: V) => [...toText(v)];

/** An integer argument (MySQL rounds decimals and doubles to the nearest integer). */
function intArg(v: V): number {
  if (v.t === 'int') return Number(v.v);
  const n = toDouble(v);
  return n < 0 ? -Math.round(-n) : Math.round(n);
}

function roundTo(v: V, d: number, truncate: boolean): SqlValue {
  const n = number(v);
  if (n.t === 'real') {
    const f = 10 ** d;
    const x = n.v * f;
    const r = truncate ? Math.trunc(x) : rint(x);
    return real(r / f, Math.max(0, d));
  }
  const { v: dv, s } = toDec(n);
  if (d >= s) return n.t === 'int' ? n : { t: 'dec', v: dv * pow10(d - s), s: d };
  const unit = pow10(s - d);
  const q = truncate ? dv / unit : roundDiv(dv, unit);
  if (d >= 0) return n.t === 'int' ? int(q) : { t: 'dec', v: q, s: d };
  const out = q * pow10(-d);
  return n.t === 'int' ? int(out) : { t: 'dec', v: out, s: 0 };
}

/** Rounds half to even, as MariaDB's ROUND of a double (C's rint). */
function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function ceilFloor(v: V, up: boolean): SqlValue {
  const n = number(v);
  if (n.t === 'int') return n;
  if (n.t === 'real') {
    return real(up ? Math.ceil(n.v) : Math.floor(n.v), 0);
  }
  const unit = pow10(n.s);
  let q = n.v / unit;
  if (q * unit !== n.v && n.v > 0n === up) q += up ? 1n : -1n;
  return int(q);
}

/** The date and time parts of a value, or undefined when it does not read as one. */
function temporal(
  v: V,
):
  | { y: number; m: number; d: number; h: number; mi: number; s: number; date: boolean; time: boolean }
  | undefined {
  let t = v.t === 'time' ? v : undefined;
  if (!t && v.t === 'str') t = parseTemporal(v.v) as typeof t;
  if (!t && (v.t === 'int' || v.t === 'dec')) t = parseTemporal(toText(v)) as typeof t;
  if (!t || t.t !== 'time') return undefined;
  if (t.kind === 'time') {
    const m = /^-?(\d+):(\d+):(\d+)/.exec(t.v)!;
    return { y: 0, m: 0, d: 0, h: +m[1], mi: +m[2], s: +m[3], date: false, time: true };
  }
  const m = /^(\d+)-(\d+)-(\d+)(?: (\d+):(\d+):(\d+))?/.exec(t.v)!;
  return {
    y: +m[1],
    m: +m[2],
    d: +m[3],
    h: +(m[4] ?? 0),
    mi: +(m[5] ?? 0),
    s: +(m[6] ?? 0),
    date: true,
    time: t.kind === 'datetime',
  };
}

/** MySQL's day number (days since year 0), as TO_DAYS. */
export function dayNumber(y: number, m: number, d: number): number {
  if (y === 0 && m === 0) return 0;
  let delsum = 365 * y + 31 * (m - 1) + d;
  if (m <= 2) y--;
  else delsum -= Math.floor((m * 4 + 23) / 10);
  const temp = Math.floor(((Math.floor(y / 100) + 1) * 3) / 4);
  return delsum + Math.floor(y / 4) - temp;
}

function dateOf(v: V): { y: number; m: number; d: number } | undefined {
  const t = temporal(v);
  if (!t?.date || t.m === 0 || t.d === 0) return undefined;
  const days = new Date(Date.UTC(t.y, t.m, 0)).getUTCDate();
  return t.d > days ? undefined : t;
}

/** A result chosen among values as MariaDB types it: a number among decimals takes their
 * largest scale (COALESCE(1, 2.50) is 1.00). */
function harmonize(v: SqlValue, among: SqlValue[]): SqlValue {
  if (v === null || (v.t !== 'int' && v.t !== 'dec')) return v;
  const nums = among.filter((x): x is V => x !== null);
  if (!nums.every((x) => x.t === 'int' || x.t === 'dec')) return v;
  const s = Math.max(...nums.map((x) => (x.t === 'dec' ? x.s : 0)));
  const d = toDec(v);
  return s > d.s ? { t: 'dec', v: d.v * pow10(s - d.s), s } : v;
}

function call(name: string, argx: Expr[], col: ColumnValue): SqlValue {
  // control functions evaluate lazily and pass NULL through
  switch (name) {
    case 'IF': {
      const c = truth(evaluate(argx[0], col));
      return evaluate(argx[c === true ? 1 : 2], col);
    }
    case 'IFNULL': {
      const a = evaluate(argx[0], col);
      const b = evaluate(argx[1], col);
      return harmonize(a !== null ? a : b, [a, b]);
    }
    case 'COALESCE': {
      const vs = argx.map((x) => evaluate(x, col));
      const v = vs.find((x) => x !== null);
      return v === undefined ? null : harmonize(v, vs);
    }
    case 'NULLIF': {
      const a = evaluate(argx[0], col);
      const b = evaluate(argx[1], col);
      return a !== null && b !== null && compare(a, b) === 0 ? null : a;
    }
    case 'ISNULL':
      return bool(evaluate(argx[0], col) === null);
  }
  const raw = argx.map((x) => evaluate(x, col));
  if (name === 'CONCAT_WS') {
    if (raw[0] === null) return null;
    const parts = raw.slice(1).filter((v): v is V => v !== null);
    return strLike(parts.map(toText).join(toText(raw[0])), [raw[0], ...parts]);
  }
  if (raw.some((v) => v === null)) return null;
  const a = raw as V[];
  switch (name) {
    case 'CONCAT':
      return strLike(a.map(toText).join(''), a);
    case 'LENGTH':
    case 'OCTET_LENGTH': {
      const v = a[0];
      return int(v.t === 'str' && (v.bin || v.octets) ? v.v.length : Buffer.byteLength(toText(v), 'utf8'));
    }
    case 'CHAR_LENGTH':
    case 'CHARACTER_LENGTH':
      return int(chars(a[0]).length);
    case 'UPPER':
    case 'UCASE':
    case 'LOWER':
    case 'LCASE': {
      const v = a[0];
      if (v.t === 'str' && v.bin) return v; // binary strings have no letter case
      const t = toText(v);
      const up = name === 'UPPER' || name === 'UCASE';
      // per character: a letter whose case pair is longer (ß → SS) stays as it is, as in MariaDB
      const map = (c: string) => {
        const x = up ? c.toUpperCase() : c.toLowerCase();
        return [...x].length === 1 ? x : c;
      };
      return strLike([...t].map(map).join(''), a);
    }
    case 'SUBSTRING':
    case 'SUBSTR': {
      const c = chars(a[0]);
      const pos = intArg(a[1]);
      const len = a.length > 2 ? intArg(a[2]) : c.length;
      if (pos === 0 || len <= 0 || Math.abs(pos) > c.length) return strLike('', a.slice(0, 1));
      const start = pos > 0 ? pos - 1 : c.length + pos;
      return strLike(c.slice(start, start + len).join(''), a.slice(0, 1));
    }
    case 'LEFT':
    case 'RIGHT': {
      const c = chars(a[0]);
      const n = Math.max(0, intArg(a[1]));
      return strLike((name === 'LEFT' ? c.slice(0, n) : n ? c.slice(-n) : []).join(''), a.slice(0, 1));
    }
    case 'TRIM':
      return strLike(toText(a[0]).replace(/^ +| +$/g, ''), a);
    case 'LTRIM':
      return strLike(toText(a[0]).replace(/^ +/, ''), a);
    case 'RTRIM':
      return strLike(toText(a[0]).replace(/ +$/, ''), a);
    case 'REPLACE': {
      const from = toText(a[1]);
      return strLike(from ? toText(a[0]).split(from).join(toText(a[2])) : toText(a[0]), a);
    }
    case 'LOCATE':
    case 'INSTR': {
      const [sub, s] = name === 'LOCATE' ? [a[0], a[1]] : [a[1], a[0]];
      const f = cs(sub, s) ? (x: string) => x : foldChars;
      const hay = [...f(toText(s))];
      const needle = [...f(toText(sub))];
      const from = name === 'LOCATE' && a.length > 2 ? intArg(a[2]) : 1;
      if (from < 1 || from > hay.length + 1) return int(0);
      for (let i = from - 1; i + needle.length <= hay.length; i++) {
        if (needle.every((ch, j) => hay[i + j] === ch)) return int(i + 1);
      }
      return int(0);
    }
    case 'LPAD':
    case 'RPAD': {
      const c = chars(a[0]);
      const n = intArg(a[1]);
      const pad = chars(a[2]);
      if (n < 0) return null;
      if (c.length >= n) return strLike(c.slice(0, n).join(''), a);
      if (!pad.length) return null;
      const fill: string[] = [];
      while (fill.length < n - c.length) fill.push(pad[fill.length % pad.length]);
      return strLike((name === 'LPAD' ? [...fill, ...c] : [...c, ...fill]).join(''), a);
    }
    case 'REVERSE':
      return strLike(chars(a[0]).reverse().join(''), a);
    case 'REPEAT':
      return strLike(toText(a[0]).repeat(Math.max(0, intArg(a[1]))), a);
    case 'STRCMP': {
      const [x, y] = [toText(a[0]), toText(a[1])];
      const f = cs(a[0], a[1]) ? (s: string) => s.replace(/ +$/, '') : fold;
      const [p, q] = [f(x), f(y)];
      return int(p < q ? -1 : p > q ? 1 : 0);
    }
    case 'ABS': {
      const n = number(a[0]);
      if (n.t === 'int') return int(n.v < 0n ? -n.v : n.v);
      if (n.t === 'dec') return { t: 'dec', v: n.v < 0n ? -n.v : n.v, s: n.s };
      return real(Math.abs(n.v));
    }
    case 'CEIL':
    case 'CEILING':
      return ceilFloor(a[0], true);
    case 'FLOOR':
      return ceilFloor(a[0], false);
    case 'ROUND':
      return roundTo(a[0], a.length > 1 ? intArg(a[1]) : 0, false);
    case 'TRUNCATE':
      return roundTo(a[0], intArg(a[1]), true);
    case 'MOD':
      return arith('%', a[0], a[1]);
    case 'POW':
    case 'POWER':
      return real(Math.pow(toDouble(a[0]), toDouble(a[1])));
    case 'SQRT': {
      const n = toDouble(a[0]);
      return n < 0 ? null : real(Math.sqrt(n));
    }
    case 'SIGN': {
      const n = number(a[0]);
      const s = n.t === 'real' ? Math.sign(n.v) : n.v < 0n ? -1 : n.v > 0n ? 1 : 0;
      return int(s);
    }
    case 'GREATEST':
    case 'LEAST': {
      let best = a[0];
      for (const v of a.slice(1)) {
        const c = compare(v, best);
        if (name === 'GREATEST' ? c > 0 : c < 0) best = v;
      }
      return harmonize(best, a);
    }
    case 'YEAR':
    case 'MONTH':
    case 'DAY':
    case 'DAYOFMONTH':
    case 'HOUR':
    case 'MINUTE':
    case 'SECOND': {
      const t = temporal(a[0]);
      if (!t) return null;
      const part = { YEAR: t.y, MONTH: t.m, DAY: t.d, DAYOFMONTH: t.d, HOUR: t.h, MINUTE: t.mi, SECOND: t.s }[
        name
      ];
      return int(part);
    }
    case 'DATE': {
      const t = temporal(a[0]);
      if (!t?.date) return null;
      const p = (n: number, w: number) => String(n).padStart(w, '0');
      return { t: 'time', v: `${p(t.y, 4)}-${p(t.m, 2)}-${p(t.d, 2)}`, kind: 'date' };
    }
    case 'DAYOFWEEK':
    case 'WEEKDAY':
    case 'DAYOFYEAR':
    case 'TO_DAYS': {
      const d = dateOf(a[0]);
      if (!d) return null;
      const n = dayNumber(d.y, d.m, d.d);
      if (name === 'TO_DAYS') return int(n);
      if (name === 'DAYOFYEAR') return int(n - dayNumber(d.y, 1, 1) + 1);
      return int(name === 'WEEKDAY' ? (n + 5) % 7 : ((n + 6) % 7) + 1);
    }
    case 'DATEDIFF': {
      const [x, y] = [dateOf(a[0]), dateOf(a[1])];
      return x && y ? int(dayNumber(x.y, x.m, x.d) - dayNumber(y.y, y.m, y.d)) : null;
    }
  }
  throw new ExprError(`function ${name}() is not supported`);
}

/** The result as the text a client sees (NULL as null), for messages and tests. */
export function resultText(v: SqlValue): string | null {
  return v === null ? null : toText(v);
}

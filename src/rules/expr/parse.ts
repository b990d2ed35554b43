// The SQL expressions of DM's expression-filter, parsed: literals, columns, arithmetic,
// comparison, logic, IN, BETWEEN, LIKE, IS [NOT] NULL/TRUE/FALSE, CASE and the functions of
// FUNCTIONS. Anything else is refused naming it, so a task file never holds an expression that
// is evaluated differently than written. Pure.
import { ExprError, int, parseDecimal, real, str, type SqlValue } from './value.js';

export type Expr =
  | { k: 'lit'; v: SqlValue }
  | { k: 'col'; name: string }
  | { k: 'un'; op: '-' | 'not' | '~'; e: Expr }
  | { k: 'bin'; op: string; l: Expr; r: Expr }
  | { k: 'fn'; name: string; args: Expr[] }
  | { k: 'in'; e: Expr; list: Expr[]; not: boolean }
  | { k: 'between'; e: Expr; lo: Expr; hi: Expr; not: boolean }
  | { k: 'like'; e: Expr; pat: Expr; esc?: Expr; not: boolean }
  | { k: 'is'; e: Expr; what: 'null' | 'true' | 'false'; not: boolean }
  | { k: 'case'; base?: Expr; whens: [Expr, Expr][]; else?: Expr };

/** Functions evaluated here, with their argument counts [min, max]. */
export const FUNCTIONS: Readonly<Record<string, [number, number]>> = {
  // control
  IF: [3, 3],
  IFNULL: [2, 2],
  NULLIF: [2, 2],
  COALESCE: [1, Infinity],
  ISNULL: [1, 1],
  // string
  CONCAT: [1, Infinity],
  CONCAT_WS: [2, Infinity],
  LENGTH: [1, 1],
  OCTET_LENGTH: [1, 1],
  CHAR_LENGTH: [1, 1],
  CHARACTER_LENGTH: [1, 1],
  UPPER: [1, 1],
  UCASE: [1, 1],
  LOWER: [1, 1],
  LCASE: [1, 1],
  SUBSTRING: [2, 3],
  SUBSTR: [2, 3],
  LEFT: [2, 2],
  RIGHT: [2, 2],
  TRIM: [1, 1],
  LTRIM: [1, 1],
  RTRIM: [1, 1],
  REPLACE: [3, 3],
  LOCATE: [2, 3],
  INSTR: [2, 2],
  LPAD: [3, 3],
  RPAD: [3, 3],
  REVERSE: [1, 1],
  REPEAT: [2, 2],
  STRCMP: [2, 2],
  // math
  ABS: [1, 1],
  CEIL: [1, 1],
  CEILING: [1, 1],
  FLOOR: [1, 1],
  ROUND: [1, 2],
  TRUNCATE: [2, 2],
  MOD: [2, 2],
  POW: [2, 2],
  POWER: [2, 2],
  SQRT: [1, 1],
  SIGN: [1, 1],
  GREATEST: [2, Infinity],
  LEAST: [2, Infinity],
  // date
  YEAR: [1, 1],
  MONTH: [1, 1],
  DAY: [1, 1],
  DAYOFMONTH: [1, 1],
  HOUR: [1, 1],
  MINUTE: [1, 1],
  SECOND: [1, 1],
  DATE: [1, 1],
  DAYOFWEEK: [1, 1],
  WEEKDAY: [1, 1],
  DAYOFYEAR: [1, 1],
  DATEDIFF: [2, 2],
  TO_DAYS: [1, 1],
};

/** Functions whose result depends on when the row is read, not on the row: refused. */
const NOT_OF_THE_ROW = new Set([
  'NOW',
  'CURDATE',
  'CURRENT_DATE',
  'CURTIME',
  'CURRENT_TIME',
  'CURRENT_TIMESTAMP',
  'SYSDATE',
  'UTC_TIMESTAMP',
  'UNIX_TIMESTAMP',
  'RAND',
  'UUID',
  'LOCALTIME',
  'LOCALTIMESTAMP',
]);

interface Tok {
  k: 'num' | 'str' | 'id' | 'qid' | 'op' | 'end';
  v: string;
  at: number;
}

function tokens(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const at = i;
    const num = /^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/i.exec(src.slice(i));
    if (num && !/[a-z_$]/i.test(src[i + num[0].length] ?? '')) {
      out.push({ k: 'num', v: num[0], at });
      i += num[0].length;
      continue;
    }
    if (c === "'" || c === '"') {
      let v = '';
      let j = i + 1;
      for (;;) {
        if (j >= src.length) throw new ExprError(`unterminated string at ${at + 1}`);
        const ch = src[j];
        if (ch === '\\' && j + 1 < src.length) {
          const e = src[j + 1];
          v += { n: '\n', t: '\t', r: '\r', '0': '\0', b: '\b', Z: '\x1a' }[e] ?? e;
          j += 2;
        } else if (ch === c && src[j + 1] === c) {
          v += c;
          j += 2;
        } else if (ch === c) {
          j++;
          break;
        } else {
          v += ch;
          j++;
        }
      }
      out.push({ k: 'str', v, at });
      i = j;
      continue;
    }
    if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) throw new ExprError(`unterminated identifier at ${at + 1}`);
      out.push({ k: 'qid', v: src.slice(i + 1, end), at });
      i = end + 1;
      continue;
    }
    const id = /^[a-z_$][\w$]*/i.exec(src.slice(i));
    if (id) {
      out.push({ k: 'id', v: id[0], at });
      i += id[0].length;
      continue;
    }
    const op = /^(<=>|<>|!=|<=|>=|&&|\|\||<<|>>|[-+*/%(),=<>!~^&|])/.exec(src.slice(i));
    if (!op) throw new ExprError(`unexpected '${c}' at ${at + 1}`);
    out.push({ k: 'op', v: op[0], at });
    i += op[0].length;
  }
  out.push({ k: 'end', v: '', at: src.length });
  return out;
}

const COMPARE = new Set(['=', '<=>', '<>', '!=', '<', '<=', '>', '>=']);

class Parser {
  private i = 0;
  constructor(private readonly t: Tok[]) {}

  private peek(): Tok {
    return this.t[this.i];
  }
  private word(...w: string[]): boolean {
    const x = this.peek();
    return x.k === 'id' && w.includes(x.v.toUpperCase());
  }
  private op(...o: string[]): boolean {
    const x = this.peek();
    return x.k === 'op' && o.includes(x.v);
  }
  private take(): Tok {
    return this.t[this.i++];
  }
  private expectWord(w: string): void {
    if (!this.word(w)) throw this.unexpected(`${w} expected`);
    this.i++;
  }
  private expectOp(o: string): void {
    if (!this.op(o)) throw this.unexpected(`'${o}' expected`);
    this.i++;
  }
  unexpected(what?: string): ExprError {
    const x = this.peek();
    const at = x.k === 'end' ? 'at the end' : `'${x.v}' at ${x.at + 1}`;
    return new ExprError(what ? `${what}, found ${at}` : `unexpected ${at}`);
  }

  parse(): Expr {
    const e = this.or();
    if (this.op('&', '|', '^', '<<', '>>')) throw this.unexpected('bit operators are not supported');
    if (this.peek().k !== 'end') throw this.unexpected();
    return e;
  }

  private or(): Expr {
    let l = this.xor();
    while (this.word('OR') || this.op('||')) {
      this.take();
      l = { k: 'bin', op: 'or', l, r: this.xor() };
    }
    return l;
  }
  private xor(): Expr {
    let l = this.and();
    while (this.word('XOR')) {
      this.take();
      l = { k: 'bin', op: 'xor', l, r: this.and() };
    }
    return l;
  }
  private and(): Expr {
    let l = this.not();
    while (this.word('AND') || this.op('&&')) {
      this.take();
      l = { k: 'bin', op: 'and', l, r: this.not() };
    }
    return l;
  }
  private not(): Expr {
    if (this.word('NOT')) {
      this.take();
      return { k: 'un', op: 'not', e: this.not() };
    }
    return this.predicate();
  }
  private predicate(): Expr {
    let l = this.additive();
    for (;;) {
      if (this.peek().k === 'op' && COMPARE.has(this.peek().v)) {
        const op = this.take().v;
        l = { k: 'bin', op: op === '!=' ? '<>' : op, l, r: this.additive() };
        continue;
      }
      if (this.word('IS')) {
        this.take();
        const not = this.word('NOT') && !!this.take();
        const w = this.take();
        const what = w.k === 'id' ? w.v.toLowerCase() : '';
        if (what !== 'null' && what !== 'true' && what !== 'false') {
          this.i--;
          throw this.unexpected('NULL, TRUE or FALSE expected after IS');
        }
        l = { k: 'is', e: l, what, not };
        continue;
      }
      const save = this.i;
      const not = this.word('NOT') && !!this.take();
      if (this.word('IN')) {
        this.take();
        this.expectOp('(');
        const list = [this.or()];
        while (this.op(',')) {
          this.take();
          list.push(this.or());
        }
        this.expectOp(')');
        l = { k: 'in', e: l, list, not };
        continue;
      }
      if (this.word('BETWEEN')) {
        this.take();
        const lo = this.additive();
        this.expectWord('AND');
        l = { k: 'between', e: l, lo, hi: this.additive(), not };
        continue;
      }
      if (this.word('LIKE')) {
        this.take();
        const pat = this.additive();
        let esc: Expr | undefined;
        if (this.word('ESCAPE')) {
          this.take();
          esc = this.primary();
        }
        l = { k: 'like', e: l, pat, esc, not };
        continue;
      }
      if (this.word('REGEXP', 'RLIKE', 'SOUNDS'))
        throw this.unexpected(`${this.peek().v.toUpperCase()} is not supported`);
      this.i = save;
      return l;
    }
  }
  private additive(): Expr {
    let l = this.multiplicative();
    while (this.op('+', '-')) {
      const op = this.take().v;
      l = { k: 'bin', op, l, r: this.multiplicative() };
    }
    return l;
  }
  private multiplicative(): Expr {
    let l = this.unary();
    for (;;) {
      if (this.op('*', '/', '%')) {
        const op = this.take().v;
        l = { k: 'bin', op, l, r: this.unary() };
      } else if (this.word('DIV', 'MOD')) {
        const op = this.take().v.toUpperCase() === 'DIV' ? 'div' : '%';
        l = { k: 'bin', op, l, r: this.unary() };
      } else return l;
    }
  }
  private unary(): Expr {
    if (this.op('-')) {
      this.take();
      return { k: 'un', op: '-', e: this.unary() };
    }
    if (this.op('+')) {
      this.take();
      return this.unary();
    }
    if (this.op('!')) {
      this.take();
      return { k: 'un', op: 'not', e: this.unary() };
    }
    if (this.op('~', '^', '&', '|', '<<', '>>')) throw this.unexpected('bit operators are not supported');
    return this.primary();
  }
  private primary(): Expr {
    const x = this.take();
    if (x.k === 'num') {
      if (/e/i.test(x.v)) return { k: 'lit', v: real(Number(x.v)) };
      if (x.v.includes('.')) return { k: 'lit', v: parseDecimal(x.v) };
      const n = BigInt(x.v);
      return { k: 'lit', v: n < 1n << 64n ? int(n) : parseDecimal(x.v) };
    }
    if (x.k === 'str') return { k: 'lit', v: str(x.v) };
    if (x.k === 'qid') return { k: 'col', name: x.v };
    if (x.k === 'op' && x.v === '(') {
      const e = this.or();
      this.expectOp(')');
      return e;
    }
    if (x.k === 'id') {
      const w = x.v.toUpperCase();
      if (w === 'NULL') return { k: 'lit', v: null };
      if (w === 'TRUE') return { k: 'lit', v: int(1) };
      if (w === 'FALSE') return { k: 'lit', v: int(0) };
      if (w === 'CASE') return this.caseExpr();
      if (w === 'DATE' && this.peek().k === 'str')
        return { k: 'fn', name: 'DATE', args: [{ k: 'lit', v: str(this.take().v) }] };
      if (this.op('(')) return this.call(x);
      if (
        [
          'AND',
          'OR',
          'NOT',
          'IS',
          'IN',
          'LIKE',
          'BETWEEN',
          'XOR',
          'DIV',
          'MOD',
          'WHEN',
          'THEN',
          'ELSE',
          'END',
        ].includes(w)
      ) {
        this.i--;
        throw this.unexpected();
      }
      return { k: 'col', name: x.v };
    }
    this.i--;
    throw this.unexpected();
  }
  private call(name: Tok): Expr {
    const w = name.v.toUpperCase();
    if (NOT_OF_THE_ROW.has(w))
      throw new ExprError(
        `${w}() is not supported: its result depends on when the row is read, not on the row`,
      );
    const arity = FUNCTIONS[w];
    if (!arity)
      throw new ExprError(
        `function ${w}() is not supported (supported: ${Object.keys(FUNCTIONS).join(', ')})`,
      );
    this.expectOp('(');
    const args: Expr[] = [];
    if (!this.op(')')) {
      args.push(this.or());
      while (this.op(',')) {
        this.take();
        args.push(this.or());
      }
    }
    this.expectOp(')');
    if (args.length < arity[0] || args.length > arity[1]) {
      const want =
        arity[0] === arity[1]
          ? `${arity[0]}`
          : arity[1] === Infinity
            ? `at least ${arity[0]}`
            : `${arity[0]} to ${arity[1]}`;
      throw new ExprError(`${w}() takes ${want} argument${want === '1' ? '' : 's'}, not ${args.length}`);
    }
    return { k: 'fn', name: w, args };
  }
  private caseExpr(): Expr {
    const base = this.word('WHEN') ? undefined : this.or();
    const whens: [Expr, Expr][] = [];
    while (this.word('WHEN')) {
      this.take();
      const w = this.or();
      this.expectWord('THEN');
      whens.push([w, this.or()]);
    }
    if (!whens.length) throw this.unexpected('WHEN expected');
    let other: Expr | undefined;
    if (this.word('ELSE')) {
      this.take();
      other = this.or();
    }
    this.expectWord('END');
    return { k: 'case', base, whens, else: other };
  }
}

/** Parses an expression; throws ExprError naming what is wrong or outside the subset. */
export function parseExpr(src: string): Expr {
  if (!src.trim()) throw new ExprError('the expression is empty');
  return new Parser(tokens(src)).parse();
}

/** The column names an expression reads. */
export function columnsOf(e: Expr, out = new Set<string>()): Set<string> {
  switch (e.k) {
    case 'col':
      out.add(e.name);
      break;
    case 'lit':
      break;
    case 'un':
      columnsOf(e.e, out);
      break;
    case 'bin':
      columnsOf(e.l, out);
      columnsOf(e.r, out);
      break;
    case 'fn':
      e.args.forEach((a) => columnsOf(a, out));
      break;
    case 'in':
      [e.e, ...e.list].forEach((a) => columnsOf(a, out));
      break;
    case 'between':
      [e.e, e.lo, e.hi].forEach((a) => columnsOf(a, out));
      break;
    case 'like':
      [e.e, e.pat, ...(e.esc ? [e.esc] : [])].forEach((a) => columnsOf(a, out));
      break;
    case 'is':
      columnsOf(e.e, out);
      break;
    case 'case':
      [...(e.base ? [e.base] : []), ...e.whens.flat(), ...(e.else ? [e.else] : [])].forEach((a) =>
        columnsOf(a, out),
      );
      break;
  }
  return out;
}

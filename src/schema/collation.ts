// collation_compatible: strict (DM's): a CREATE DATABASE or CREATE TABLE that leaves a collation
// implicit gets the upstream's explicitly, so the target cannot pick its own default (servers of
// different versions map a character set to different default collations). A charset without a
// collation takes that charset's default on the upstream; a CREATE DATABASE with neither takes the
// upstream session's collation_server, read from the Query event's status variables. A CREATE
// TABLE with neither inherits its database's, which strict mode made explicit. Pure.
import { blankComments } from './ddl.js';

/** What the rewrite needs of the upstream. */
export interface UpstreamCollations {
  /** Character set → its default collation (information_schema.COLLATIONS, IS_DEFAULT). */
  defaults: Map<string, string>;
  /** The DDL's session collation_server (CREATE DATABASE without charset nor collation). */
  server?: string;
}

/** collation_server's id in a Query event's status variables (Q_CHARSET_CODE), if present. */
export function serverCollationId(vars: Buffer): number | undefined {
  // [code, fixed length] of the variables written before Q_CHARSET_CODE (4) or beside it;
  // length -1: one length byte, then that many bytes.
  const FIXED: Record<number, number> = {
    0: 4,
    1: 8,
    3: 4,
    5: -1,
    6: -1,
    7: 2,
    8: 2,
    9: 8,
    10: 4,
    13: 3,
    16: 1,
    17: 8,
    18: 2,
    19: 1,
    20: 1,
    128: 3,
    129: 8,
    130: 1,
  };
  let i = 0;
  while (i < vars.length) {
    const code = vars[i++];
    if (code === 4) return i + 6 <= vars.length ? vars.readUInt16LE(i + 4) : undefined;
    if (code === 2) {
      // Q_CATALOG_CODE (old): length, bytes, a zero
      i += 1 + (vars[i] ?? 0) + 1;
      continue;
    }
    const n = FIXED[code];
    if (n === undefined) return undefined; // an unknown variable: its length is unknown
    i += n === -1 ? 1 + (vars[i] ?? 0) : n;
  }
  return undefined;
}

interface Tok {
  at: number;
  end: number;
  /** Upper-cased word, the unquoted identifier or string, or the punctuation. */
  v: string;
  kind: 'word' | 'str' | 'punct';
}

function tokenize(sql: string): Tok[] {
  const s = blankComments(sql);
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      let v = '';
      while (j < s.length) {
        if (s[j] === '\\' && c !== '`') {
          v += s[j + 1] ?? '';
          j += 2;
        } else if (s[j] === c && s[j + 1] === c) {
          v += c;
          j += 2;
        } else if (s[j] === c) break;
        else v += s[j++];
      }
      out.push({ at: i, end: j + 1, v, kind: c === '`' ? 'word' : 'str' });
      i = j + 1;
    } else if (/[\w$]/.test(c)) {
      let j = i;
      while (j < s.length && /[\w$]/.test(s[j])) j++;
      out.push({ at: i, end: j, v: s.slice(i, j).toUpperCase(), kind: 'word' });
      i = j;
    } else {
      out.push({ at: i, end: i + 1, v: c, kind: 'punct' });
      i++;
    }
  }
  return out;
}

/** In a run of options, the charset named (CHARACTER SET x, CHARSET x, CHARSET = x) and where its
 * name ends, and whether a COLLATE is there. */
function options(toks: Tok[]): { charset?: string; after?: number; collate: boolean } {
  const out: { charset?: string; after?: number; collate: boolean } = { collate: false };
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t.kind !== 'word') continue;
    if (t.v === 'COLLATE') out.collate = true;
    const isCharset =
      t.v === 'CHARSET' || ((t.v === 'CHARACTER' || t.v === 'CHAR') && toks[i + 1]?.v === 'SET');
    if (!isCharset) continue;
    let j = t.v === 'CHARSET' ? i + 1 : i + 2;
    if (toks[j]?.v === '=') j++;
    const name = toks[j];
    if (name && name.kind !== 'punct') {
      out.charset = name.kind === 'word' ? name.v.toLowerCase() : name.v.toLowerCase();
      out.after = name.end;
    }
  }
  return out;
}

/** Splits the tokens between `open` and its matching parenthesis at top-level commas. */
function elements(toks: Tok[], open: number): { parts: Tok[][]; close: number } {
  const parts: Tok[][] = [[]];
  let depth = 0;
  for (let i = open + 1; i < toks.length; i++) {
    const t = toks[i];
    if (t.v === '(' && t.kind === 'punct') depth++;
    else if (t.v === ')' && t.kind === 'punct') {
      if (depth === 0) return { parts, close: i };
      depth--;
    } else if (t.v === ',' && t.kind === 'punct' && depth === 0) {
      parts.push([]);
      continue;
    }
    parts[parts.length - 1].push(t);
  }
  return { parts, close: toks.length };
}

const NOT_A_COLUMN = new Set([
  'PRIMARY',
  'KEY',
  'INDEX',
  'UNIQUE',
  'CONSTRAINT',
  'FOREIGN',
  'CHECK',
  'FULLTEXT',
  'SPATIAL',
  'PERIOD',
]);

/** The statement with the upstream's collations made explicit (unchanged when nothing is implicit
 * or a charset's default is not known). */
export function strictCollation(sql: string, up: UpstreamCollations): string {
  const toks = tokenize(sql);
  const inserts: { at: number; text: string }[] = [];
  const collate = (charset: string) => up.defaults.get(charset);
  const head = toks.slice(0, 4).map((t) => t.v);
  const ci = head[0] === 'CREATE' ? 1 : -1;
  if (ci < 0) return sql;
  if (head[1] === 'DATABASE' || head[1] === 'SCHEMA') {
    const o = options(toks.slice(2));
    if (o.collate) return sql;
    if (o.charset) {
      const c = collate(o.charset);
      if (c) inserts.push({ at: o.after!, text: ` COLLATE ${c}` });
    } else if (up.server) inserts.push({ at: sql.length, text: ` COLLATE ${up.server}` });
  } else {
    const table = toks.findIndex((t) => t.kind === 'word' && t.v === 'TABLE');
    if (table < 0 || toks.slice(1, table).some((t) => !['TEMPORARY', 'OR', 'REPLACE'].includes(t.v)))
      return sql;
    // TABLE [IF NOT EXISTS] name[.name] ( … : anything else (LIKE, AS SELECT) has no definitions
    let open = table + 1;
    if (toks[open]?.v === 'IF') open += 3;
    open += toks[open + 1]?.v === '.' ? 3 : 1;
    if (toks[open]?.kind !== 'punct' || toks[open].v !== '(') return sql;
    const { parts, close } = elements(toks, open);
    if (parts.length === 1 && parts[0][0]?.v === 'LIKE') return sql;
    for (const p of parts) {
      if (!p.length || (p[0].end - p[0].at === p[0].v.length && NOT_A_COLUMN.has(p[0].v))) continue;
      const o = options(p.slice(1));
      if (o.collate || !o.charset) continue;
      const c = collate(o.charset);
      if (c) inserts.push({ at: o.after!, text: ` COLLATE ${c}` });
    }
    const t = options(toks.slice(close + 1));
    if (!t.collate && t.charset) {
      const c = collate(t.charset);
      if (c) inserts.push({ at: t.after!, text: ` COLLATE=${c}` });
    }
  }
  let out = sql;
  for (const ins of inserts.sort((a, b) => b.at - a.at))
    out = out.slice(0, ins.at) + ins.text + out.slice(ins.at);
  return out;
}

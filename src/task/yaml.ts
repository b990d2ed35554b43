// Reading DM's YAML config files: parse with line numbers, then read fields with their types
// checked and every error naming the file, the key path and the fix. Unknown keys are errors (as
// in DM, which decodes strictly) with the closest known key suggested. A problem does not stop the
// reading: the getter answers its default and the next key is read, so `finish()` reports every
// problem of the file at once (unknown keys first: a typo explains what it seems to leave out).
import { parseDocument, isMap, isScalar, isSeq, LineCounter, type Node, type Document } from 'yaml';
import { DMError, ERR } from '../errors.js';
import { closest } from '../words.js';

export function configError(file: string, message: string, workaround: string): DMError {
  return new DMError(ERR.configFile, {
    message: `${file}: ${message}`,
    workaround,
  });
}

/** Parses YAML text; syntax errors name the line and column. */
export function parseYaml(text: string, file: string): Reader {
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const at = e.pos ? lineCounter.linePos(e.pos[0]) : undefined;
    throw configError(
      file,
      `invalid YAML${at ? ` at line ${at.line}, column ${at.col}` : ''}: ${e.message.split('\n')[0]}`,
      'Fix the YAML syntax (indentation with spaces, quotes around values with ":" or "#").',
    );
  }
  const root = doc.contents;
  if (!root || !isMap(root)) {
    throw configError(
      file,
      'expected a mapping of keys at the top level',
      'See the DM task/source file examples.',
    );
  }
  return new Reader(file, '', root, lineCounter);
}

/** One problem found in a file: unknown keys ('typo') are listed before the rest. */
export interface Problem {
  kind: 'typo' | 'value';
  line: number;
  text: string;
  fix: string;
}

/** The one error for every problem of a file (undefined when there is none). */
export function problemsError(file: string, problems: readonly Problem[]): DMError | undefined {
  if (!problems.length) return undefined;
  if (problems.length === 1) return configError(file, problems[0].text, problems[0].fix);
  const sorted = [...problems].sort(
    (a, b) => Number(b.kind === 'typo') - Number(a.kind === 'typo') || a.line - b.line,
  );
  return configError(
    file,
    `${problems.length} problems: ${sorted.map((p, i) => `${i + 1}) ${p.text} (${p.fix.replace(/\.$/, '')})`).join('; ')}`,
    'Fix each problem listed (each says how).',
  );
}

/** What happens to a DM key that has no effect here: a warning that says why, or a refusal (with
 * the fix) unless `inert` says its value asks for nothing (default: empty, false or 0). */
export type KeyPolicy = { warn: string } | { refuse: string; fix: string; inert?: (r: Reader) => boolean };

/** A mapping node being read: typed getters, and `done()` to reject keys nobody asked for. */
export class Reader {
  private readonly asked = new Set<string>();

  constructor(
    readonly file: string,
    readonly path: string,
    private readonly node: Node,
    private readonly lines: LineCounter,
    /** What the whole file's reading warns of (keys accepted that do nothing here, and why). */
    readonly warnings: string[] = [],
    /** What is wrong in the whole file, reported together by `finish()`. */
    readonly problems: Problem[] = [],
  ) {}

  private lineOf(node?: Node | null): number {
    const n = node ?? this.node;
    return n.range ? this.lines.linePos(n.range[0]).line : 0;
  }

  /** Records a problem of the file that no single getter finds (a dangling reference…). */
  problem(text: string, fix: string, node?: Node): void {
    this.problems.push({ kind: 'value', line: this.lineOf(node), text, fix });
  }

  /** Throws the one error for every problem found in the file so far. */
  finish(): void {
    const e = problemsError(this.file, this.problems);
    if (e) throw e;
  }

  private where(key: string, node?: Node | null): string {
    const p = this.path ? `${this.path}.${key}` : key;
    const at = node?.range ? this.lines.linePos(node.range[0]) : undefined;
    return at ? `'${p}' (line ${at.line})` : `'${p}'`;
  }

  private get(key: string): Node | undefined {
    this.asked.add(key);
    if (!isMap(this.node)) return undefined;
    const v = this.node.get(key, true) as Node | null | undefined;
    if (v === null || v === undefined) return undefined;
    if (isScalar(v) && v.value === null) return undefined;
    return v;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  keys(): string[] {
    if (!isMap(this.node)) return [];
    return this.node.items.map((p) => String(isScalar(p.key) ? p.key.value : p.key));
  }

  private fail(
    key: string,
    node: Node | undefined,
    what: string,
    fix: string,
    kind: Problem['kind'] = 'value',
  ): void {
    this.problems.push({ kind, line: this.lineOf(node), text: `${this.where(key, node)} ${what}`, fix });
  }

  /** Refuses the value of `key`: the problem names the key and its line. */
  invalid(key: string, what: string, fix: string): void {
    this.fail(key, this.get(key), what, fix);
  }

  string(key: string, def?: string): string {
    const v = this.get(key);
    if (v === undefined) {
      if (def === undefined) this.fail(key, v, 'is required', `Add '${key}: <value>'.`);
      return def ?? '';
    }
    if (!isScalar(v) || typeof v.value === 'object') {
      this.fail(key, v, 'must be a string', `Write '${key}: <text>'.`);
      return def ?? '';
    }
    return String(v.value);
  }

  optionalString(key: string): string | undefined {
    return this.has(key) ? this.string(key) : undefined;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], def?: T): T {
    const n = this.problems.length;
    const s = this.string(key, def);
    if (this.problems.length > n) return def ?? allowed[0];
    if (!(allowed as readonly string[]).includes(s)) {
      this.fail(key, this.get(key), `is '${s}'`, `Use one of: ${allowed.map((a) => `'${a}'`).join(', ')}.`);
      return def ?? allowed[0];
    }
    return s as T;
  }

  int(key: string, def?: number, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.get(key);
    if (v === undefined) {
      if (def === undefined) this.fail(key, v, 'is required', `Add '${key}: <number>'.`);
      return def ?? Math.max(min, 0);
    }
    const raw = isScalar(v) ? v.value : undefined;
    const n =
      typeof raw === 'number'
        ? raw
        : typeof raw === 'string' && /^-?\d+$/.test(raw.trim())
          ? Number(raw)
          : NaN;
    if (!Number.isInteger(n)) {
      this.fail(key, v, `must be a whole number, not '${String(raw)}'`, `Write '${key}: 4'.`);
      return def ?? Math.max(min, 0);
    }
    if (n < min || n > max) {
      this.fail(key, v, `is ${n}, out of range`, `Use a value from ${min} to ${max}.`);
      return def ?? Math.max(min, 0);
    }
    return n;
  }

  bool(key: string, def: boolean): boolean {
    const v = this.get(key);
    if (v === undefined) return def;
    const raw = isScalar(v) ? v.value : undefined;
    if (typeof raw === 'boolean') return raw;
    if (raw === 'true' || raw === 'false') return raw === 'true';
    this.fail(
      key,
      v,
      `must be true or false, not '${String(raw)}'`,
      `Write '${key}: true' or '${key}: false'.`,
    );
    return def;
  }

  stringList(key: string): string[] {
    const v = this.get(key);
    if (v === undefined) return [];
    if (!isSeq(v)) {
      this.fail(key, v, 'must be a list', `Write '${key}: ["a", "b"]'.`);
      return [];
    }
    return v.items.flatMap((item, i) => {
      if (!isScalar(item) || item.value === null || typeof item.value === 'object') {
        this.fail(`${key}[${i}]`, item as Node, 'must be a string', 'List plain values.');
        return [];
      }
      return [String(item.value)];
    });
  }

  /** A nested mapping, or undefined when absent. */
  map(key: string): Reader | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (!isMap(v)) {
      this.fail(key, v, 'must be a mapping', `Indent the keys of '${key}' under it.`);
      return undefined;
    }
    return new Reader(
      this.file,
      this.path ? `${this.path}.${key}` : key,
      v,
      this.lines,
      this.warnings,
      this.problems,
    );
  }

  /** A mapping of name → mapping (e.g. `routes`). */
  namedMaps(key: string): Map<string, Reader> {
    const m = this.map(key);
    const out = new Map<string, Reader>();
    if (!m) return out;
    for (const k of m.keys()) {
      const r = m.map(k);
      if (r) out.set(k, r);
    }
    m.done([]);
    return out;
  }

  /** A list of mappings (e.g. `mysql-instances`). */
  mapList(key: string): Reader[] {
    const v = this.get(key);
    if (v === undefined) return [];
    if (!isSeq(v)) {
      this.fail(key, v, 'must be a list', `Write each entry of '${key}' on a line starting with '- '.`);
      return [];
    }
    return v.items.flatMap((item, i) => {
      if (!isMap(item)) {
        this.fail(`${key}[${i}]`, item as Node, 'must be a mapping', 'Write keys under the "- ".');
        return [];
      }
      return [
        new Reader(
          this.file,
          `${this.path ? `${this.path}.` : ''}${key}[${i}]`,
          item,
          this.lines,
          this.warnings,
          this.problems,
        ),
      ];
    });
  }

  /** Whether `key` is absent or asks for nothing: null, false, 0, '', an empty list or mapping. */
  empty(key: string): boolean {
    const v = this.get(key);
    if (v === undefined) return true;
    if (isScalar(v)) return v.value === false || v.value === 0 || v.value === '' || v.value === 'false';
    if (isMap(v) || isSeq(v)) return v.items.length === 0;
    return false;
  }

  /** Applies the policy of DM keys this project does not act on: each one present is either
   * accepted with a warning that says why it changes nothing, or refused (unless its value asks
   * for nothing) with what to do instead. Never silently ignored. */
  policy(keys: Readonly<Record<string, KeyPolicy>>): void {
    for (const [key, p] of Object.entries(keys)) {
      const v = this.get(key);
      if (v === undefined) continue;
      if ('warn' in p) this.warnings.push(`${this.file}: ${this.where(key, v)} ${p.warn}`);
      else if (!(p.inert ?? ((r: Reader) => r.empty(key)))(this))
        this.fail(key, v, `${p.refuse} is not supported yet`, p.fix);
    }
  }

  /** Rejects keys that were not read, except those in `ignored` (accepted DM keys we don't use). */
  done(ignored: readonly string[]): void {
    for (const k of this.keys()) {
      if (this.asked.has(k) || ignored.includes(k)) continue;
      const best = closest(k, [...this.asked, ...ignored]);
      this.fail(
        k,
        isMap(this.node) ? ((this.node.get(k, true) as Node | undefined) ?? undefined) : undefined,
        'is not a known key',
        best ? `Did you mean '${best}'?` : 'Remove it, or check the key against the DM documentation.',
        'typo',
      );
    }
  }
}

/** The file's text with a top-level key set (comments and the other keys as they were). */
export function withTopKey(text: string, key: string, value: string | number | boolean): string {
  const doc = parseDocument(text);
  doc.set(key, value);
  return doc.toString();
}

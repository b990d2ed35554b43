// dm-master's and dm-worker's TOML config files (`--config`), read strictly like DM: an unknown
// key is an error naming the file and the nearest known key; flags given on the command line win.
import { readFile } from 'node:fs/promises';
import { parse } from 'smol-toml';
import { configError, problemsError, type Problem } from '../task/yaml.js';
import { closest } from '../words.js';

export type Settings = Record<string, string | number | boolean>;

/** DM keys this project does not do yet: refused with what to do instead, never ignored. */
export type Refused = Record<string, string>;

/** DM keys accepted that change nothing here: key → why (a list: "has no effect here"). */
export type Warned = Record<string, string> | string[];

/** DM keys refused only for some values: `refuse(value)` says what is not supported, if it is. */
export type RefusedIf = Record<string, { refuse: (v: unknown) => string | undefined; fix: string }>;

/** Reads `path` and returns its keys; `known` are the keys used, `warned` DM keys accepted with a
 * warning (pushed to `warnings`: never silently), `refused` DM keys refused with their fix. */
export async function readToml(
  path: string,
  known: string[],
  warned: Warned,
  refused: Refused = {},
  warnings: string[] = [],
  refusedIf: RefusedIf = {},
): Promise<Settings> {
  const why: Record<string, string> = Array.isArray(warned)
    ? Object.fromEntries(warned.map((k) => [k, 'has no effect here']))
    : warned;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw configError(path, `cannot be read: ${(e as Error).message}`, 'Check the --config path.');
  }
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (e) {
    throw configError(
      path,
      `invalid TOML: ${(e as Error).message.split('\n')[0]}`,
      'Fix the TOML syntax (key = "value").',
    );
  }
  const out: Settings = {};
  // Every problem of the file at once, unknown keys first (as the task and source files).
  const problems: Problem[] = [];
  const line = (k: string) => text.split('\n').findIndex((l) => new RegExp(`^\\s*"?${k}"?\\s*=`).test(l)) + 1;
  const add = (k: string, what: string, fix: string, kind: Problem['kind'] = 'value') =>
    problems.push({ kind, line: line(k), text: `'${k}'${line(k) ? ` (line ${line(k)})` : ''} ${what}`, fix });
  for (const [k, v] of Object.entries(doc)) {
    if (k in refused) {
      add(k, 'is not supported yet', refused[k]);
      continue;
    }
    const unsupported = refusedIf[k]?.refuse(v);
    if (unsupported) {
      add(k, `asks for ${unsupported}, which is not supported yet`, refusedIf[k].fix);
      continue;
    }
    if (k in why) {
      warnings.push(`${path}: '${k}' ${why[k]}`);
      continue;
    }
    if (!known.includes(k)) {
      const best = closest(k, [...known, ...Object.keys(why)]);
      add(
        k,
        'is not a known key',
        best ? `Did you mean '${best}'?` : `Known keys: ${known.join(', ')}.`,
        'typo',
      );
      continue;
    }
    // DM writes cert-allowed-cn as a list: kept as the names joined by commas (as the flag takes them)
    if (k === 'cert-allowed-cn' && Array.isArray(v) && v.every((x) => typeof x === 'string')) {
      out[k] = v.join(',');
      continue;
    }
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      add(k, 'must be a string, number or boolean', `Write ${k} = "value".`);
      continue;
    }
    out[k] = v;
  }
  const e = problemsError(path, problems);
  if (e) throw e;
  return out;
}

/** Flag values over file values over defaults; flags commander did not see are undefined. */
export function merge<T extends Settings>(defaults: T, file: Settings, flags: Record<string, unknown>): T {
  const out: Settings = { ...defaults };
  for (const k of Object.keys(defaults)) {
    if (file[k] !== undefined) out[k] = file[k];
    const camel = k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const f = flags[camel];
    if (f !== undefined) out[k] = f as string | number | boolean;
  }
  return out as T;
}

/** `:8261` → `127.0.0.1:8261`-style address others can dial; 0.0.0.0 is not dialable. */
export function dialable(addr: string): string {
  const i = addr.lastIndexOf(':');
  const host = addr.slice(0, i);
  return `${!host || host === '0.0.0.0' ? '127.0.0.1' : host}${addr.slice(i)}`;
}

/** One line for a fatal startup error, and exit code 1. */
export function fatal(e: unknown): never {
  process.stderr.write(`error: ${e instanceof Error ? e.toString().replace(/^Error: /, '') : String(e)}\n`);
  process.exit(1);
}

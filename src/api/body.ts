// Request bodies checked against what each route takes: a JSON object whose fields have the
// stated types, required ones present, and no field the route does not know (never ignored).
// Pure: the error says which field is wrong and what it must be; the server answers it with 400.

export type FieldType =
  | 'string'
  | 'number'
  | 'boolean'
  | 'string[]'
  | 'files'
  | 'object'
  | 'object[]'
  | 'record<number>'
  | 'record<string[]>';

/** A field's type; `?` at the end: optional. */
export type BodySpec = Record<string, `${FieldType}` | `${FieldType}?`>;

export class BadRequest extends Error {}

function typeOf(v: unknown): string {
  return v === null
    ? 'null'
    : Array.isArray(v)
      ? 'an array'
      : typeof v === 'object'
        ? 'an object'
        : `a ${typeof v}`;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function fits(t: FieldType, v: unknown): boolean {
  switch (t) {
    case 'string':
      return typeof v === 'string';
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'string[]':
      return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'files':
      return (
        Array.isArray(v) &&
        v.length > 0 &&
        v.every(
          (f) =>
            isRecord(f) &&
            typeof f.file === 'string' &&
            typeof f.yaml === 'string' &&
            Object.keys(f).length === 2,
        )
      );
    case 'object':
      return isRecord(v);
    case 'object[]':
      return Array.isArray(v) && v.every(isRecord);
    case 'record<number>':
      return isRecord(v) && Object.values(v).every((x) => typeof x === 'number' && Number.isFinite(x));
    case 'record<string[]>':
      return (
        isRecord(v) &&
        Object.values(v).every((x) => Array.isArray(x) && x.every((s) => typeof s === 'string'))
      );
  }
}

const WANT: Record<FieldType, string> = {
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  'string[]': 'an array of strings',
  files: 'a non-empty array of {file, yaml} objects with string values',
  object: 'an object',
  'object[]': 'an array of objects',
  'record<number>': 'an object of numbers',
  'record<string[]>': 'an object of string arrays',
};

/** `body` as the route's fields, or a BadRequest naming the first wrong one. */
export function checkBody<T>(body: unknown, spec: BodySpec, route: string): T {
  const b = body ?? {};
  if (!isRecord(b)) throw new BadRequest(`${route}: the body must be a JSON object, not ${typeOf(b)}`);
  for (const key of Object.keys(b)) {
    if (!(key in spec)) {
      const known = Object.keys(spec);
      throw new BadRequest(
        `${route}: unknown body field '${key}'${known.length ? ` (this route takes ${known.map((k) => `'${k}'`).join(', ')})` : ' (this route takes none)'}`,
      );
    }
  }
  for (const [key, decl] of Object.entries(spec)) {
    const optional = decl.endsWith('?');
    const t = (optional ? decl.slice(0, -1) : decl) as FieldType;
    const v = b[key];
    if (v === undefined) {
      if (!optional) throw new BadRequest(`${route}: body field '${key}' is required (${WANT[t]})`);
      continue;
    }
    if (!fits(t, v))
      throw new BadRequest(`${route}: body field '${key}' must be ${WANT[t]}, not ${typeOf(v)}`);
  }
  return b as T;
}

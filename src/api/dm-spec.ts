// DM's OpenAPI v1 specification (docs/dm-openapi.yaml, DM's own file) and its schemas as
// validators: a request body is checked against its schema with every object closed (a field the
// schema does not name is refused, never ignored), an answer against DM's response schema.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

const SPEC_URL = new URL('../../docs/dm-openapi.yaml', import.meta.url);

/* eslint-disable @typescript-eslint/no-explicit-any -- the spec is JSON of any shape */
let spec: any;

/** The spec as JSON (GET /api/v1/dm.json). */
export function dmSpec(): any {
  spec ??= parse(readFileSync(SPEC_URL, 'utf8'));
  return spec;
}

/** The schemas as JSON Schema: OpenAPI's `nullable` without a `type` dropped (Ajv refuses it);
 * with `close`, every object schema closed (`additionalProperties: false` where the spec leaves
 * it open). */
function jsonSchema(s: any, close: boolean): any {
  if (Array.isArray(s)) return s.map((x) => jsonSchema(x, close));
  if (!s || typeof s !== 'object') return s;
  const out: any = {};
  for (const [k, v] of Object.entries(s)) out[k] = k === 'example' ? v : jsonSchema(v, close);
  if (out.nullable !== undefined && out.type === undefined) delete out.nullable;
  if (close && out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

function compiler(strictObjects: boolean): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: false });
  const components = dmSpec().components;
  ajv.addSchema({ $id: 'dm', components: jsonSchema(components, strictObjects) });
  return ajv;
}

let requests: Ajv | undefined;
let responses: Ajv | undefined;
const cache = new Map<string, ValidateFunction>();

function validator(kind: 'request' | 'response', schema: string): ValidateFunction {
  const key = `${kind}:${schema}`;
  let v = cache.get(key);
  if (!v) {
    const ajv = kind === 'request' ? (requests ??= compiler(true)) : (responses ??= compiler(false));
    v = ajv.getSchema(`dm#/components/schemas/${schema}`);
    if (!v) throw new Error(`DM's spec has no schema ${schema}`);
    cache.set(key, v);
  }
  return v;
}

/** One validation error as a sentence naming the field. */
function describe(e: ErrorObject, root: string): string {
  const at = `${root}${e.instancePath.replace(/\//g, '.')}`;
  if (e.keyword === 'additionalProperties')
    return `unknown field '${at}.${(e.params as { additionalProperty: string }).additionalProperty}' (not in DM's schema)`;
  if (e.keyword === 'required')
    return `field '${at}.${(e.params as { missingProperty: string }).missingProperty}' is required`;
  if (e.keyword === 'enum')
    return `field '${at}' must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  return `field '${at}' ${e.message}`;
}

/** What is wrong with a request body for DM's schema `schema` (undefined when nothing is). */
export function requestProblem(body: unknown, schema: string, root = 'body'): string | undefined {
  const v = validator('request', schema);
  return v(body ?? {}) ? undefined : describe(v.errors![0], root);
}

/** What is wrong with an answer for DM's schema `schema` (tests). */
export function responseProblems(body: unknown, schema: string): string[] {
  const v = validator('response', schema);
  return v(body) ? [] : (v.errors ?? []).map((e) => describe(e, 'answer'));
}

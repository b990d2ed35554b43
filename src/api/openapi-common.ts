// What DM's OpenAPI routes share: bodies checked against DM's schemas, query parameters, answers
// in DM's shapes, and the master's sources and tasks looked up (404 when missing).
import { DMError, ERR } from '../errors.js';
import type { Master } from '../master/master.js';
import { openConnection, upstreamRole } from '../mysql/connect.js';
import { parseTaskConfig, type DBConfig, type SourceConfig, type TaskConfig } from '../task/config.js';
import { BadRequest } from './body.js';
import { requestProblem } from './dm-spec.js';
import { NotFound, type Request } from './http.js';
import { ConvertError } from './openapi-convert.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- bodies are checked against DM's schema */
export type Json = Record<string, any>;

/** The body, checked against DM's schema `schema`. */
export function body(r: Request, schema: string): Json {
  const problem = requestProblem(r.body, schema);
  if (problem) throw new BadRequest(problem);
  return (r.body ?? {}) as Json;
}

/** DM's boolean query parameters ('true' / 'false'). */
export function flag(r: Request, name: string): boolean {
  const v = r.query.get(name);
  if (v === null || v === 'false') return false;
  if (v === 'true') return true;
  throw new BadRequest(`query parameter '${name}' must be true or false, not '${v}'`);
}

/** A query parameter DM's spec has, or one it names that this route does not take: refused. */
export function onlyQuery(r: Request, names: string[]): void {
  for (const k of r.query.keys())
    if (!names.includes(k))
      throw new BadRequest(
        `unknown query parameter '${k}'${names.length ? ` (this route takes ${names.join(', ')})` : ''}`,
      );
}

export const converted = <T>(f: () => T): T => {
  try {
    return f();
  } catch (e) {
    if (e instanceof ConvertError) throw new BadRequest(e.message);
    throw e;
  }
};

export const list = <T>(data: T[]) => ({ total: data.length, data });

/** An operation's answer: a failed OperateResult is the request's error. */
export function ok(r: {
  result: boolean;
  msg: string;
  sources?: { result: boolean; msg: string; source: string }[];
}): void {
  if (!r.result) throw new DMError(ERR.badRequest, r.msg || 'the operation failed');
  const failed = (r.sources ?? []).filter((s) => !s.result);
  if (failed.length) throw new DMError(ERR.badRequest, failed.map((s) => `${s.source}: ${s.msg}`).join('; '));
}

/** A source's config, or a 404. */
export function sourceOf(m: () => Master, name: string): SourceConfig {
  const cfg = m().sourceConfig(name);
  if (!cfg) throw new NotFound(`source '${name}' does not exist`);
  return cfg;
}

/** A task's config, or a 404. */
export function taskOf(m: () => Master, name: string): TaskConfig {
  const f = m().taskFile(name);
  if (!f) throw new NotFound(`task '${name}' does not exist`);
  return parseTaskConfig(f.yaml, f.file);
}

/** One query on a source's upstream, on a connection of its own. */
export async function upstreamRows(from: DBConfig, sql: string): Promise<Record<string, string | null>[]> {
  const c = await openConnection(from, upstreamRole());
  try {
    return await c.query(sql);
  } finally {
    c.close();
  }
}

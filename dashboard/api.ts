// The master's API as the dashboard calls it (same origin; a follower forwards to the leader).

/* eslint-disable @typescript-eslint/no-explicit-any -- the master's JSON answers */
type Json = Record<string, any>;

const BASE = '/apis/v1alpha1';

export async function get(path: string): Promise<Json> {
  const r = await fetch(BASE + path);
  return (await r.json()) as Json;
}

/** A POST; resolves to the answer, whose `result` says whether it worked and `msg` why not. */
export async function post(path: string, body: unknown): Promise<Json> {
  const r = await fetch(BASE + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await r.json()) as Json;
}

/** Everything the page shows, read in one round. */
export async function readAll(): Promise<{
  more: Json;
  list: Json;
  members: Json;
  locks: Json;
  sources: Json;
}> {
  const [more, list, members, locks, sources] = await Promise.all([
    get('/status?more=true'),
    get('/status'),
    get('/members'),
    get('/shard-ddl-locks'),
    get('/sources'),
  ]);
  return { more, list, members, locks, sources };
}

/** The message of a failed answer: its per-source messages when it has them. */
export function failure(a: Json): string | undefined {
  if (a.result === false) return String(a.msg || 'failed');
  const bad = (a.sources ?? []).filter((s: Json) => s.result === false);
  return bad.length ? bad.map((s: Json) => `${s.source}: ${s.msg}`).join('; ') : undefined;
}

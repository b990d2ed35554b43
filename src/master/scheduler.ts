// Which worker runs which source (pure). A worker runs at most one source. A source stays with
// its worker while the worker is online or has been offline for less than the rebind delay (a
// worker that lost the master stops its subtasks by itself within its keepalive TTL, so waiting
// longer than that before moving the source means two workers never run it at once). Past that
// delay the source moves to a free online worker if there is one; if not, it waits for its own
// worker to come back.

export interface Member {
  name: string;
  online: boolean;
  /** How long the worker has been offline (0 when online). */
  offlineMs: number;
}

/** Source id → worker name, after one scheduling pass. */
export function schedule(
  sources: string[],
  workers: Member[],
  bounds: Readonly<Record<string, string>>,
  rebindAfterMs: number,
): Record<string, string> {
  const byName = new Map(workers.map((w) => [w.name, w]));
  const next: Record<string, string> = {};
  const homeless: string[] = [];
  for (const s of [...sources].sort()) {
    const w = byName.get(bounds[s] ?? '');
    if (w && (w.online || w.offlineMs < rebindAfterMs)) next[s] = w.name;
    else homeless.push(s);
  }
  const taken = new Set(Object.values(next));
  const free = workers
    .filter((w) => w.online && !taken.has(w.name))
    .map((w) => w.name)
    .sort();
  for (const s of homeless) {
    const w = free.shift();
    if (w) next[s] = w;
    else if (byName.has(bounds[s] ?? '')) next[s] = bounds[s];
  }
  return next;
}

/** Why `source` cannot move to `worker` now (undefined: it can). */
export function transferRefusal(
  source: string,
  worker: string,
  workers: Member[],
  bounds: Readonly<Record<string, string>>,
): string | undefined {
  const w = workers.find((m) => m.name === worker);
  if (!w) return `dm-worker '${worker}' does not exist; list-member --worker lists the workers`;
  if (!w.online) return `dm-worker '${worker}' is offline; start it, or pick an online free worker`;
  const holds = Object.keys(bounds).find((s) => bounds[s] === worker && s !== source);
  if (holds)
    return `dm-worker '${worker}' is bound to source '${holds}'; a worker runs one source, so pick a free worker (list-member --worker)`;
  return undefined;
}

// What the dashboard shows, computed from the master's answers (query-status --more, list-member,
// the task list, shard DDL locks): sources with their worker and relay, tasks with each
// subtask's stage, unit, progress, lag and errors, and the lag history the chart draws. Pure: no
// DOM, so the unit tests run it under Node.

/* eslint-disable @typescript-eslint/no-explicit-any -- the master's JSON answers */
type Json = Record<string, any>;

export interface SourceView {
  id: string;
  worker: string;
  /** bound | free | offline, or 'none' when no worker serves the source. */
  workerStage: string;
  relay: string;
  relayBehind: boolean;
  error: string;
}

export interface ErrorView {
  msg: string;
  workaround: string;
  code: number | undefined;
}

export interface SubtaskView {
  task: string;
  source: string;
  worker: string;
  stage: string;
  unit: string;
  /** 0..100, for the unit's bar (Dump: tables, Load: bytes), or undefined. */
  progress: number | undefined;
  progressText: string;
  lag: number | undefined;
  synced: boolean | undefined;
  errors: ErrorView[];
  /** The DDL lock the subtask waits on. */
  lock: string;
  /** Whether a failing binlog event can be skipped or replaced (Sync paused by an error). */
  canHandleError: boolean;
}

export interface TaskView {
  name: string;
  status: string;
  subtasks: SubtaskView[];
}

export interface LockView {
  id: string;
  task: string;
  owner: string;
  ddls: string[];
  unsynced: string[];
}

export interface Snapshot {
  sources: SourceView[];
  tasks: TaskView[];
  locks: LockView[];
  masters: { name: string; addr: string; alive: boolean; leader: boolean }[];
  workers: { name: string; addr: string; stage: string; source: string }[];
}

const pct = (s: unknown): number | undefined => {
  const m = /^([\d.]+)\s*%$/.exec(String(s ?? ''));
  return m ? Math.min(100, Number(m[1])) : undefined;
};

function errorsOf(result: Json | null | undefined): ErrorView[] {
  return (result?.errors ?? []).map((e: Json) => ({
    msg: String(e.Message || e.msg || ''),
    workaround: String(e.Workaround ?? ''),
    code: typeof e.ErrCode === 'number' ? e.ErrCode : undefined,
  }));
}

function subtask(st: Json, w: Json): SubtaskView {
  const unit = String(st.unit ?? '');
  let progress: number | undefined;
  let progressText = '';
  if (unit === 'Dump' && st.dump) {
    progress = pct(st.dump.progress);
    progressText = `${st.dump.completedTables ?? 0}/${st.dump.totalTables ?? 0} tables, ${st.dump.finishedRows ?? 0} rows`;
  } else if (unit === 'Load' && st.load) {
    progress = pct(st.load.progress);
    progressText = `${st.load.finishedBytes ?? 0} of ${st.load.totalBytes ?? 0} bytes`;
  } else if (unit === 'Sync' && st.sync) {
    progressText = `${st.sync.syncerBinlog ?? ''} of ${st.sync.masterBinlog ?? ''}`;
  }
  const lag = st.sync?.secondsBehindMaster;
  const errors = errorsOf(st.result);
  return {
    task: String(st.name),
    source: String(w.source ?? ''),
    worker: String(w.worker ?? ''),
    stage: String(st.stage ?? ''),
    unit,
    progress,
    progressText,
    lag: lag === undefined || lag === '' ? undefined : Number(lag),
    synced: st.sync ? st.sync.synced === true : undefined,
    errors,
    lock: String(st.unresolvedDDLLockID ?? ''),
    canHandleError: st.stage === 'Paused' && unit === 'Sync' && errors.length > 0,
  };
}

/** The page's state from the master's answers. */
export function snapshot(a: { more: Json; list: Json; members: Json; locks: Json; sources: Json }): Snapshot {
  const members: Json[] = a.members?.members ?? [];
  const leader = members.find((m) => m.leader)?.leader?.name;
  const masters = (members.find((m) => m.master)?.master?.masters ?? []).map((m: Json) => ({
    name: String(m.name),
    addr: String(m.addr),
    alive: m.alive !== false,
    leader: m.name === leader,
  }));
  const workers = (members.find((m) => m.worker)?.worker?.workers ?? []).map((w: Json) => ({
    name: String(w.name),
    addr: String(w.addr),
    stage: String(w.stage),
    source: String(w.source ?? ''),
  }));
  const statusBySource = new Map<string, Json>(
    (a.more?.workers ?? []).map((w: Json) => [String(w.source), w]),
  );
  const sources: SourceView[] = (a.sources?.sources ?? []).map((s: Json) => {
    const w = workers.find((x: { source: string }) => x.source === s.source);
    const st = statusBySource.get(String(s.source));
    const relay = st?.relayStatus;
    return {
      id: String(s.source),
      worker: w ? `${w.name} (${w.addr})` : '',
      workerStage: w ? w.stage : 'none',
      relay: relay ? `${relay.stage}: ${relay.relayBinlog} of ${relay.masterBinlog}` : 'off',
      relayBehind: !!relay && relay.relayCatchUpMaster === false,
      error: String(s.msg || (st && !st.result ? st.msg : '') || ''),
    };
  });
  const subtasks = (a.more?.workers ?? []).flatMap((w: Json) =>
    (w.subTaskStatus ?? []).map((st: Json) => subtask(st, w)),
  );
  const tasks: TaskView[] = (a.list?.tasks ?? []).map((t: Json) => ({
    name: String(t.taskName),
    status: String(t.taskStatus),
    subtasks: subtasks.filter((s: SubtaskView) => s.task === t.taskName),
  }));
  const locks = (a.locks?.locks ?? []).map((l: Json) => ({
    id: String(l.ID),
    task: String(l.task),
    owner: String(l.owner ?? ''),
    ddls: (l.DDLs ?? []).map(String),
    unsynced: (l.unsynced ?? []).map(String),
  }));
  return { sources, tasks, locks, masters, workers };
}

/** Lag samples per subtask over the last `windowS` seconds: [time, lag] pairs. */
export class LagHistory {
  private readonly series = new Map<string, [number, number][]>();

  constructor(private readonly windowS = 600) {}

  add(at: number, s: Snapshot): void {
    for (const t of s.tasks)
      for (const st of t.subtasks) {
        if (st.lag === undefined) continue;
        const key = `${st.task} / ${st.source}`;
        const points = this.series.get(key) ?? [];
        points.push([at, st.lag]);
        while (points.length && points[0][0] < at - this.windowS) points.shift();
        this.series.set(key, points);
      }
  }

  /** uPlot's data: shared times, one column per series (null where a series has no sample). */
  data(): { names: string[]; columns: (number | null)[][] } {
    const names = [...this.series.keys()].sort();
    const times = [...new Set(names.flatMap((n) => this.series.get(n)!.map((p) => p[0])))].sort(
      (x, y) => x - y,
    );
    const columns: (number | null)[][] = [times];
    for (const n of names) {
      const by = new Map(this.series.get(n)!);
      columns.push(times.map((t) => by.get(t) ?? null));
    }
    return { names, columns };
  }
}

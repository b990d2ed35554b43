// The Prometheus registries of a process (prom-client): the status-derived metrics are set at
// each scrape from what `samples()` computes (metrics/samples.ts), the event counters where the
// events happen (a unit or the relay exiting with an error, a master starting to lead), and
// Node's process metrics. `GET /metrics` on dm-master and dm-worker serves them.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { STATUS_METRICS, type Sample } from './samples.js';

const events = new Registry();
collectDefaultMetrics({ register: events });

const exitCounter = (name: string, labels: string[]) =>
  new Counter({
    name,
    help: `number of exit with error`,
    labelNames: labels,
    registers: [events],
  });

const UNIT_EXIT = {
  Dump: exitCounter('dm_dumpling_exit_with_error_count', ['task', 'source_id', 'resumable_err']),
  Load: exitCounter('dm_loader_exit_with_error_count', ['task', 'source_id', 'resumable_err']),
  Sync: exitCounter('dm_syncer_exit_with_error_count', ['task', 'source_id', 'resumable_err']),
};
const relayExit = exitCounter('dm_relay_exit_with_error_count', ['resumable_err']);
const startLeader = new Counter({
  name: 'dm_master_start_leader_counter',
  help: 'number of this dm-master try to start leader components',
  registers: [events],
});

/** A unit of a subtask stopped on an error (auto-resume retries it when `resumable`). */
export function unitExitedWithError(unit: string, task: string, source: string, resumable: boolean): void {
  UNIT_EXIT[unit as keyof typeof UNIT_EXIT]?.inc({
    task,
    source_id: source,
    resumable_err: String(resumable),
  });
}

export function relayExitedWithError(resumable: boolean): void {
  relayExit.inc({ resumable_err: String(resumable) });
}

export function leaderStarted(): void {
  startLeader.inc();
}

/** The metrics of one process: `samples` gives the status-derived ones at each scrape. */
export class Metrics {
  private readonly status = new Registry();
  private readonly metrics = new Map<string, Gauge | Counter>();

  constructor(private readonly samples: () => Promise<Sample[]>) {
    for (const s of STATUS_METRICS) {
      const o = { name: s.name, help: s.help, labelNames: [...s.labels], registers: [this.status] };
      this.metrics.set(s.name, s.type === 'gauge' ? new Gauge(o) : new Counter(o));
    }
  }

  /** The exposition text of every metric (text/plain; version=0.0.4). */
  async render(): Promise<string> {
    const samples = await this.samples();
    for (const m of this.metrics.values()) m.reset();
    for (const s of samples) {
      const m = this.metrics.get(s.name);
      if (m instanceof Gauge) m.set(s.labels, s.value);
      else m?.inc(s.labels, s.value);
    }
    return Registry.merge([this.status, events]).metrics();
  }
}

export const METRICS_CONTENT_TYPE = events.contentType;

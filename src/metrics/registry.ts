// The Prometheus registries of a process (prom-client): the status-derived metrics are set at
// each scrape from what `samples()` computes (metrics/samples.ts), the event counters where the
// events happen (a unit or the relay exiting with an error, a master starting to lead), and
// Node's process metrics. `GET /metrics` on dm-master and dm-worker serves them.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, exponentialBuckets } from 'prom-client';
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
  // the name DM's dm_worker.rules.yml still uses for the dump unit
  DumpOld: exitCounter('dm_mydumper_exit_with_error_count', ['task', 'source_id', 'resumable_err']),
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
  const labels = { task, source_id: source, resumable_err: String(resumable) };
  UNIT_EXIT[unit as keyof typeof UNIT_EXIT]?.inc(labels);
  if (unit === 'Dump') UNIT_EXIT.DumpOld.inc(labels);
}

const relayReadError = new Counter({
  name: 'dm_relay_read_error_count',
  help: 'number of errors when reading binlog from the upstream',
  registers: [events],
});
const relayWriteError = new Counter({
  name: 'dm_relay_write_error_count',
  help: 'number of errors when writing relay log files',
  registers: [events],
});

/** The relay stopped on an error: `upstream` when reading the binlog failed, else writing. */
export function relayExitedWithError(resumable: boolean, upstream: boolean): void {
  relayExit.inc({ resumable_err: String(resumable) });
  (upstream ? relayReadError : relayWriteError).inc();
}

const shardDDLError = new Counter({
  name: 'dm_master_shard_ddl_error',
  help: 'number of shard DDL lock/operation error',
  labelNames: ['task', 'type'],
  registers: [events],
});

/** A sharding DDL conflict the master's locks refused (DM's dm_master_shard_ddl_error). */
export function shardDDLFailed(task: string, type: string): void {
  shardDDLError.inc({ task, type });
}

/** The names of the event metrics (for the dashboard's and the alerts' tests). */
export function eventMetricNames(): string[] {
  return events.getMetricsAsArray().map((m) => m.name);
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

const txnDuration = new Histogram({
  name: 'dm_syncer_txn_duration_time',
  help: 'Bucketed histogram of processing time (s) of a txn.',
  labelNames: ['task', 'worker', 'source_id'],
  buckets: exponentialBuckets(0.000005, 2, 25),
  registers: [events],
});
const JOB_LABELS = ['type', 'task', 'queueNo', 'source_id', 'worker', 'target_schema', 'target_table'];
/** The meters whose counts are handed to the job counters when the metrics are read. */
const meters = new Set<WeakRef<SyncMeter>>();
function flushMeters(): void {
  for (const r of meters) {
    const m = r.deref();
    if (m) m.flush();
    else meters.delete(r);
  }
}
const addedJobs = new Counter({
  name: 'dm_syncer_added_jobs_total',
  help: 'total number of added jobs',
  labelNames: JOB_LABELS,
  registers: [events],
  collect: flushMeters,
});
const finishedJobs = new Counter({
  name: 'dm_syncer_finished_jobs_total',
  help: 'total number of finished jobs',
  labelNames: JOB_LABELS,
  registers: [events],
  collect: flushMeters,
});
const remainingTime = new Gauge({
  name: 'dm_syncer_remaining_time',
  help: 'the remaining time in second to catch up master',
  labelNames: ['task', 'source_id', 'worker'],
  registers: [events],
});
const queueSize = new Gauge({
  name: 'dm_syncer_queue_size',
  help: 'remain size of the DML queue',
  labelNames: ['task', 'queue_id', 'source_id'],
  registers: [events],
  collect: flushMeters,
});

/** A row change as the meter counts it: its kind and its target table (`db`.`table`). */
export interface MeteredChange {
  op: string;
  t: { quoted: string };
}

/** `db`.`table` as its two names (unquoted). */
function tableNames(quoted: string): [string, string] {
  const m = /^`((?:[^`]|``)*)`\.`((?:[^`]|``)*)`$/.exec(quoted);
  return m ? [m[1].replace(/``/g, '`'), m[2].replace(/``/g, '`')] : ['', quoted];
}

/** One job counter's count for (kind, queue, table) not yet handed to prom-client. */
interface JobCell {
  n: number;
  child?: { inc(v: number): void };
  which: Counter;
  op: string;
  queue: number;
  t: { quoted: string };
}

/** Sync's metrics on its hot path (one per subtask): a change only adds 1 to a plain number of
 * its (kind, queue, table); the counters get the sums when the metrics are read. */
export class SyncMeter {
  private readonly txn: { observe(v: number): void };
  /** Per counter and queue: per target table, per kind, its cell. */
  private readonly cells = new Map<Counter, Map<number, Map<object, Map<string, JobCell>>>>();
  private readonly dirty: JobCell[] = [];
  /** Per applier, its queue length now and its gauge. */
  private readonly queues = new Map<number, { size: number; gauge: { set(v: number): void } }>();

  constructor(
    private readonly task: string,
    private readonly source: string,
    private readonly worker: string,
  ) {
    this.txn = txnDuration.labels(task, worker, source);
    meters.add(new WeakRef(this));
  }

  private count(which: Counter, queue: number, changes: readonly MeteredChange[]): void {
    let byQueue = this.cells.get(which);
    if (!byQueue) this.cells.set(which, (byQueue = new Map()));
    let byTable = byQueue.get(queue);
    if (!byTable) byQueue.set(queue, (byTable = new Map()));
    for (const c of changes) {
      let byOp = byTable.get(c.t);
      if (!byOp) byTable.set(c.t, (byOp = new Map()));
      let cell = byOp.get(c.op);
      if (!cell) byOp.set(c.op, (cell = { n: 0, which, op: c.op, queue, t: c.t }));
      if (cell.n++ === 0) this.dirty.push(cell);
    }
  }

  /** Hands the counts so far to the counters (when the metrics are read). */
  flush(): void {
    for (const cell of this.dirty) {
      if (!cell.child) {
        const [schema, table] = tableNames(cell.t.quoted);
        cell.child = cell.which.labels(
          cell.op,
          this.task,
          String(cell.queue),
          this.source,
          this.worker,
          schema,
          table,
        );
      }
      cell.child.inc(cell.n);
      cell.n = 0;
    }
    this.dirty.length = 0;
    for (const q of this.queues.values()) q.gauge.set(q.size);
  }

  /** Changes queued on applier `queue` (`size`: its queue length now). */
  added(queue: number, changes: readonly MeteredChange[], size: number): void {
    this.count(addedJobs, queue, changes);
    this.queue(queue, size);
  }

  /** A target transaction of applier `queue` committed in `seconds`. */
  committed(queue: number, seconds: number, changes: readonly MeteredChange[], size: number): void {
    this.txn.observe(seconds);
    this.count(finishedJobs, queue, changes);
    this.queue(queue, size);
  }

  /** Seconds to catch up (kept as it was when it cannot be told now, as DM does). */
  remaining(seconds: number | undefined): void {
    if (seconds !== undefined)
      remainingTime.set({ task: this.task, source_id: this.source, worker: this.worker }, seconds);
  }

  private queue(queue: number, size: number): void {
    let q = this.queues.get(queue);
    if (!q)
      this.queues.set(queue, (q = { size, gauge: queueSize.labels(this.task, String(queue), this.source) }));
    q.size = size;
  }
}

const relayWriteSize = new Histogram({
  name: 'dm_relay_write_size',
  help: 'write relay log size',
  buckets: exponentialBuckets(16, 2, 20),
  registers: [events],
});
const relayWriteDuration = new Histogram({
  name: 'dm_relay_write_duration',
  help: 'bucketed histogram of write time (s) of single relay log event',
  buckets: exponentialBuckets(0.000005, 2, 25),
  registers: [events],
});

/** The relay wrote a batch of events (`bytes` of them) in `seconds`. */
export function relayWrote(bytes: number, seconds: number): void {
  if (!bytes) return;
  relayWriteSize.observe(bytes);
  relayWriteDuration.observe(seconds);
}

const dataCorruption = new Counter({
  name: 'dm_relay_data_corruption',
  help: 'counter of relay log data corruption',
  registers: [events],
});

/** A relay file was found damaged where it is read. */
export function relayDataCorrupted(): void {
  dataCorruption.inc();
}

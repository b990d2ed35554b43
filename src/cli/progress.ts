// One line of progress for a subtask on an interactive terminal.
import type { SubTaskStatus } from '../task/status.js';

function mb(n: string | undefined): string {
  return `${(Number(n ?? 0) / 1048576).toFixed(1)} MB`;
}

export function bar(fraction: number, width = 24): string {
  const f = Math.max(0, Math.min(1, fraction));
  const full = Math.round(f * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
}

export function progressLine(s: SubTaskStatus): string {
  const head = `${s.name} ${s.stage} ${s.unit}`;
  if (s.load) {
    const total = Number(s.load.totalBytes);
    const done = Number(s.load.finishedBytes);
    return `${head} ${bar(total ? done / total : 0)} ${s.load.progress} ${mb(s.load.finishedBytes)}/${mb(s.load.totalBytes)}`;
  }
  if (s.dump) {
    const total = Number(s.dump.totalTables);
    const done = Number(s.dump.completedTables);
    return `${head} ${bar(total ? done / total : 0)} ${s.dump.completedTables}/${s.dump.totalTables} tables, ${s.dump.finishedRows} rows, ${mb(s.dump.finishedBytes)}`;
  }
  if (s.sync) {
    const y = s.sync as Record<string, string | boolean>;
    return `${head} at ${y.syncerBinlog} of ${y.masterBinlog}, ${y.synced ? 'synced' : `${y.secondsBehindMaster} s behind`}, ${y.totalEvents} events, ${y.recentTps} events/s`;
  }
  return head;
}

// `query-status` without a task name: each task's status derived from its subtasks by DM's rules
// (dmctl's wrapTaskResult), first match wins:
//   any subtask Paused with errors                      → Error - Some error occurred in subtask
//   any Sync subtask Running while its relay is Paused/Stopped → Error - Relay status is <stage|Error>
//   any subtask Paused (no errors)                      → Paused
//   all New / all Finished / all Stopped                → New / Finished / Stopped
//   otherwise                                           → Running
// Added to DM's rules: a subtask whose worker cannot be asked (offline) is an error too, since
// nothing is known to run it.
import type { RelayStatus, SubTaskStatus, TaskListEntry } from '../task/status.js';

export interface SubTaskReport {
  task: string;
  source: string;
  /** The subtask's status, or why it could not be had (its worker is offline…). */
  status: SubTaskStatus | { unreachable: string };
  relay?: RelayStatus | null;
}

const ERROR = 'Error';

function relayStage(r: RelayStatus): string {
  return r.result?.errors.length ? ERROR : r.stage;
}

function subtaskVerdict(r: SubTaskReport, current: string | undefined): string | undefined {
  if (current?.startsWith(ERROR)) return current;
  if ('unreachable' in r.status) return `${ERROR} - ${r.status.unreachable}`;
  const st = r.status;
  if (st.stage === 'Paused' && st.result?.errors.length) return `${ERROR} - Some error occurred in subtask`;
  if (
    st.unit === 'Sync' &&
    st.stage === 'Running' &&
    r.relay &&
    (r.relay.stage === 'Paused' || r.relay.stage === 'Stopped')
  )
    return `${ERROR} - Relay status is ${relayStage(r.relay)}`;
  if (current === 'Paused') return current;
  if (current === undefined || st.stage === 'Paused') return st.stage;
  if (current !== st.stage) return 'Running';
  return current;
}

/** DM's task list: tasks in first-seen order, each with its sources. */
export function taskList(reports: SubTaskReport[]): TaskListEntry[] {
  const byTask = new Map<string, TaskListEntry>();
  for (const r of reports) {
    let e = byTask.get(r.task);
    if (!e) byTask.set(r.task, (e = { taskName: r.task, taskStatus: '', sources: [] }));
    e.sources.push(r.source);
    e.taskStatus = subtaskVerdict(r, e.taskStatus || undefined) ?? e.taskStatus;
  }
  for (const e of byTask.values()) {
    if (e.taskStatus.startsWith(ERROR))
      e.taskStatus += `. Please run \`query-status ${e.taskName}\` to get more details.`;
  }
  return [...byTask.values()];
}

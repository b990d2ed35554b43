// What the master asks of a worker: the source it runs and, per task on that source, the task
// file and the stage an operator wants. The worker makes its subtasks match (worker.ts).

/** The stage an operator asked a subtask to be in; `seq` grows with every operation on it, so a
 * worker can tell a new `resume-task` from one it already applied. */
export interface DesiredStage {
  stage: 'Running' | 'Paused' | 'Stopped';
  seq: number;
  /** start-task --remove-meta: the subtask drops its checkpoints and dump before this start. */
  removeMeta?: boolean;
  /** start-task --start-time: Sync starts at the first transaction at or after it (once: the
   * master drops it when the worker reports its start point saved). */
  startTime?: string;
}

export interface SubTaskAssignment extends DesiredStage {
  task: string;
  /** The task file's text and the name it was given under (for error messages). */
  yaml: string;
  file: string;
}

export interface Assignment {
  source?: { id: string; yaml: string; file: string };
  /** The stage an operator asked the source's relay to be in (pause-relay / resume-relay);
   * absent: Running. Only for a source with enable-relay. */
  relay?: DesiredStage;
  subtasks: SubTaskAssignment[];
  /** The master's secret-key-path key (hex), for the encrypted passwords; absent: DM's public key. */
  secretKey?: string;
}

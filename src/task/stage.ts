// The subtask state machine, exactly as the seed specifies (query-status.en.md, "Subtask states").
import { DMError, ERR } from '../errors.js';
export type Stage = 'New' | 'Running' | 'Paused' | 'Stopped' | 'Finished';
export type StageEvent = 'run' | 'error' | 'pause' | 'resume' | 'stop' | 'start' | 'finish';

const TRANSITIONS: Record<Stage, Partial<Record<StageEvent, Stage>>> = {
  New: { run: 'Running', error: 'Paused' },
  Running: { error: 'Paused', pause: 'Paused', stop: 'Stopped', finish: 'Finished' },
  Paused: { resume: 'Running', stop: 'Stopped' },
  Stopped: { start: 'Running' },
  Finished: {},
};

/** The stage after `event`, or undefined when the seed does not allow it from `from`. */
export function nextStage(from: Stage, event: StageEvent): Stage | undefined {
  return TRANSITIONS[from][event];
}

/** Like nextStage, but a disallowed transition is an error naming what is allowed. */
export function transition(from: Stage, event: StageEvent): Stage {
  const to = nextStage(from, event);
  if (!to) {
    const allowed = Object.keys(TRANSITIONS[from]);
    throw new DMError(
      ERR.stageTransition,
      `cannot ${event} a subtask in stage ${from}${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ''}`,
    );
  }
  return to;
}

// The dmctl validation commands on one subtask's validator, and what each answers.
import type { Validator, Mode, ValidationStatus, ValidationTableStatus } from './validator.js';
import type { ErrorRow } from './meta.js';

/** A dmctl validation command for one subtask's validator (the worker's route checks the body). */
export type ValidationRequest =
  | { op: 'start'; mode?: Mode; startTime?: string }
  | { op: 'stop' }
  | { op: 'status'; tableStage?: 'running' | 'stopped' }
  | { op: 'show-error'; error?: 'all' | 'ignored' | 'unprocessed' }
  | { op: 'ignore-error' | 'resolve-error' | 'clear-error'; id?: number }
  | { op: 'update'; cutoverBinlogPos?: string; cutoverBinlogGtid?: string };

export const VALIDATION_OPS = [
  'start',
  'stop',
  'status',
  'show-error',
  'ignore-error',
  'resolve-error',
  'clear-error',
  'update',
] as const;

/** What a validation command answers for one subtask. */
export interface ValidationAnswer {
  msg: string;
  status?: ValidationStatus;
  tableStatuses?: ValidationTableStatus[];
  errors?: ErrorRow[];
}

export async function operateValidation(v: Validator, req: ValidationRequest): Promise<ValidationAnswer> {
  switch (req.op) {
    case 'start':
      return { msg: await v.start({ mode: req.mode, startTime: req.startTime }) };
    case 'stop':
      return { msg: await v.stop() };
    case 'status':
      await v.refresh();
      return { msg: '', status: v.status(), tableStatuses: v.tableStatus(req.tableStage) };
    case 'show-error': {
      const state = { all: undefined, ignored: 'IgnoredErr', unprocessed: 'NewErr' } as const;
      return { msg: '', errors: await v.errors(state[req.error ?? 'unprocessed']) };
    }
    case 'update':
      return { msg: v.update(req.cutoverBinlogPos ?? '', req.cutoverBinlogGtid ?? '') };
    default:
      return {
        msg: await v.operateError(req.op.replace('-error', '') as 'ignore' | 'resolve' | 'clear', req.id),
      };
  }
}

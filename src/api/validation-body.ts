// The body of a validation command, as the master's and the worker's routes take it: every field
// checked, every value one the operation knows, so a typo is refused with its name.
import { BadRequest, type BodySpec } from './body.js';
import { VALIDATION_OPS, type ValidationRequest } from '../units/sync/validator/ops.js';

export const VALIDATION_BODY: BodySpec = {
  op: 'string',
  mode: 'string?',
  startTime: 'string?',
  tableStage: 'string?',
  error: 'string?',
  id: 'number?',
  cutoverBinlogPos: 'string?',
  cutoverBinlogGtid: 'string?',
};

const ALLOWED: Record<ValidationRequest['op'], string[]> = {
  start: ['mode', 'startTime'],
  stop: [],
  status: ['tableStage'],
  'show-error': ['error'],
  'ignore-error': ['id'],
  'resolve-error': ['id'],
  'clear-error': ['id'],
  update: ['cutoverBinlogPos', 'cutoverBinlogGtid'],
};

const oneOf = (field: string, v: unknown, values: string[]) => {
  if (v !== undefined && !values.includes(v as string))
    throw new BadRequest(
      `validation: body field '${field}' must be one of ${values.join(', ')}, not '${String(v)}'`,
    );
};

/** The request, or a BadRequest naming the field that does not fit its operation. */
export function validationRequest(b: Record<string, unknown>): ValidationRequest {
  const op = b.op as ValidationRequest['op'];
  oneOf('op', op, [...VALIDATION_OPS]);
  for (const k of Object.keys(b)) {
    if (k !== 'op' && b[k] !== undefined && !ALLOWED[op].includes(k))
      throw new BadRequest(`validation: body field '${k}' does not apply to op '${op}'`);
  }
  oneOf('mode', b.mode, ['full', 'fast']);
  oneOf('tableStage', b.tableStage, ['running', 'stopped']);
  oneOf('error', b.error, ['all', 'ignored', 'unprocessed']);
  if (b.id !== undefined && (!Number.isInteger(b.id) || (b.id as number) < 1))
    throw new BadRequest(`validation: body field 'id' must be a positive integer, not ${String(b.id)}`);
  return b as unknown as ValidationRequest;
}

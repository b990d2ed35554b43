// The shape of `query-status`, field for field as the seed specifies (numbers as strings).
import type { Stage } from './stage.js';

export type UnitName = 'Check' | 'Dump' | 'Load' | 'Sync';

/** One error of a unit, as `query-status` shows it: the seed's `Type` and `msg`, plus DM v2's
 * code, class, scope and workaround. */
export interface ProcessError {
  Type: 'UnknownError' | 'ExecSQL' | 'CheckFailed' | 'ConfigError' | 'UpstreamError' | 'DownstreamError';
  msg: string;
  ErrCode: number;
  ErrClass: string;
  ErrScope: string;
  Workaround: string;
  /** Whether retrying can heal it (auto-resume only retries these). */
  retryable: boolean;
  /** DM v2's: how grave (low, medium, high), the message, and the cause below it (e.g. the server's
   * error text), beside the seed's Type and msg. */
  ErrLevel?: 'low' | 'medium' | 'high';
  Message?: string;
  RawCause?: string;
}

export interface ProcessResult {
  isCanceled: boolean;
  errors: ProcessError[];
  detail: unknown;
}

export interface LoadStatus {
  finishedBytes: string;
  totalBytes: string;
  progress: string;
  metaBinlog: string;
  metaBinlogGTID: string;
  /** DM v2's: bytes imported per second by the current run. */
  bps?: string;
}

export interface SubTaskStatus {
  name: string;
  stage: Stage;
  unit: UnitName;
  result: ProcessResult | null;
  unresolvedDDLLockID: string;
  load?: LoadStatus;
  dump?: Record<string, string>;
  sync?: Record<string, unknown>;
  check?: Record<string, unknown>;
  /** DM v6's continuous validation of the subtask (shown once it was configured or started). */
  validation?: Record<string, unknown>;
}

export interface RelayStatus {
  masterBinlog: string;
  masterBinlogGtid: string;
  relaySubDir: string;
  relayBinlog: string;
  relayBinlogGtid: string;
  relayCatchUpMaster: boolean;
  stage: Stage;
  result: ProcessResult | null;
}

export interface WorkerStatus {
  result: boolean;
  worker: string;
  msg: string;
  /** The source this worker runs (an addition to the seed's shape: DM v2 shows it too). */
  source?: string;
  subTaskStatus: SubTaskStatus[];
  /** null while the source has no relay unit (as DM v2 shows it). */
  relayStatus?: RelayStatus | null;
}

export interface QueryStatus {
  result: boolean;
  msg: string;
  workers: WorkerStatus[];
}

/** One task of `query-status` without a task name (DM v2's list). */
export interface TaskListEntry {
  taskName: string;
  taskStatus: string;
  sources: string[];
}

export interface TaskList {
  result: boolean;
  msg: string;
  tasks: TaskListEntry[];
}

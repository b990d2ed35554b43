// Sync's errors: what the target refused (with the binlog position and the SQL), statement-based
// DML it cannot apply row by row, and the operator's binlog skip/replace mistakes.
import { DMError, ERR } from '../../errors.js';
import { downstreamRole, privilegeError, quoteId, quoteTable } from '../../mysql/connect.js';
import type { SubTaskConfig } from '../../task/config.js';
import { ServerError } from '../../mysql/protocol.js';
import { isRetryableServerError } from '../unit.js';
import type { Txn } from './txn.js';

/** The target refused `sql` of `txn` (or the connection failed): an error naming both. */
export function applyError(e: unknown, txn: Pick<Txn, 'endText' | 'gtid'>, sql: string): unknown {
  if (e instanceof DMError) return e;
  const retryable = isRetryableServerError(e);
  const msg =
    e instanceof ServerError
      ? `Error ${e.errno}: ${e.message.replace(/^Error \d+ \([0-9A-Z]+\): /, '')}`
      : (e as Error).message;
  return new DMError(ERR.execSQL, {
    message: `${msg}\nbinlog ${txn.endText}${txn.gtid ? ` (GTID ${txn.gtid})` : ''}\nSQL: ${sql.length > 500 ? sql.slice(0, 500) + '…' : sql}`,
    workaround: retryable
      ? 'The target is retried automatically; check that it is up and reachable.'
      : undefined,
    retryable,
    cause: e,
  });
}

/** The target refused to create Sync's tables in the meta schema (`table` among them). */
export function metaPrivilegeError(e: unknown, cfg: SubTaskConfig, table: string): unknown {
  return privilegeError(
    e,
    downstreamRole(),
    cfg.targetDatabase.user,
    `create ${table}`,
    `GRANT ALL ON ${quoteId(cfg.metaSchema)}.* TO {user}`,
  );
}

export function statementError(txn: Txn, s: NonNullable<Txn['statements']>[number]): DMError {
  const table = s.table ? quoteTable(s.table.db, s.table.table) : 'more than one table (or one not read)';
  return new DMError(ERR.statementDML, {
    message: `statement-based DML on ${table} in the binlog at ${txn.endText}${txn.gtid ? ` (GTID ${txn.gtid})` : ''}: ${s.query.slice(0, 200)}`,
    workaround:
      "Set binlog_format=ROW on the upstream (SET GLOBAL binlog_format = ROW, and in its configuration; sessions keep their format until they reconnect); apply this statement's change to the target by hand and continue with 'binlog skip', or run other SQL with 'binlog replace'.",
  });
}

export function noFailedEvent(): DMError {
  return new DMError(ERR.noFailedEvent, {
    message: 'there is no failed binlog event to operate on',
    workaround: 'Give the position explicitly, e.g. --binlog-pos "(mysql-bin.000001, 1234)".',
  });
}

export function replaceNeedsSQL(op: 'replace' | 'inject' = 'replace'): DMError {
  return new DMError(ERR.handleErrorArgs, {
    message: `binlog ${op} needs the SQL to run ${op === 'replace' ? 'instead' : 'first'}`,
    workaround: 'Give one or more statements.',
  });
}

/** binlog inject arrived for a transaction already being applied as it was read (it was rolled
 * back): the next run reads it again, with the injection first. */
export function injectWhileStreamed(txn: Txn): DMError {
  return new DMError(ERR.handleErrorArgs, {
    message: `binlog inject at ${txn.endText} arrived while its transaction was being applied as it was read; it was rolled back`,
    workaround:
      'Nothing to do: the subtask resumes by itself and runs the injected SQL before the transaction.',
    retryable: true,
  });
}

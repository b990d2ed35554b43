// What the units' checkpoint tables share: the meta schema they live in, forgetting one source's
// rows (start-task --remove-meta), and telling "no such table or schema yet" (nothing recorded)
// from a real failure.
import { quoteId, quoteString } from '../mysql/connect.js';
import { isServerError, type SqlSession } from '../mysql/protocol.js';
import { NO_SUCH_TABLE } from '../mysql/errno.js';

/** The checkpoint table or its schema does not exist (yet): nothing was recorded. */
export function isMissingMeta(e: unknown): boolean {
  return isServerError(e, NO_SUCH_TABLE);
}

export async function createMetaSchema(c: SqlSession, metaSchema: string): Promise<void> {
  await c.exec(`CREATE DATABASE IF NOT EXISTS ${quoteId(metaSchema)}`);
}

export async function forgetSource(c: SqlSession, table: string, sourceId: string): Promise<void> {
  try {
    await c.exec(`DELETE FROM ${table} WHERE id = ${quoteString(sourceId)}`);
  } catch (e) {
    if (!isMissingMeta(e)) throw e;
  }
}

/** The validator's tables (DM's names): checkpoint, pending rows, error rows, table statuses. */
export const VALIDATOR_META_SUFFIXES = [
  '_validator_checkpoint',
  '_validator_pending_change',
  '_validator_error_change',
  '_validator_table_status',
];

/** The tables a task keeps in its meta schema (its units' checkpoints and records). */
export const TASK_META_SUFFIXES = [
  '_syncer_checkpoint',
  '_loader_checkpoint',
  '_dump_checkpoint',
  '_onlineddl',
  ...VALIDATOR_META_SUFFIXES,
];

/** Drops a task's meta tables (DM's delete without keep_meta). */
export async function dropTaskMeta(c: SqlSession, metaSchema: string, task: string): Promise<void> {
  for (const suffix of TASK_META_SUFFIXES)
    await c.exec(`DROP TABLE IF EXISTS ${quoteId(metaSchema)}.${quoteId(task + suffix)}`);
}

// Applies one upstream DDL to the target: routed, in the schema it ran in, after the caches of the
// tables it changes are dropped. A DDL replayed right after a restart that the target already has
// is passed over.
import type { Logger } from '../../log.js';
import { quoteId } from '../../mysql/connect.js';
import { isServerError, type SqlSession } from '../../mysql/protocol.js';
import { ALREADY_APPLIED_DDL, ER } from '../../mysql/errno.js';
import { routeStatement, type Router } from '../../rules/route.js';
import type { SchemaTracker } from '../../schema/tracker.js';
import type { DmlCompiler } from './compile.js';
import { applyError } from './errors.js';
import type { Txn } from './txn.js';

export interface DdlContext {
  target: SqlSession;
  tracker: SchemaTracker;
  compiler: DmlCompiler;
  router: Router;
  log: Logger;
}

/** Drops what is cached of the target tables a DDL changes. */
export function forgetTables(
  c: Omit<DdlContext, 'target' | 'log'>,
  info: NonNullable<Txn['ddl']>['info'],
): void {
  for (const t of info.tables) {
    const r = c.router.route(t.db, t.table);
    c.tracker.invalidate(r.db, r.table);
  }
  for (const d of info.dbs) c.tracker.invalidate(c.router.route(d, '').db);
  c.compiler.forget(info);
}

/** `replay`: the DDL is the first transaction after a restart (it may be applied already). */
export async function applyDDL(c: DdlContext, txn: Txn, replay: boolean): Promise<void> {
  const { schema: upSchema, query: upQuery, info } = txn.ddl!;
  forgetTables(c, info);
  const query = c.router.active ? routeStatement(upQuery, upSchema, c.router) : upQuery;
  const schema = upSchema && c.router.route(upSchema, '').db;
  try {
    if (schema) await c.target.exec(`USE ${quoteId(schema)}`);
    await c.target.exec(query);
    c.log.info({ ddl: query, at: txn.endText }, 'sync: DDL applied');
  } catch (e) {
    if (replay && isServerError(e, ALREADY_APPLIED_DDL)) {
      c.log.warn({ ddl: query, err: e.message }, 'sync: DDL at the restart point was already applied');
      return;
    }
    if (isServerError(e, ER.BAD_DB) && schema) {
      // The default schema is not replicated (filtered): run the DDL without it.
      await c.target.exec(query);
      return;
    }
    throw applyError(e, txn, query);
  }
}

// DM's `binlog-schema list | update | delete` on the schema Sync uses for an upstream table.
// Sync keeps no copy of its own: it reads each table's columns and keys from the (routed) target
// table, whose DDLs it applies in binlog order, and caches them. `list` shows that table;
// `update --from-target` and `delete` drop the cache so the target is read again (after an
// operator fixed the target table by hand). A schema given in a file, or read from the source,
// would make Sync's view differ from the table it writes to: refused with what to do instead.
import { DMError, ERR } from '../../errors.js';
import { quoteTable } from '../../mysql/connect.js';
import type { SqlSession } from '../../mysql/protocol.js';
import type { SyncContext } from './context.js';

export type SchemaOp = 'list' | 'update' | 'delete';
export const SCHEMA_OPS: readonly SchemaOp[] = ['list', 'update', 'delete'];

export interface SchemaRequest {
  op: SchemaOp;
  database: string;
  table: string;
  fromSource?: boolean;
  fromTarget?: boolean;
  /** update: a CREATE TABLE statement (DM's schema-file). */
  schema?: string;
}

export async function operateSchema(
  c: Pick<SyncContext, 'router' | 'compiler' | 'tracker'>,
  req: SchemaRequest,
  withTarget: <T>(f: (s: SqlSession) => Promise<T>) => Promise<T>,
): Promise<string> {
  const { database: db, table } = req;
  const to = c.router.route(db, table);
  const name = quoteTable(to.db, to.table);
  if (req.op === 'update' && !req.fromTarget) {
    throw new DMError(ERR.handleErrorArgs, {
      message: `binlog-schema update ${req.fromSource ? '--from-source' : 'with a schema file'}: Sync reads the schema of ${quoteTable(db, table)} from its target table ${name}, so a schema of its own would not match the table it writes`,
      workaround: `Change ${name} on the target to what the binlog's rows need (ALTER TABLE …), then run 'binlog-schema update <task> ${db} ${table} --from-target' and resume the task.`,
    });
  }
  const show = async () => {
    const rows = await withTarget((s) => s.query(`SHOW CREATE TABLE ${name}`)).catch((e: unknown) => {
      throw new DMError(ERR.targetTableMissing, {
        message: `the target table ${name} of ${quoteTable(db, table)} cannot be read: ${(e as Error).message}`,
        workaround: 'Create the table on the target, or check the route rules.',
      });
    });
    return String(rows[0]?.['Create Table'] ?? '');
  };
  if (req.op === 'list') return show();
  c.compiler.forget({ tables: [{ db, table }], dbs: [] });
  c.tracker?.invalidate(to.db, to.table);
  return `Sync reads the schema of ${quoteTable(db, table)} from ${name} again:\n${await show()}`;
}

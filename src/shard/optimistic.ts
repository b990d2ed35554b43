// Sharding DDL, optimistic mode (pure): shards' DDLs are not waited for. A DDL that only adds
// (a column, an index) goes to the target at once, when the first shard has it; the same
// addition from the other shards runs again and finds it there (the executor treats "already
// exists" as done, which also makes a replay after a crash safe). A DDL that removes (a column,
// an index) goes to the target when the last shard of the group has it, since until then other
// shards still write the column. The same name added with a different definition is a
// conflict; other DDLs are not supported in this mode.
import { DMError, ERR } from '../errors.js';
import { blankComments, stripLeadingComments } from '../schema/ddl.js';

export interface AlterSpec {
  op: 'add' | 'drop';
  what: 'column' | 'index';
  name: string;
  /** The normalized clause, to compare two shards' additions. */
  clause: string;
}

const IDENT = '(`(?:[^`]|``)+`|[\\w$]+)';

function unquote(s: string): string {
  return s.startsWith('`') ? s.slice(1, -1).replace(/``/g, '`') : s;
}

/** Splits a statement at commas outside parentheses and quotes. */
function topLevelParts(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = '';
  let cur = '';
  for (const ch of s) {
    if (quote) {
      if (ch === quote) quote = '';
    } else if (ch === "'" || ch === '"' || ch === '`') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** The clauses of an `ALTER TABLE <name> …` (routed, so the name is qualified), or undefined
 * when one of them is neither an addition nor a removal of a column or an index. */
export function alterSpecs(statement: string): AlterSpec[] | undefined {
  // comments (gh-ost writes `alter /* gh-ost */ table`) are blanked, not part of a clause
  const sql = blankComments(stripLeadingComments(statement));
  const m = new RegExp(
    `^ALTER\\s+(?:ONLINE\\s+)?(?:IGNORE\\s+)?TABLE\\s+${IDENT}(?:\\s*\\.\\s*${IDENT})?\\s+`,
    'i',
  ).exec(sql.trim());
  if (!m) return undefined;
  const specs: AlterSpec[] = [];
  for (const part of topLevelParts(sql.trim().slice(m[0].length).replace(/;\s*$/, ''))) {
    const clause = part.replace(/\s+/g, ' ').toLowerCase();
    let x: RegExpExecArray | null;
    if (
      (x = new RegExp(
        `^ADD\\s+(?:UNIQUE\\s+|FULLTEXT\\s+|SPATIAL\\s+)?(?:INDEX|KEY)\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?${IDENT}`,
        'i',
      ).exec(part))
    )
      specs.push({ op: 'add', what: 'index', name: unquote(x[1]).toLowerCase(), clause });
    else if (
      (x = new RegExp(`^ADD\\s+(?:COLUMN\\s+)?(?:IF\\s+NOT\\s+EXISTS\\s+)?${IDENT}\\s`, 'i').exec(part))
    )
      specs.push({ op: 'add', what: 'column', name: unquote(x[1]).toLowerCase(), clause });
    else if ((x = new RegExp(`^DROP\\s+(?:INDEX|KEY)\\s+(?:IF\\s+EXISTS\\s+)?${IDENT}`, 'i').exec(part)))
      specs.push({ op: 'drop', what: 'index', name: unquote(x[1]).toLowerCase(), clause });
    else if ((x = new RegExp(`^DROP\\s+(?:COLUMN\\s+)?(?:IF\\s+EXISTS\\s+)?${IDENT}\\s*$`, 'i').exec(part)))
      specs.push({ op: 'drop', what: 'column', name: unquote(x[1]).toLowerCase(), clause });
    else return undefined;
  }
  return specs.length ? specs : undefined;
}

export interface OptimisticState {
  /** target → "column:c" / "index:i" → the clause that added it */
  added: Record<string, Record<string, string>>;
  /** target → "column:c" → upstream tables ("source:table") that dropped it */
  dropped: Record<string, Record<string, string[]>>;
}

/** What to do with one shard's DDL: `exec` it on the target (idempotently), or `skip` it (other
 * shards still need what it removes). Throws on a conflict or an unsupported DDL. */
export function optimisticVerdict(
  state: OptimisticState,
  target: string,
  shard: string,
  groupTables: string[],
  sql: string,
): 'exec' | 'skip' {
  const specs = alterSpecs(sql);
  if (!specs || !specs.every((s) => s.op === specs[0].op)) {
    throw new DMError(
      ERR.optimisticShardDDL,
      `sharding DDL not supported with shard-mode optimistic on ${target}: ${sql} (only ADD or DROP of columns and indexes, one kind per statement)`,
    );
  }
  const added = (state.added[target] ??= {});
  if (specs[0].op === 'add') {
    for (const s of specs) {
      const key = `${s.what}:${s.name}`;
      const had = added[key];
      if (had !== undefined && had !== s.clause) {
        throw new DMError(
          ERR.shardDDLConflict,
          `sharding DDL conflict on ${target}: ${shard} has "${s.clause}" but another shard added "${had}"`,
        );
      }
    }
    for (const s of specs) {
      added[`${s.what}:${s.name}`] = s.clause;
      delete state.dropped[target]?.[`${s.what}:${s.name}`];
    }
    return 'exec';
  }
  const dropped = (state.dropped[target] ??= {});
  let all = true;
  for (const s of specs) {
    const key = `${s.what}:${s.name}`;
    const by = (dropped[key] ??= []);
    if (!by.includes(shard)) by.push(shard);
    if (!groupTables.every((t) => by.includes(t))) all = false;
  }
  if (!all) return 'skip';
  for (const s of specs) {
    delete dropped[`${s.what}:${s.name}`];
    delete added[`${s.what}:${s.name}`];
  }
  return 'exec';
}

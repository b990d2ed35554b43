// The session variables a user gives (DM's `session` of a source's `from` or a task's
// `target-database`) against the ones this project sets itself: every connection gets the user's,
// but the variables that decide how values are read and written are ours (binary or utf8mb4 text,
// TIMESTAMPs in UTC, strict sql_mode, no foreign key checks while shards and appliers write out of
// the upstream's order). A user's value for one of those would be overridden without a word, or
// would change the data: it is refused with the reason, except sql_mode, which is merged with ours.
// Pure.

/** The target session's sql_mode for the loader and the applier: strict, so a value the target
 * would change (an out-of-range number, a truncated string, an invalid character) is an error
 * instead of a silent 0 or '?'; zero values and the upstream's invalid dates pass unchanged. */
export const TARGET_SQL_MODE = 'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,ALLOW_INVALID_DATES';

/** sql_mode flags that would change the data this project reads or writes as SQL text. */
const SQL_MODE_REFUSED: Record<string, string> = {
  NO_BACKSLASH_ESCAPES:
    'the SQL this project writes escapes with backslashes, which this mode would store literally',
  PAD_CHAR_TO_FULL_LENGTH:
    'CHAR values would be read with their trailing spaces, which the table does not hold',
};

/** Variables this project sets itself, with why a user's value is refused. */
const OURS: Record<string, string> = {
  time_zone:
    'TIMESTAMP values are read and written in UTC on both sides, so they arrive as the same instants; a session time_zone would be overridden (mydumpers.skip-tz-utc is the switch DM has)',
  foreign_key_checks:
    'foreign key checks are off while loading and replicating (tables load in parallel, and appliers write in key order, not in the order the parent rows were written)',
  names:
    'the connection character set is set per unit (binary for the dump and load, utf8mb4 for Sync) so every byte arrives unchanged',
  character_set_client: '',
  character_set_connection: '',
  character_set_results: '',
  collation_connection: '',
};

export interface SessionProblem {
  key: string;
  text: string;
  fix: string;
}

/** What is wrong with a session map (empty when nothing is). */
export function sessionProblems(vars: Record<string, string>): SessionProblem[] {
  const out: SessionProblem[] = [];
  for (const [key, value] of Object.entries(vars)) {
    const k = key.toLowerCase();
    if (!/^[a-z_][a-z0-9_]*$/.test(k)) {
      out.push({
        key,
        text: `'${key}' is not a system variable name`,
        fix: "Write the variable's name as the server spells it (letters, digits and '_'), without @@ or SESSION.",
      });
    } else if (k in OURS) {
      const why = OURS[k] || OURS.names;
      // foreign_key_checks off asks for what is done anyway
      if (k === 'foreign_key_checks' && /^(0|off|false)$/i.test(value.trim())) continue;
      out.push({ key, text: `'${key}' cannot be set here: ${why}`, fix: `Remove '${key}' from session.` });
    } else if (k === 'sql_mode') {
      for (const flag of sqlModeFlags(value)) {
        if (SQL_MODE_REFUSED[flag])
          out.push({
            key,
            text: `'${key}' has ${flag}: ${SQL_MODE_REFUSED[flag]}`,
            fix: `Remove ${flag} from sql_mode.`,
          });
      }
    }
  }
  return out;
}

function sqlModeFlags(mode: string): string[] {
  return mode
    .split(',')
    .map((f) => f.trim().toUpperCase())
    .filter(Boolean);
}

/** The target sql_mode: ours, with the flags of the user's session sql_mode added. */
export function targetSqlMode(session: Record<string, string> | undefined): string {
  const user = Object.entries(session ?? {}).find(([k]) => k.toLowerCase() === 'sql_mode')?.[1] ?? '';
  const flags = sqlModeFlags(TARGET_SQL_MODE);
  for (const f of sqlModeFlags(user)) if (!flags.includes(f)) flags.push(f);
  return flags.join(',');
}

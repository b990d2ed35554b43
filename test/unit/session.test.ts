// DM's `session` variables: merged with ours (sql_mode) or refused with the reason where this
// project sets the variable itself, so no user value is overridden without a word.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sessionProblems, TARGET_SQL_MODE, targetSqlMode } from '../../src/mysql/session.js';
import { parseTaskConfig } from '../../src/task/config.js';

test('session: variables this project sets are refused naming why; others pass', () => {
  const keys = (vars: Record<string, string>) => sessionProblems(vars).map((p) => p.key);
  assert.deepEqual(keys({ innodb_lock_wait_timeout: '10', tidb_skip_utf8_check: '1', sql_log_bin: '0' }), []);
  assert.deepEqual(keys({ foreign_key_checks: '0' }), [], 'off is what is done anyway');
  assert.deepEqual(keys({ foreign_key_checks: '1', time_zone: '+08:00', NAMES: 'latin1' }), [
    'foreign_key_checks',
    'time_zone',
    'NAMES',
  ]);
  assert.deepEqual(keys({ collation_connection: 'x', character_set_client: 'x' }), [
    'collation_connection',
    'character_set_client',
  ]);
  assert.deepEqual(keys({ '@@sql_mode': '', 'tidb-x': '1' }), ['@@sql_mode', 'tidb-x']);
  assert.deepEqual(keys({ sql_mode: 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES' }), ['sql_mode']);
  assert.match(sessionProblems({ time_zone: 'UTC' })[0].text, /read and written in UTC/);
});

test("session sql_mode: the user's flags are added to ours, never replace them", () => {
  assert.equal(targetSqlMode(undefined), TARGET_SQL_MODE);
  assert.equal(
    targetSqlMode({ SQL_MODE: 'ansi_quotes, STRICT_ALL_TABLES' }),
    `${TARGET_SQL_MODE},ANSI_QUOTES`,
  );
});

test('task file: a refused session variable is an error naming its key and the fix', () => {
  const task = (session: string) => `
name: t
task-mode: incremental
target-database: {host: 127.0.0.1, port: 3306, user: root, password: '', session: {${session}}}
mysql-instances: [{source-id: s1, meta: {binlog-name: mysql-bin.000001, binlog-pos: 4}}]
`;
  assert.deepEqual(parseTaskConfig(task('sql_mode: ANSI_QUOTES, sql_log_bin: 0')).targetDatabase.session, {
    sql_mode: 'ANSI_QUOTES',
    sql_log_bin: '0',
  });
  assert.throws(
    () => parseTaskConfig(task("time_zone: '+08:00'")),
    /'target-database.session.time_zone'.*cannot be set here: TIMESTAMP values are read and written in UTC.*Remove 'time_zone' from session/s,
  );
});

// collation_compatible: strict: implicit collations made explicit as DM does, and collation_server
// read from a Query event's status variables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverCollationId, strictCollation } from '../../src/schema/collation.js';

const up = {
  defaults: new Map([
    ['utf8mb4', 'utf8mb4_general_ci'],
    ['latin1', 'latin1_swedish_ci'],
  ]),
  server: 'utf8mb4_bin',
};

test('strict: CREATE DATABASE and CREATE TABLE get the upstream collation where it is implicit', () => {
  const cases: [string, string][] = [
    ['CREATE DATABASE d', 'CREATE DATABASE d COLLATE utf8mb4_bin'],
    ['create schema if not exists `d`', 'create schema if not exists `d` COLLATE utf8mb4_bin'],
    [
      'CREATE DATABASE d CHARACTER SET latin1',
      'CREATE DATABASE d CHARACTER SET latin1 COLLATE latin1_swedish_ci',
    ],
    [
      'CREATE DATABASE d DEFAULT CHARSET = utf8mb4',
      'CREATE DATABASE d DEFAULT CHARSET = utf8mb4 COLLATE utf8mb4_general_ci',
    ],
    ['CREATE DATABASE d COLLATE latin1_bin', 'CREATE DATABASE d COLLATE latin1_bin'],
    [
      'CREATE TABLE t (id INT, c VARCHAR(10) CHARACTER SET latin1, d TEXT CHARSET latin1 COLLATE latin1_bin) DEFAULT CHARSET=utf8mb4',
      'CREATE TABLE t (id INT, c VARCHAR(10) CHARACTER SET latin1 COLLATE latin1_swedish_ci, d TEXT CHARSET latin1 COLLATE latin1_bin) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci',
    ],
    [
      "CREATE TABLE IF NOT EXISTS db.t (`key` CHAR(1) CHARACTER SET 'latin1' DEFAULT 'CHARSET x', PRIMARY KEY (`key`)) ENGINE=InnoDB",
      "CREATE TABLE IF NOT EXISTS db.t (`key` CHAR(1) CHARACTER SET 'latin1' COLLATE latin1_swedish_ci DEFAULT 'CHARSET x', PRIMARY KEY (`key`)) ENGINE=InnoDB",
    ],
    [
      'CREATE TABLE t (id INT) COLLATE=latin1_bin CHARSET=latin1',
      'CREATE TABLE t (id INT) COLLATE=latin1_bin CHARSET=latin1',
    ],
    ['CREATE TABLE t (id INT)', 'CREATE TABLE t (id INT)'],
    ['CREATE TABLE t LIKE u', 'CREATE TABLE t LIKE u'],
    [
      'CREATE TABLE t AS SELECT CONVERT(a USING latin1) FROM u',
      'CREATE TABLE t AS SELECT CONVERT(a USING latin1) FROM u',
    ],
    ['CREATE TABLE t (c TEXT CHARSET koi8r)', 'CREATE TABLE t (c TEXT CHARSET koi8r)'],
    ['ALTER TABLE t CONVERT TO CHARACTER SET latin1', 'ALTER TABLE t CONVERT TO CHARACTER SET latin1'],
    [
      '/* x */ CREATE TABLE t (c TEXT /* CHARSET y */ CHARSET latin1)',
      '/* x */ CREATE TABLE t (c TEXT /* CHARSET y */ CHARSET latin1 COLLATE latin1_swedish_ci)',
    ],
  ];
  for (const [sql, want] of cases) assert.equal(strictCollation(sql, up), want, sql);
  assert.equal(
    strictCollation('CREATE DATABASE d', { defaults: up.defaults }),
    'CREATE DATABASE d',
    'server unknown',
  );
});

test("collation_server is read from a Query event's status variables (Q_CHARSET_CODE)", () => {
  const vars = Buffer.concat([
    Buffer.from([0, 0, 0, 0, 0]), // Q_FLAGS2_CODE
    Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 0]), // Q_SQL_MODE_CODE
    Buffer.from([6, 3, ...Buffer.from('std')]), // Q_CATALOG_NZ_CODE
    Buffer.from([3, 1, 0, 1, 0]), // Q_AUTO_INCREMENT
    Buffer.from([4, 33, 0, 33, 0, 46, 0]), // Q_CHARSET_CODE: client, connection, server 46
  ]);
  assert.equal(serverCollationId(vars), 46);
  assert.equal(serverCollationId(Buffer.from([0, 0, 0, 0, 0])), undefined);
  assert.equal(
    serverCollationId(Buffer.from([99, 1, 2])),
    undefined,
    'an unknown variable stops the reading',
  );
});

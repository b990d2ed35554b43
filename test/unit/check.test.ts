// Precheck items judged from facts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globalPrivileges, judge, versionOk, type Facts } from '../../src/units/check/items.js';
import { summarize } from '../../src/units/check/check.js';

const good: Facts = {
  sourceId: 's',
  needsBinlog: true,
  version: '10.11.19-MariaDB',
  serverId: 1,
  logBin: true,
  binlogFormat: 'ROW',
  binlogRowImage: 'FULL',
  upstreamPrivileges: new Set(['SELECT', 'RELOAD', 'BINLOG MONITOR', 'REPLICATION SLAVE']),
  onlineInFlight: [],
  keylessTables: [],
  targetPrivileges: new Set(['ALL PRIVILEGES']),
  sameServer: false,
  selfFed: [],
};

test('a target that is the upstream itself fails when selected tables would be written onto themselves, even with every item ignored', () => {
  const loop = summarize(judge({ ...good, sameServer: true, selfFed: ['`a`.`t`', '`a`.`u`'] }, ['all']));
  assert.equal(loop.passed, false);
  assert.equal(loop.results.length, 1);
  assert.equal(loop.results[0].name, 'target_is_upstream');
  assert.match(loop.results[0].errors[0].short_error, /`a`\.`t`, `a`\.`u` would be written onto themselves/);
  // routed elsewhere: allowed, with a warning
  const routed = judge({ ...good, sameServer: true }, []);
  assert.equal(routed[0].state, 'warn');
  assert.equal(summarize(routed).passed, true);
});

test('a replicable upstream passes every item', () => {
  const r = summarize(judge(good, []));
  assert.deepEqual(r.summary, { passed: true, total: 10, successful: 10, failed: 0, warning: 0 });
  assert.ok(r.results.every((i) => i.instruction === ''));
});

test('each problem fails or warns its own item', () => {
  const r = judge(
    {
      ...good,
      version: '5.5.62',
      serverId: 0,
      logBin: false,
      binlogFormat: 'MIXED',
      binlogRowImage: 'MINIMAL',
      upstreamPrivileges: new Set(['SELECT']),
      onlineInFlight: [['`a`.`t`', '`a`.`_t_gho`']],
      keylessTables: ['`a`.`b`'],
      targetPrivileges: new Set(['USAGE']),
    },
    [],
  );
  const state = Object.fromEntries(r.map((i) => [i.name, i.state]));
  assert.deepEqual(state, {
    version: 'fail',
    server_id: 'fail',
    dump_privilege: 'fail',
    replication_privilege: 'fail',
    binlog_enable: 'fail',
    binlog_format: 'fail',
    binlog_row_image: 'fail',
    online_ddl: 'warn',
    table_schema: 'warn',
    target_privilege: 'warn',
  });
  const dump = r.find((i) => i.name === 'dump_privilege')!;
  assert.deepEqual(
    dump.errors.map((e) => e.severity),
    ['warn', 'fail'],
  );
  assert.match(dump.instruction, /GRANT SELECT, RELOAD, REPLICATION CLIENT/);
  const online = r.find((i) => i.name === 'online_ddl')!;
  assert.match(
    online.errors[0].short_error,
    /online schema change of `a`\.`t` is in flight \(shadow table `a`\.`_t_gho`\)/,
  );
  assert.match(online.instruction, /Let the tool finish/);
});

test('full tasks do not need the binlog; ignored items and "all" are skipped', () => {
  const full = judge({ ...good, needsBinlog: false, binlogFormat: 'STATEMENT' }, []);
  assert.ok(!full.some((i) => i.name === 'binlog_format'));
  assert.ok(
    !judge(good, ['version', 'table_schema']).some((i) => i.name === 'version' || i.name === 'table_schema'),
  );
  assert.deepEqual(judge(good, ['all']), []);
});

test('privileges and versions', () => {
  assert.deepEqual(
    [
      ...globalPrivileges([
        "GRANT SELECT, RELOAD, REPLICATION SLAVE ON *.* TO `u`@`%` IDENTIFIED BY PASSWORD '*X'",
        'GRANT ALL PRIVILEGES ON `app`.* TO `u`@`%`',
      ]),
    ],
    ['SELECT', 'RELOAD', 'REPLICATION SLAVE'],
  );
  assert.ok(versionOk('10.1.48-MariaDB'));
  assert.ok(!versionOk('10.0.38-MariaDB'));
  assert.ok(versionOk('8.0.36'));
  assert.ok(versionOk('5.7.44-log'));
  assert.ok(!versionOk('5.5.62'));
});

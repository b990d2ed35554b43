// Small helpers with logic: SQL quoting and the CLI progress line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quoteId, quoteString, quoteTable } from '../../src/mysql/connect.js';
import { bar, progressLine } from '../../src/cli/progress.js';
import type { SubTaskStatus } from '../../src/task/status.js';

test('identifiers and strings are quoted for MySQL', () => {
  assert.equal(quoteId('a`b'), '`a``b`');
  assert.equal(quoteTable('odd db', 't/1'), '`odd db`.`t/1`');
  assert.equal(quoteString(`it's "x" \\ \n\r\0\x1a`), `'it\\'s \\"x\\" \\\\ \\n\\r\\0\\Z'`);
});

test('the progress line shows the unit, a bar and the numbers', () => {
  assert.equal(bar(0.5, 10), '█████░░░░░');
  assert.equal(bar(2, 4), '████');
  const base = { name: 't', stage: 'Running', result: null, unresolvedDDLLockID: '' } as const;
  const load: SubTaskStatus = {
    ...base,
    unit: 'Load',
    load: {
      finishedBytes: String(1 << 20),
      totalBytes: String(4 << 20),
      progress: '25.00 %',
      metaBinlog: '',
      metaBinlogGTID: '',
    },
  };
  assert.equal(progressLine(load), `t Running Load ${bar(0.25)} 25.00 % 1.0 MB/4.0 MB`);
  const sync: SubTaskStatus = {
    ...base,
    unit: 'Sync',
    sync: {
      syncerBinlog: '(b.1, 4)',
      masterBinlog: '(b.1, 9)',
      synced: false,
      secondsBehindMaster: '2',
      totalEvents: '10',
      recentTps: '5',
    },
  };
  assert.equal(
    progressLine(sync),
    't Running Sync at (b.1, 4) of (b.1, 9), 2 s behind, 10 events, 5 events/s',
  );
});

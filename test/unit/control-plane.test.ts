// The control plane's pure parts: scheduling sources onto workers, DM's task-status rules,
// DM-compatible password encryption, the master's store and the TOML config files.
import { checkBody } from '../../src/api/body.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { schedule, type Member } from '../../src/master/scheduler.js';
import { taskList, type SubTaskReport } from '../../src/master/task-status.js';
import { fromKeys, toKeys } from '../../src/master/etcd-store.js';
import type { ClusterState } from '../../src/master/store.js';
import {
  customSecretKey,
  decryptOrPlain,
  decryptPassword,
  parseSecretKey,
  useSecretKey,
  encryptPassword,
  encryptPasswords,
} from '../../src/task/encrypt.js';
import { parseSourceConfig } from '../../src/task/config.js';
import { dialable, merge, readToml } from '../../src/cli/config-file.js';
import { readProcessTls } from '../../src/api/process-tls.js';
import type { RelayStatus, SubTaskStatus } from '../../src/task/status.js';
import { splitAddr } from '../../src/api/http.js';
import { masterRoutes } from '../../src/api/master-api.js';
import { workerRoutes } from '../../src/api/worker-api.js';
import type { Master } from '../../src/master/master.js';
import type { Worker } from '../../src/worker/worker.js';
import { parse as parseYaml } from 'yaml';

const on = (name: string): Member => ({ name, online: true, offlineMs: 0 });
const off = (name: string, offlineMs: number): Member => ({ name, online: false, offlineMs });

test('schedule: free workers take unbound sources, one source each, in name order', () => {
  assert.deepEqual(schedule(['s2', 's1'], [on('w2'), on('w1')], {}, 2000), { s1: 'w1', s2: 'w2' });
  assert.deepEqual(schedule(['s1', 's2', 's3'], [on('w1')], {}, 2000), { s1: 'w1' });
  assert.deepEqual(schedule(['s1'], [], {}, 2000), {});
});

test('schedule: a source stays with its worker while it is online or briefly offline', () => {
  const bounds = { s1: 'w2' };
  assert.deepEqual(schedule(['s1'], [on('w1'), on('w2')], bounds, 2000), { s1: 'w2' });
  assert.deepEqual(schedule(['s1'], [on('w1'), off('w2', 1999)], bounds, 2000), { s1: 'w2' });
});

test('schedule: past the grace a source moves to a free worker, else waits for its own', () => {
  assert.deepEqual(schedule(['s1'], [on('w1'), off('w2', 2000)], { s1: 'w2' }, 2000), { s1: 'w1' });
  assert.deepEqual(schedule(['s1'], [off('w2', 60_000)], { s1: 'w2' }, 2000), { s1: 'w2' });
  // the free worker is not one that runs another source
  assert.deepEqual(schedule(['s1', 's2'], [on('w1'), off('w2', 9000)], { s1: 'w1', s2: 'w2' }, 2000), {
    s1: 'w1',
    s2: 'w2',
  });
  // removed sources and workers drop out
  assert.deepEqual(schedule([], [on('w1')], { s1: 'w1' }, 2000), {});
  assert.deepEqual(schedule(['s1'], [on('w3')], { s1: 'gone' }, 2000), { s1: 'w3' });
});

function st(
  stage: SubTaskStatus['stage'],
  unit: SubTaskStatus['unit'] = 'Sync',
  error = false,
): SubTaskStatus {
  return {
    name: 't',
    stage,
    unit,
    result: error
      ? {
          isCanceled: false,
          errors: [
            {
              Type: 'ExecSQL',
              msg: 'x',
              ErrCode: 1,
              ErrClass: 'sync',
              ErrScope: 'downstream',
              Workaround: '',
              retryable: false,
            },
          ],
          detail: null,
        }
      : null,
    unresolvedDDLLockID: '',
  };
}

function status(
  ...reports: Array<SubTaskStatus | { unreachable: string } | [SubTaskStatus, RelayStatus]>
): string {
  const rs: SubTaskReport[] = reports.map((r, i) =>
    Array.isArray(r)
      ? { task: 't', source: `s${i}`, status: r[0], relay: r[1] }
      : { task: 't', source: `s${i}`, status: r },
  );
  const [e] = taskList(rs);
  assert.deepEqual(
    e.sources,
    reports.map((_, i) => `s${i}`),
  );
  return e.taskStatus;
}

const relay = (stage: RelayStatus['stage'], error = false): RelayStatus => ({
  masterBinlog: '',
  masterBinlogGtid: '',
  relaySubDir: '',
  relayBinlog: '',
  relayBinlogGtid: '',
  relayCatchUpMaster: false,
  stage,
  result: error ? st('Paused', 'Sync', true).result : null,
});

test("task status follows DM's rules, first match wins", () => {
  const more = '. Please run `query-status t` to get more details.';
  assert.equal(
    status(st('Running'), st('Paused', 'Load', true)),
    `Error - Some error occurred in subtask${more}`,
  );
  assert.equal(
    status(st('Paused', 'Load', true), st('Paused')),
    `Error - Some error occurred in subtask${more}`,
  );
  assert.equal(
    status([st('Running'), relay('Paused')], st('Running')),
    `Error - Relay status is Paused${more}`,
  );
  assert.equal(status([st('Running'), relay('Paused', true)]), `Error - Relay status is Error${more}`);
  assert.equal(status([st('Running', 'Load'), relay('Paused')]), 'Running', 'relay matters only to Sync');
  assert.equal(status(st('Running'), st('Paused')), 'Paused');
  assert.equal(status(st('Paused'), st('Running')), 'Paused');
  assert.equal(status(st('New', 'Dump'), st('New', 'Dump')), 'New');
  assert.equal(status(st('Finished', 'Load'), st('Finished', 'Load')), 'Finished');
  assert.equal(status(st('Stopped'), st('Stopped')), 'Stopped');
  assert.equal(status(st('Stopped'), st('Running')), 'Running');
  assert.equal(status(st('Finished', 'Load'), st('Running')), 'Running');
  assert.equal(
    status(st('Running'), { unreachable: 'dm-worker w1 of source s1 is offline' }),
    `Error - dm-worker w1 of source s1 is offline${more}`,
  );
});

test('task list: tasks in first-seen order, each with its sources', () => {
  const l = taskList([
    { task: 'b', source: 's1', status: st('Running') },
    { task: 'a', source: 's1', status: st('Stopped') },
    { task: 'b', source: 's2', status: st('Running') },
  ]);
  assert.deepEqual(l, [
    { taskName: 'b', taskStatus: 'Running', sources: ['s1', 's2'] },
    { taskName: 'a', taskStatus: 'Stopped', sources: ['s1'] },
  ]);
});

test("passwords: DM's encryption format (base64 of iv ‖ '@' ‖ AES-256-CFB) round-trips", () => {
  const c = encryptPassword('pässword@1');
  assert.notEqual(c, encryptPassword('pässword@1'), 'a fresh IV every time');
  assert.equal(decryptPassword(c), 'pässword@1');
  const raw = Buffer.from(c, 'base64');
  assert.equal(raw[16], 0x40, 'iv ‖ "@" ‖ ciphertext');
  const noSep = Buffer.from(raw);
  noSep[16] = 0x41;
  assert.equal(decryptPassword(noSep.toString('base64')), undefined, 'no "@" after the IV: not ours');
  for (const plain of ['', 'secret', '123456', 'QUJDREVGR0hJSktMTU5PUA==', 'a@b']) {
    assert.equal(decryptOrPlain(plain), plain, `${plain} is used as written`);
  }
});

test("passwords: secret-key-path's key (DM v6) encrypts and decrypts; text of another key is an error, not garbage", () => {
  assert.throws(
    () => parseSecretKey('abc', 'k'),
    /\[code=20067:.*k: the secret key must be a hex AES-256 key of length 64 \(3 characters\)/,
  );
  assert.throws(() => parseSecretKey('z'.repeat(64), 'k'), /not all hex digits/);
  const defaultText = encryptPassword('a password of forty characters, or so!!');
  useSecretKey('0123456789abcdef'.repeat(4) + '\n');
  try {
    assert.equal(customSecretKey(), '0123456789abcdef'.repeat(4));
    const keyed = encryptPassword('pässword-2');
    assert.equal(decryptPassword(keyed), 'pässword-2');
    assert.throws(
      () => decryptOrPlain(defaultText),
      /\[code=20010:.*does not decrypt with the key of the master's secret-key-path/,
    );
  } finally {
    useSecretKey(undefined);
  }
  assert.equal(customSecretKey(), undefined);
  assert.equal(decryptPassword(defaultText), 'a password of forty characters, or so!!');
});

test('encryptPasswords: every plain password in a YAML file is replaced, the rest kept', () => {
  const enc = encryptPassword('already');
  const text = `# my source\nsource-id: s1\nfrom:\n  host: 127.0.0.1\n  user: dm\n  password: "plain pw" # comment\nother:\n  password: ${enc}\n  pw2: x\n`;
  const out = encryptPasswords(text);
  assert.ok(!out.includes('plain pw'));
  assert.ok(out.includes('# my source') && out.includes('# comment') && out.includes(enc));
  const cfg = parseSourceConfig(out.replace(/other:[\s\S]*/, ''));
  assert.equal(cfg.from.password, 'plain pw');
  assert.ok(!encryptPasswords('from:\n  password: 123456\n').includes('123456'));
});

test("the cluster state as etcd keys (DM's layout) and back", () => {
  const state: ClusterState = {
    sources: { 's/1': { file: 's1.yaml', yaml: 'source-id: s/1' } },
    tasks: { t: { file: 't.yaml', yaml: 'name: t', stages: { 's/1': { stage: 'Paused', seq: 3 } } } },
    workers: { w1: { addr: '127.0.0.1:8262' } },
    bounds: { 's/1': 'w1' },
    relays: { 's/1': { stage: 'Running', seq: 1 } },
    shard: { groups: {}, locks: {}, done: {}, optimistic: {}, owed: {} },
    templates: { 'tm/1': { file: 'openapi template', yaml: 'name: tm/1' } },
  };
  const kv = toKeys(state);
  assert.deepEqual([...kv.keys()].sort(), [
    '/dm-master/bound-worker/w1',
    '/dm-master/openapi-task-template/tm%2F1',
    '/dm-master/shardddl/state',
    '/dm-master/stage/subtask/s%2F1/t',
    '/dm-master/task/t',
    '/dm-master/v2/stage/relay/s%2F1',
    '/dm-master/v2/upstream/config/s%2F1',
    '/dm-worker/r/w1',
  ]);
  assert.deepEqual(fromKeys(Object.fromEntries(kv)), state);
  // a stage whose task is gone is dropped, not an orphan task
  assert.deepEqual(fromKeys({ '/dm-master/stage/subtask/s1/x': '{"stage":"Running","seq":1}' }).tasks, {});
});

test('TOML config: known keys read, DM keys accepted, typos named; flags win', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dm-ts-toml-'));
  try {
    const f = join(dir, 'master.toml');
    await writeFile(f, 'name = "m1"\nmaster-addr = ":8261"\npeer-urls = "http://127.0.0.1:8291"\n');
    const s = await readToml(f, ['name', 'master-addr', 'data-dir'], ['peer-urls']);
    assert.deepEqual(s, { name: 'm1', 'master-addr': ':8261' });
    assert.deepEqual(
      merge({ name: 'x', 'master-addr': 'a', 'data-dir': 'd' }, s, { masterAddr: '127.0.0.1:1' }),
      {
        name: 'm1',
        'master-addr': '127.0.0.1:1',
        'data-dir': 'd',
      },
    );
    await writeFile(f, 'nmae = "m1"\n');
    await assert.rejects(
      readToml(f, ['name'], []),
      /master\.toml: 'nmae' \(line 1\) is not a known key.*Did you mean 'name'/,
    );
    await writeFile(f, 'name = \n');
    await assert.rejects(readToml(f, ['name'], []), /master\.toml: invalid TOML/);
    await assert.rejects(readToml(join(dir, 'none.toml'), [], []), /none\.toml: cannot be read/);
    // DM writes cert-allowed-cn as a list
    await writeFile(f, 'name = "m1"\nssl-ca = "/etc/ca.pem"\ncert-allowed-cn = ["dm", "ctl"]\n');
    assert.deepEqual(await readToml(f, ['name', 'ssl-ca', 'cert-allowed-cn'], []), {
      name: 'm1',
      'ssl-ca': '/etc/ca.pem',
      'cert-allowed-cn': 'dm,ctl',
    });
    // TLS asked for is all three files or an error, never plain HTTP without a word
    assert.throws(
      () => readProcessTls({ 'ssl-ca': '/etc/ca.pem' }, 'dm-master'),
      /dm-master: ssl-ca without ssl-cert, ssl-key/,
    );
    assert.throws(
      () => readProcessTls({ 'cert-allowed-cn': 'x' }, 'dm-worker'),
      /cert-allowed-cn without ssl-ca/,
    );
    assert.throws(
      () => readProcessTls({ 'ssl-ca': f + '.none', 'ssl-cert': f, 'ssl-key': f }, 'dmctl'),
      /dmctl: cannot read ssl-ca/,
    );
    assert.equal(readProcessTls({ 'ssl-ca': '', 'ssl-cert': '' }, 'dmctl'), undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('addresses: host:port parsed; wildcard hosts are dialed on loopback', () => {
  assert.deepEqual(splitAddr('127.0.0.1:8261'), { host: '127.0.0.1', port: 8261 });
  assert.deepEqual(splitAddr(':8261'), { host: '0.0.0.0', port: 8261 });
  assert.throws(() => splitAddr('localhost'), /not an address; write host:port/);
  assert.equal(dialable(':8261'), '127.0.0.1:8261');
  assert.equal(dialable('0.0.0.0:1'), '127.0.0.1:1');
  assert.equal(dialable('10.0.0.2:1'), '10.0.0.2:1');
});

test('docs/openapi.yaml describes every route of the master and the worker', async () => {
  const doc = parseYaml(await readFile('docs/openapi.yaml', 'utf8')) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const routes = [...masterRoutes(() => ({}) as Master), ...workerRoutes(() => ({}) as Worker)];
  for (const r of routes) {
    const path = r.path.replace(/:([a-zA-Z]+)/g, '{$1}');
    assert.ok(doc.paths[path]?.[r.method.toLowerCase()], `${r.method} ${path} is described`);
  }
});

test("API bodies: an object with the route's fields, each of its type; unknown fields refused", () => {
  const spec = { ids: 'string[]', force: 'boolean?' } as const;
  assert.deepEqual(checkBody({ ids: ['a'] }, spec, 'r'), { ids: ['a'] });
  assert.throws(() => checkBody([1, 2, 3], spec, 'r'), /r: the body must be a JSON object, not an array/);
  assert.throws(
    () => checkBody({ ids: 'src' }, spec, 'r'),
    /body field 'ids' must be an array of strings, not a string/,
  );
  assert.throws(() => checkBody({}, spec, 'r'), /body field 'ids' is required/);
  assert.throws(
    () => checkBody({ ids: [], forse: true }, spec, 'r'),
    /unknown body field 'forse' \(this route takes 'ids', 'force'\)/,
  );
  assert.throws(
    () => checkBody({ ids: [], force: 1 }, spec, 'r'),
    /'force' must be true or false, not a number/,
  );
  assert.throws(
    () => checkBody({ files: [] }, { files: 'files' }, 'r'),
    /must be a non-empty array of \{file, yaml\}/,
  );
  assert.throws(
    () => checkBody({ files: [{ file: 'a', yaml: 1 }] }, { files: 'files' }, 'r'),
    /'files' must be/,
  );
});

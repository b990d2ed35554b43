// DM's task and source files (YAML, DM v2 format), read into validated plain objects, and the
// per-source subtask config the worker runs. Field names and defaults follow DM so a DM user's
// files work unchanged.
import { readFile } from 'node:fs/promises';
import { eventFilter, type FilterRule } from '../rules/event-filter.js';
import { namePattern, type BAList, type TableRef } from '../rules/balist.js';
import type { Extract, RouteRule } from '../rules/route.js';
import { sessionProblems } from '../mysql/session.js';
import type { TlsSpec } from '../mysql/tls.js';
import { parseExpr } from '../rules/expr/parse.js';
import type { ExprFilterRule } from '../rules/expr/row-filter.js';
import { MAPPING_EXPRESSIONS, ruleProblem, type ColumnMappingRule } from '../rules/column-mapping.js';
import { adjustRule, DEFAULT_SHADOW_RULES, DEFAULT_TRASH_RULES } from '../rules/online-ddl.js';
import { detectGtidFlavor, parseGtidSet } from '../binlog/gtid.js';
import { decryptOrPlain } from './encrypt.js';
import { closest } from '../words.js';
import { configError, parseYaml, type KeyPolicy, type Reader } from './yaml.js';

export interface PurgeConfig {
  /** Seconds between automatic purges (0: never). */
  interval: number;
  /** Hours a relay file is kept after it was last written (0: forever). */
  expires: number;
  /** Free disk space, in GB, below which every unneeded relay file is removed (0: never). */
  remainSpace: number;
}

/** `load&sync` (DM's): Load a dump made earlier (its `metadata` gives Sync's start), then Sync. */
export type TaskMode = 'full' | 'incremental' | 'all' | 'dump' | 'load' | 'load&sync';
export type OnDuplicate = 'replace' | 'error' | 'ignore';

export interface DBConfig {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Session variables set on every connection (DM's `session`). */
  session: Record<string, string>;
  /** TLS (DM's `security`); absent: plaintext. */
  tls?: TlsSpec;
}

export interface SourceConfig {
  sourceId: string;
  enableGtid: boolean;
  enableRelay: boolean;
  relayBinlogName: string;
  relayBinlogGtid: string;
  relayDir: string;
  /** Automatic purge of relay files (DM's `purge`). */
  purge: PurgeConfig;
  flavor: '' | 'mysql' | 'mariadb';
  serverId: number;
  from: DBConfig;
  /** DM v2's source-level binlog event filters: added to every task's rules on this source (a
   * task rule for the same schema and table patterns wins). */
  filters: FilterRule[];
  /** Case-sensitive names for this source's tasks (either the task's or this one turns it on). */
  caseSensitive: boolean;
  /** DM keys accepted that change nothing here, each with why. */
  warnings: string[];
}

export interface BinlogMeta {
  binlogName: string;
  binlogPos: number;
  binlogGtid: string;
}

export interface MydumperConfig {
  threads: number;
  /** Data file size limit in MB. */
  chunkFilesize: number;
  /** Rows per chunk when splitting a table (0: split by size only). */
  rows: number;
  where: string;
  skipTzUtc: boolean;
  /** Upper bound of one INSERT statement in bytes. */
  statementSize: number;
  extraArgs: string;
  /** dumpling's `-T`/`--tables-list` in extra-args: only these tables are dumped. */
  tablesList?: { db: string; table: string }[];
  /** dumpling's `-d`/`--no-data` in extra-args: table structures only. */
  noData: boolean;
}

export interface LoaderConfig {
  poolSize: number;
  dir: string;
  importMode: 'sql' | 'logical';
  onDuplicate: OnDuplicate;
  /** Ours: false loads without writing the target's binlog (SET sql_log_bin = 0; default true). */
  sqlLogBin: boolean;
}

export interface SyncerConfig {
  workerCount: number;
  batch: number;
  safeMode: boolean;
  /** Automatic safe mode after starting from an unsure position, in seconds (DM's
   * `safe-mode-duration`; "0s" turns it off). */
  safeModeDuration: number;
  compact: boolean;
  multipleRows: boolean;
}

export interface InstanceConfig {
  sourceId: string;
  meta?: BinlogMeta;
  routeRules: string[];
  filterRules: string[];
  /** Names of `expression-filter` rules applied to this source's rows. */
  exprFilterRules: string[];
  /** Names of `column-mappings` rules (DM v2.0's column mapping). */
  columnMappingRules: string[];
  blockAllowList: string;
  mydumper: MydumperConfig;
  loader: LoaderConfig;
  syncer: SyncerConfig;
  /** DM's continuous validation (`validator-config-name`; mode none when not named). */
  validator: ValidatorConfig;
}

/** DM's `validators` (v6.2+): a validator follows the binlog behind Sync and compares the rows it
 * changed with the target. Durations in seconds. */
export interface ValidatorConfig {
  mode: 'none' | 'full' | 'fast';
  workerCount: number;
  validateInterval: number;
  checkInterval: number;
  rowErrorDelay: number;
  metaFlushInterval: number;
  batchQuerySize: number;
  /** Bytes of pending rows at most (the validator stops with an error beyond). */
  maxPendingRowSize: number;
  maxPendingRowCount: number;
  /** Where a validator started for the first time begins (empty: where Sync is). */
  startTime: string;
}

export interface TaskConfig {
  name: string;
  taskMode: TaskMode;
  shardMode: '' | 'pessimistic' | 'optimistic';
  metaSchema: string;
  caseSensitive: boolean;
  /** DM's collation_compatible: strict makes implicit collations of CREATE statements explicit. */
  collationCompatible: 'loose' | 'strict';
  cleanDumpFile: boolean;
  timezone: string;
  /** Precheck items to skip (DM's names; "all" skips the precheck). */
  ignoreCheckingItems: string[];
  /** DM's `online-ddl`: Sync follows gh-ost / pt-osc style schema changes (shadow and trash
   * tables named by these rules, anchored as DM does). */
  onlineDDL: boolean;
  shadowTableRules: string[];
  trashTableRules: string[];
  targetDatabase: DBConfig;
  mysqlInstances: InstanceConfig[];
  routes: Map<string, RouteRule>;
  filters: Map<string, FilterRule>;
  exprFilters: Map<string, ExprFilterRule>;
  columnMappings: Map<string, ColumnMappingRule>;
  blockAllowList: Map<string, BAList>;
  /** DM keys accepted that change nothing here, each with why (logged, shown by start-task). */
  warnings: string[];
}

/** What one worker runs for one task: the task's settings resolved for one source. */
export interface SubTaskConfig extends Omit<TaskConfig, 'mysqlInstances'> {
  instance: InstanceConfig;
  source: SourceConfig;
  /** How many sources the task has (mysql-instances): whether this one writes its tables alone. */
  taskSources: number;
}

// DM keys with no effect here: each is accepted with a warning that says why nothing changes
// (DM deprecates it, or what it tunes does not exist here), or refused, unless its value asks
// for nothing, with what to do instead. None is ignored without a word.
export const TASK_POLICY: Readonly<Record<string, KeyPolicy>> = {
  'enable-heartbeat': { warn: 'is deprecated by DM and has no effect (Sync measures its lag itself)' },
  'heartbeat-update-interval': { warn: 'is deprecated by DM and has no effect' },
  'heartbeat-report-interval': { warn: 'is deprecated by DM and has no effect' },
  timezone: {
    warn: 'has no effect on the data: TIMESTAMP values are dumped, loaded and replicated in UTC, so they arrive unchanged whatever the time zone (it is the zone a --start-time without an offset is read in)',
  },
  'remove-meta': {
    refuse: 'remove-meta in the task file (deprecated by DM)',
    fix: 'Remove it and run start-task --remove-meta instead.',
  },
  'enable-ansi-quotes': {
    warn: 'is deprecated by DM and has no effect (DDL is parsed as the upstream wrote it)',
  },
  'ansi-quotes': { warn: 'is deprecated by DM and has no effect (DDL is parsed as the upstream wrote it)' },
  experimental: {
    warn: 'has no effect: the experimental async-checkpoint-flush is not needed (checkpoints are written with each commit)',
  },
  'strict-optimistic-shard-mode': {
    refuse: 'strict-optimistic-shard-mode',
    fix: 'Remove it: shard-mode optimistic here pauses on a conflicting DDL already.',
  },
  qps: { warn: 'has no effect (no rate limit is applied)' },
  mariadb2tidb: {
    refuse: 'mariadb2tidb schema conversion',
    fix: 'Remove it or set mode: off: DDL is applied as the upstream wrote it.',
    inert: (r) => ['off', ''].includes(r.map('mariadb2tidb')?.string('mode', '') ?? ''),
  },
};

const INSTANCE_POLICY: Readonly<Record<string, KeyPolicy>> = {};

const DB_POLICY: Readonly<Record<string, KeyPolicy>> = {
  'max-allowed-packet': {
    warn: "is deprecated by DM and has no effect: a statement over the server's max_allowed_packet is refused with the fix",
  },
};

function readDB(r: Reader, defaultPort: number): DBConfig {
  const session: Record<string, string> = {};
  const s = r.map('session');
  if (s) {
    for (const k of s.keys()) session[k] = s.string(k);
    for (const p of sessionProblems(session)) s.invalid(p.key, p.text.replace(`'${p.key}' `, ''), p.fix);
  }
  const db = {
    host: r.string('host'),
    port: r.int('port', defaultPort, 1, 65535),
    user: r.string('user'),
    password: decryptOrPlain(r.string('password', '')),
    session,
  } as DBConfig;
  const sec = r.map('security');
  const tls = sec ? readSecurity(sec) : undefined;
  r.policy(DB_POLICY);
  r.done([]);
  return tls ? { ...db, tls } : db;
}

/** DM's `security` of a database: TLS with these certificates (files or inline PEM, DM's
 * *-bytes), the server verified unless `ssl-verify-server-cert: false` (ours). Empty: no TLS. */
function readSecurity(sec: Reader): TlsSpec | undefined {
  const str = (k: string) => sec.string(k, '') || undefined;
  const spec: TlsSpec = {
    caFile: str('ssl-ca'),
    certFile: str('ssl-cert'),
    keyFile: str('ssl-key'),
    ca: str('ssl-ca-bytes'),
    cert: str('ssl-cert-bytes'),
    key: str('ssl-key-bytes'),
    verifyServerCert: sec.bool('ssl-verify-server-cert', true),
    where: sec.path,
  };
  if (sec.stringList('cert-allowed-cn').length)
    sec.invalid(
      'cert-allowed-cn',
      "applies to the TLS of dm-master and dm-worker (which clients they accept), not to a database's",
      'Remove it here; a database is verified by ssl-ca and its host name.',
    );
  sec.done([]);
  // DM's get-config writes the keys empty: only a value (or the verify switch) asks for TLS
  const asked =
    [spec.caFile, spec.certFile, spec.keyFile, spec.ca, spec.cert, spec.key].some(Boolean) ||
    sec.has('ssl-verify-server-cert');
  return asked ? spec : undefined;
}

function parseSize(r: Reader, key: string, def: number): number {
  if (!r.has(key)) return def;
  const s = r.string(key).trim();
  const m = /^(\d+)\s*(m|mb|mib)?$/i.exec(s);
  if (!m) {
    r.invalid(key, `is '${s}'`, `Write a size in MB, e.g. '${key}: 64' (0: no limit).`);
    return def;
  }
  return Number(m[1]);
}

/** Splits a command line as a shell does: blanks separate words, quotes ('…' or "…") and
 * backslashes keep blanks inside one. Undefined when a quote is not closed. */
export function shellWords(text: string): string[] | undefined {
  const out: string[] = [];
  let cur: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) cur += text[++i];
      else cur += c;
    } else if (/\s/.test(c)) {
      if (cur !== undefined) out.push(cur);
      cur = undefined;
    } else if (c === "'" || c === '"') {
      quote = c;
      cur ??= '';
    } else if (c === '\\' && i + 1 < text.length) cur = (cur ?? '') + text[++i];
    else cur = (cur ?? '') + c;
  }
  if (quote) return undefined;
  if (cur !== undefined) out.push(cur);
  return out;
}

const EXTRA_ARGS_FIX =
  "extra-args takes dumpling's --where, -T/--tables-list, -d/--no-data, --consistency and --no-locks here; use block-allow-list for what to dump, and threads, rows, chunk-filesize, statement-size for how.";

/** mydumper/dumpling's extra-args, the subset that makes sense here: `--where`, `-T/--tables-list`
 * and `-d/--no-data` act; `--consistency` and `--no-locks` change nothing (warned); any other
 * flag is refused. */
function extraArgs(
  r: Reader,
  base: MydumperConfig,
  where: string,
): Pick<MydumperConfig, 'extraArgs' | 'where' | 'tablesList' | 'noData'> {
  const text = r.string('extra-args', base.extraArgs).trim();
  const out = { extraArgs: text, where, tablesList: base.tablesList, noData: base.noData };
  const args = shellWords(text);
  if (!args) {
    r.invalid('extra-args', 'has a quote that is not closed', "Close the quote, e.g. --where 'id > 10'.");
    return out;
  }
  const at = `${r.file}: '${r.path}.extra-args'`;
  for (let i = 0; i < args.length; i++) {
    const eq = args[i].startsWith('--') ? args[i].indexOf('=') : -1;
    const flag = eq > 0 ? args[i].slice(0, eq) : args[i];
    const value = (): string | undefined => {
      if (eq > 0) return args[i].slice(eq + 1);
      if (i + 1 < args.length) return args[++i];
      r.invalid('extra-args', `has ${flag} without its value`, EXTRA_ARGS_FIX);
      return undefined;
    };
    switch (flag) {
      case '--where': {
        const w = value();
        if (w === undefined) break;
        if (out.where && out.where !== w)
          r.invalid(
            'extra-args',
            `has --where and the config has where: '${out.where}'`,
            'Keep one of them.',
          );
        out.where = w;
        break;
      }
      case '-T':
      case '--tables-list': {
        const list = value();
        if (list === undefined) break;
        out.tablesList = [];
        for (const name of list
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean)) {
          const dot = name.indexOf('.');
          if (dot <= 0 || dot === name.length - 1) {
            r.invalid(
              'extra-args',
              `has ${flag} '${name}', which is not db.table`,
              'Write the tables as db.table, separated by commas.',
            );
            continue;
          }
          out.tablesList.push({ db: name.slice(0, dot), table: name.slice(dot + 1) });
        }
        r.warnings.push(
          `${at} ${flag}: only the listed tables are copied; Sync still follows the block-allow list, so its other tables must exist on the target (or be left out of it)`,
        );
        break;
      }
      case '-d':
      case '--no-data':
        out.noData = true;
        break;
      case '--consistency':
        r.warnings.push(
          `${at} --consistency ${value() ?? ''} has no effect: the dump always reads one consistent snapshot`,
        );
        break;
      case '--no-locks':
        r.warnings.push(
          `${at} --no-locks has no effect: the dump holds FLUSH TABLES WITH READ LOCK only while its snapshot connections open (none without RELOAD)`,
        );
        break;
      default:
        r.invalid(
          'extra-args',
          `has '${args[i]}', which is not supported (the dump is not mydumper/dumpling)`,
          EXTRA_ARGS_FIX,
        );
    }
  }
  return out;
}

const MYDUMPER_POLICY: Readonly<Record<string, KeyPolicy>> = {
  'mydumper-path': { warn: 'has no effect: the dump is built in (no mydumper binary is run)' },
};

const PHYSICAL: KeyPolicy = {
  warn: "has no effect: it applies to import-mode physical (TiDB Lightning's local backend), which is not here",
};

const LOADER_POLICY: Readonly<Record<string, KeyPolicy>> = Object.fromEntries(
  [
    'on-duplicate-physical',
    'disk-quota-physical',
    'checksum-physical',
    'analyze',
    'range-concurrency',
    'compress-kv-pairs',
    'pd-addr',
    'sorting-dir-physical',
    // their names before DM v6.0
    'sorting-dir',
    'disk-quota',
    'checksum',
  ].map((k) => [k, PHYSICAL]),
);

const SYNCER_POLICY: Readonly<Record<string, KeyPolicy>> = {
  'enable-ansi-quotes': { warn: 'is deprecated by DM and has no effect' },
  'queue-size': { warn: 'has no effect: transactions in flight are bounded by worker-count × batch' },
  'checkpoint-flush-interval': {
    warn: 'has no effect: the checkpoint is written in the same target transaction as each batch (more often than any interval)',
  },
  'max-retry': { warn: 'is deprecated by DM and has no effect (retryable errors auto-resume with backoff)' },
  'auto-fix-gtid': { warn: 'is deprecated by DM and has no effect' },
  'enable-gtid': {
    warn: 'is deprecated by DM in syncers and has no effect: set enable-gtid in the source file',
  },
  'disable-detect': { warn: 'is deprecated by DM and has no effect (causality is always on)' },
  'meta-file': { warn: 'has no effect: Sync keeps its position in the checkpoint table of meta-schema' },
};

const SOURCE_POLICY: Readonly<Record<string, KeyPolicy>> = {
  checker: {
    refuse: 'turning off the automatic resume (checker.check-enable: false)',
    fix: 'Remove checker: paused subtasks with a retryable error resume by themselves (1 s, doubling up to 60 s).',
    inert: (r) => r.map('checker')?.bool('check-enable', true) ?? true,
  },
  enable: {
    refuse: 'a disabled source (enable: false)',
    fix: 'Remove enable, and do not create the source until it should run (operate-source create / stop).',
    inert: (r) => r.bool('enable', true),
  },
  'meta-dir': { warn: 'is deprecated by DM and has no effect' },
  'auto-fix-gtid': { warn: 'is deprecated by DM and has no effect' },
  charset: {
    refuse: "a connection charset other than utf8mb4 ('charset')",
    fix: 'Remove charset: every connection uses utf8mb4, and text is copied as the upstream stored it.',
    inert: (r) => ['', 'utf8mb4'].includes(r.string('charset', '').toLowerCase()),
  },
  tracer: { warn: "has no effect: DM's tracer is not here (logs and query-status show the progress)" },
};

function readMydumper(r: Reader | undefined, base: MydumperConfig): MydumperConfig {
  if (!r) return base;
  const c: MydumperConfig = {
    threads: r.int('threads', base.threads, 1, 1024),
    chunkFilesize: parseSize(r, 'chunk-filesize', base.chunkFilesize),
    rows: r.int('rows', base.rows, 0),
    skipTzUtc: r.bool('skip-tz-utc', base.skipTzUtc),
    // 0 (DM's get-config output when unset): the default
    statementSize: r.int('statement-size', base.statementSize, 0, 256 << 20) || base.statementSize,
    ...extraArgs(r, base, r.string('where', base.where)),
  };
  r.policy(MYDUMPER_POLICY);
  r.done([]);
  return c;
}

function readLoader(r: Reader | undefined, base: LoaderConfig): LoaderConfig {
  if (!r) return base;
  const dup: readonly OnDuplicate[] = ['replace', 'error', 'ignore'];
  // on-duplicate is DM's older name of on-duplicate-logical, which wins when both are set ("" is
  // what DM's get-config writes for the unused one)
  const legacy = r.string('on-duplicate', '') === '' ? undefined : r.oneOf('on-duplicate', dup);
  const logical =
    r.string('on-duplicate-logical', '') === '' ? undefined : r.oneOf('on-duplicate-logical', dup);
  if (legacy && logical && legacy !== logical) {
    r.warnings.push(
      `${r.file}: '${r.path}.on-duplicate' (${legacy}) is overridden by on-duplicate-logical (${logical}), as in DM`,
    );
  }
  const onDuplicate = logical ?? legacy ?? base.onDuplicate;
  const tidbOnly = ['physical', 'import-into'].includes(r.string('import-mode', '').toLowerCase());
  if (tidbOnly) {
    r.invalid(
      'import-mode',
      `is '${r.string('import-mode')}', which is TiDB-only (TiDB Lightning's local backend, IMPORT INTO) and not supported`,
      'Use import-mode: logical (SQL statements, the default; works on MySQL, MariaDB and TiDB).',
    );
  }
  const importMode = tidbOnly
    ? base.importMode
    : r.oneOf('import-mode', ['sql', 'logical', 'loader'] as const, base.importMode);
  const c: LoaderConfig = {
    poolSize: r.int('pool-size', base.poolSize, 1, 512),
    dir: r.string('dir', base.dir),
    importMode: importMode === 'loader' ? 'sql' : importMode,
    onDuplicate,
    sqlLogBin: r.bool('sql-log-bin', base.sqlLogBin),
  };
  r.policy(LOADER_POLICY);
  r.done([]);
  return c;
}

/** Seconds of a duration as DM writes it (Go's form: '60s', '2m', '1h30m', '30m0s', '500ms'; a
 * bare number is seconds); undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const v = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(v)) return Number(v);
  const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 0.001, s: 1, m: 60, h: 3600 };
  let total = 0;
  let rest = v;
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * unit[m[2]];
    rest = rest.slice(m[0].length);
  }
  return v ? total : undefined;
}

function readDuration(r: Reader, key: string, def: number): number {
  if (!r.has(key)) return def;
  const v = r.string(key).trim();
  const seconds = parseDuration(v);
  if (seconds === undefined) {
    r.invalid(key, `is '${v}'`, `Write a duration such as '60s', '2m', '1h30m' or '0s'.`);
    return def;
  }
  return seconds;
}

function readSyncer(r: Reader | undefined, base: SyncerConfig): SyncerConfig {
  if (!r) return base;
  const c: SyncerConfig = {
    workerCount: r.int('worker-count', base.workerCount, 1, 1024),
    batch: r.int('batch', base.batch, 1, 100_000),
    safeMode: r.bool('safe-mode', base.safeMode),
    safeModeDuration: readDuration(r, 'safe-mode-duration', base.safeModeDuration),
    compact: r.bool('compact', base.compact),
    multipleRows: r.bool('multiple-rows', base.multipleRows),
  };
  r.policy(SYNCER_POLICY);
  r.done([]);
  return c;
}

export const DEFAULT_MYDUMPER: MydumperConfig = {
  threads: 4,
  chunkFilesize: 64,
  rows: 0,
  where: '',
  skipTzUtc: false,
  statementSize: 1_000_000,
  extraArgs: '',
  noData: false,
};
export const DEFAULT_LOADER: LoaderConfig = {
  poolSize: 16,
  dir: './dumped_data',
  importMode: 'sql',
  onDuplicate: 'replace',
  sqlLogBin: true,
};
export const DEFAULT_SYNCER: SyncerConfig = {
  workerCount: 16,
  // DM's default is 100; here a batch's rows become multi-row statements, and 1000 row changes
  // per target transaction cost the target about two thirds of what 100 do (bench:incremental).
  batch: 1000,
  safeMode: false,
  safeModeDuration: 60,
  compact: false,
  multipleRows: false,
};

export const DEFAULT_VALIDATOR: ValidatorConfig = {
  mode: 'none',
  workerCount: 4,
  validateInterval: 10,
  checkInterval: 5,
  rowErrorDelay: 1800,
  metaFlushInterval: 300,
  batchQuerySize: 100,
  maxPendingRowSize: 500 * 1024 * 1024,
  maxPendingRowCount: 2 ** 31 - 1,
  startTime: '',
};

/** A size as DM writes it ('500m', '1g', '4096', '64KiB'): binary units. */
export function parseRamBytes(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) return undefined;
  const power = ' kmgtp'.indexOf((m[2] || ' ').toLowerCase());
  return Math.floor(Number(m[1]) * 1024 ** power);
}

function readValidator(r: Reader | undefined, base: ValidatorConfig): ValidatorConfig {
  if (!r) return base;
  const positive = (key: string, def: number) => {
    const v = readDuration(r, key, def);
    if (v <= 0) r.invalid(key, `is ${v}s`, 'Write a duration above zero, e.g. 5s.');
    return v > 0 ? v : def;
  };
  const sizeText = r.has('max-pending-row-size') ? r.string('max-pending-row-size') : '';
  const size = sizeText ? parseRamBytes(sizeText) : base.maxPendingRowSize;
  if (size === undefined)
    r.invalid('max-pending-row-size', `is '${sizeText}'`, "Write a size such as '500m' or '2g'.");
  const startTime = r.string('start-time', base.startTime);
  if (startTime && Number.isNaN(Date.parse(startTime.replace(' ', 'T'))))
    r.invalid(
      'start-time',
      `is '${startTime}'`,
      "Write a time such as '2021-10-21 00:01:00' or '2021-10-21T00:01:00+08:00'.",
    );
  const c: ValidatorConfig = {
    mode: r.oneOf('mode', ['', 'none', 'full', 'fast'] as const, base.mode) || 'none',
    workerCount: r.int('worker-count', base.workerCount, 1, 1024) || base.workerCount,
    validateInterval: positive('validate-interval', base.validateInterval),
    checkInterval: positive('check-interval', base.checkInterval),
    rowErrorDelay: positive('row-error-delay', base.rowErrorDelay),
    metaFlushInterval: positive('meta-flush-interval', base.metaFlushInterval),
    batchQuerySize: r.int('batch-query-size', base.batchQuerySize, 0, 100_000) || base.batchQuerySize,
    maxPendingRowSize: size ?? base.maxPendingRowSize,
    maxPendingRowCount:
      r.int('max-pending-row-count', base.maxPendingRowCount, 0, 2 ** 53) || base.maxPendingRowCount,
    startTime,
  };
  r.done([]);
  return c;
}

function named<T>(r: Reader, key: string, read: (m: Reader, name: string) => T): Map<string, T> {
  const out = new Map<string, T>();
  for (const [name, m] of r.namedMaps(key)) out.set(name, read(m, name));
  return out;
}

/** A DM name pattern (wildcards, or `~` and a regular expression), checked where it is written. */
function pattern(m: Reader, key: string, def?: string): string {
  const v = m.string(key, def);
  checkPattern(m, key, v);
  return v;
}

function checkPattern(m: Reader, key: string, v: string): void {
  try {
    namePattern(v, false);
  } catch (e) {
    m.invalid(
      key,
      `is '${v}', which is not a valid pattern: ${(e as Error).message}`,
      "Fix the regular expression after '~', or write a wildcard pattern (*, ?, [a-z]).",
    );
  }
}

function patternList(m: Reader, key: string): string[] {
  const list = m.stringList(key);
  for (const v of list) checkPattern(m, key, v);
  return list;
}

/** A GTID set of either flavour ('' when absent), checked where it is written. */
function gtidSet(m: Reader, key: string): string {
  const v = m.string(key, '');
  if (v) {
    try {
      parseGtidSet(detectGtidFlavor(v), v);
    } catch (e) {
      m.invalid(
        key,
        `is '${v}', which is not a GTID set: ${(e as Error).message}`,
        "Write MariaDB's 'domain-server-seq[,…]' (e.g. 0-1-100) or MySQL's 'uuid:1-100[,…]', as @@gtid_binlog_pos / SHOW MASTER STATUS shows it.",
      );
    }
  }
  return v;
}

function tableRefs(r: Reader, key: string): TableRef[] {
  return r.mapList(key).map((t) => {
    const ref = { dbName: pattern(t, 'db-name'), tblName: pattern(t, 'tbl-name') };
    t.done([]);
    return ref;
  });
}

function refCheck(r: Reader, kind: string, name: string, known: Map<string, unknown>, where: string): void {
  if (name && !known.has(name)) {
    r.problem(
      `${where} names ${kind} '${name}', which is not defined`,
      known.size
        ? `Define it under '${kind}', or use one of: ${[...known.keys()].join(', ')}.`
        : `Define it under '${kind}'.`,
    );
  }
}

/** DM's precheck item names (dm/config/checking_item.go); `ignore-checking-items` takes only these,
 * as DM does (an unknown name is a typo that would leave a check on). */
export const DM_CHECKING_ITEMS = [
  'all',
  'dump_privilege',
  'replication_privilege',
  'version',
  'server_id',
  'binlog_enable',
  'binlog_format',
  'binlog_row_image',
  'table_schema',
  'schema_of_shard_tables',
  'auto_increment_ID',
  'online_ddl',
  'binlog_db',
  'meta_position',
  'conn_number',
  'target_privilege',
  'empty_region',
  'region_distribution',
  'downstream_version',
  'free_space',
  'downstream_mutex_features',
  'downstream_table_empty',
  'primary_key',
] as const;

/** `online-ddl` (default on, as DM), DM's deprecated `online-ddl-scheme` (pt | gh-ost turns it
 * on) and the shadow/trash table rules (DM's defaults when none are given). */
function readOnlineDDL(r: Reader): Pick<TaskConfig, 'onlineDDL' | 'shadowTableRules' | 'trashTableRules'> {
  const scheme = r.oneOf('online-ddl-scheme', ['', 'pt', 'gh-ost'] as const, '');
  const onlineDDL = r.bool('online-ddl', true) || scheme !== '';
  if (scheme) r.warnings.push(`${r.file}: 'online-ddl-scheme' is deprecated by DM: write 'online-ddl: true'`);
  const rules = (key: string, def: string[]) => {
    const given = r.stringList(key);
    return !given.length
      ? def
      : given.flatMap((rule, i) => {
          const a = adjustRule(rule);
          if ('source' in a) return [a.source];
          r.invalid(
            key,
            `[${i}] '${rule}' ${a.problem}`,
            `Write a regular expression on the table name whose one group is the real table's name, e.g. '${def[0]}'.`,
          );
          return [];
        });
  };
  return {
    onlineDDL,
    shadowTableRules: rules('shadow-table-rules', DEFAULT_SHADOW_RULES),
    trashTableRules: rules('trash-table-rules', DEFAULT_TRASH_RULES),
  };
}

function checkingItems(r: Reader): string[] {
  const items = r.stringList('ignore-checking-items');
  for (const x of items) {
    if ((DM_CHECKING_ITEMS as readonly string[]).includes(x)) continue;
    const best = closest(x, DM_CHECKING_ITEMS);
    r.invalid(
      'ignore-checking-items',
      `names '${x}', which is not a checking item`,
      `${best ? `Did you mean '${best}'? ` : ''}DM's items: ${DM_CHECKING_ITEMS.join(', ')}.`,
    );
  }
  return items;
}

/** One binlog event filter rule (a task's named one, or one of a source file's list). */
function readFilterRule(r: Reader, m: Reader, name: string): FilterRule {
  const rule = {
    schemaPattern: pattern(m, 'schema-pattern'),
    tablePattern: pattern(m, 'table-pattern', ''),
    events: m.stringList('events'),
    sqlPattern: m.stringList('sql-pattern'),
    action: m.oneOf('action', ['Ignore', 'Do', 'Error'] as const),
  };
  m.done([]);
  try {
    eventFilter([[name, rule]], false, (w) => r.warnings.push(`${r.file}: ${w}`));
  } catch (e) {
    r.problem((e as Error).message, 'Fix the filter rule.');
  }
  return rule;
}

/** One `expression-filter` rule (DM v2.0.5+): the rows of one upstream table that match its
 * expressions are not replicated. As in DM, a rule filters inserts, updates or deletes, not two of
 * them; every expression is parsed here, so one outside the subset is an error at check-task. */
function readExprRule(m: Reader): ExprFilterRule {
  const rule: ExprFilterRule = { schema: m.string('schema'), table: m.string('table') };
  for (const [key, field] of EXPR_KEYS) {
    const text = m.optionalString(key);
    if (!text) continue;
    try {
      parseExpr(text);
      rule[field] = text;
    } catch (e) {
      m.invalid(
        key,
        `'${text}' cannot be used: ${(e as Error).message}`,
        'Write an expression of the supported subset: columns, literals, comparison, arithmetic, AND/OR/NOT, IN, BETWEEN, LIKE, IS NULL, CASE and the functions listed.',
      );
    }
  }
  const kinds = [
    rule.insertValueExpr !== undefined && 'insert-value-expr',
    (rule.updateOldValueExpr !== undefined || rule.updateNewValueExpr !== undefined) &&
      'update-old-value-expr/update-new-value-expr',
    rule.deleteValueExpr !== undefined && 'delete-value-expr',
  ].filter(Boolean);
  if (kinds.length > 1)
    m.problem(
      `'${m.path}' has ${kinds.join(' and ')}: one rule filters one kind of change (as in DM)`,
      'Split it into one rule per kind of change, each listed in mysql-instances[].expression-filters.',
    );
  else if (!kinds.length && !m.problems.length)
    m.problem(
      `'${m.path}' has no expression`,
      'Add insert-value-expr, update-old-value-expr / update-new-value-expr or delete-value-expr.',
    );
  m.done([]);
  return rule;
}

const EXPR_KEYS = [
  ['insert-value-expr', 'insertValueExpr'],
  ['update-old-value-expr', 'updateOldValueExpr'],
  ['update-new-value-expr', 'updateNewValueExpr'],
  ['delete-value-expr', 'deleteValueExpr'],
] as const;

/** The longest suffix of the tables a task keeps in its meta schema (`<task>_syncer_checkpoint`). */
const LONGEST_META_SUFFIX = '_syncer_checkpoint';
/** A task name's limit: its meta tables' names must fit MySQL's 64 characters. */
export const MAX_TASK_NAME = 64 - LONGEST_META_SUFFIX.length;

/** Parses and validates a task file's text. */
export function parseTaskConfig(text: string, file = 'task.yaml'): TaskConfig {
  const r = parseYaml(text, file);
  if (!r.keys().includes('name') && r.keys().includes('source-id')) {
    throw configError(
      file,
      'this is a source file (it has source-id), not a task file',
      'Give the task file (name, task-mode, target-database, mysql-instances) to start-task or check-task, and the source file to operate-source create.',
    );
  }
  const name = r.string('name');
  if (!/^[A-Za-z0-9_-]+$/.test(name) || name.length > MAX_TASK_NAME) {
    r.invalid(
      'name',
      `is '${name}'${name.length > MAX_TASK_NAME ? ` (${name.length} characters)` : ''}`,
      `Use 1-${MAX_TASK_NAME} letters, digits, "_" or "-": it names the checkpoint tables (\`<name>${LONGEST_META_SUFFIX}\`), and MySQL allows 64 characters in a table name.`,
    );
  }
  // is-sharding is DM's older switch: shard-mode wins when set (as in DM)
  const isSharding = r.bool('is-sharding', false);
  let shardMode = r.oneOf('shard-mode', ['', 'pessimistic', 'optimistic'] as const, '');
  if (!shardMode && isSharding) shardMode = 'pessimistic';
  const target = r.map('target-database');
  if (!target && !r.has('target-database'))
    r.problem("'target-database' is required", 'Add target-database: {host, port, user, password}.');

  const mydumpers = named(r, 'mydumpers', (m) => readMydumper(m, DEFAULT_MYDUMPER));
  const loaders = named(r, 'loaders', (m) => readLoader(m, DEFAULT_LOADER));
  const syncers = named(r, 'syncers', (m) => readSyncer(m, DEFAULT_SYNCER));
  const validators = named(r, 'validators', (m) => readValidator(m, DEFAULT_VALIDATOR));
  const routes = named(r, 'routes', (m): RouteRule => {
    const rule = {
      schemaPattern: pattern(m, 'schema-pattern'),
      tablePattern: pattern(m, 'table-pattern', ''),
      targetSchema: m.string('target-schema'),
      targetTable: m.string('target-table', ''),
    };
    const extract = (key: string, re: string): Extract | undefined => {
      const x = m.map(key);
      if (!x) return undefined;
      const e = { regexp: x.string(re), column: x.string('target-column') };
      x.done([]);
      try {
        new RegExp(e.regexp);
      } catch (err) {
        x.invalid(re, `is not a valid regular expression: ${(err as Error).message}`, 'Fix the pattern.');
      }
      return e;
    };
    const out: RouteRule = {
      ...rule,
      extractTable: extract('extract-table', 'table-regexp'),
      extractSchema: extract('extract-schema', 'schema-regexp'),
      extractSource: extract('extract-source', 'source-regexp'),
    };
    m.done([]);
    return out;
  });
  const filters = named(r, 'filters', (m, name) => readFilterRule(r, m, name));
  const exprFilters = named(r, 'expression-filter', (m) => readExprRule(m));
  const columnMappings = named(r, 'column-mappings', (m): ColumnMappingRule => {
    const rule: ColumnMappingRule = {
      schemaPattern: pattern(m, 'schema-pattern'),
      tablePattern: pattern(m, 'table-pattern', ''),
      sourceColumn: m.string('source-column', ''),
      targetColumn: m.string('target-column', ''),
      expression: m.oneOf('expression', MAPPING_EXPRESSIONS),
      arguments: m.stringList('arguments'),
    };
    if (m.string('create-table-query', ''))
      m.invalid(
        'create-table-query',
        'is not supported (DM never used it)',
        'Remove it; create the target table beforehand.',
      );
    const problem = ruleProblem(rule);
    if (problem)
      m.problem(`'${m.path}' ${problem}`, "Fix the rule's arguments (see DM v2.0's column mapping).");
    m.done([]);
    return rule;
  });
  const readBal = (key: string) =>
    named(r, key, (m): BAList => {
      const l = {
        doDbs: patternList(m, 'do-dbs'),
        ignoreDbs: patternList(m, 'ignore-dbs'),
        doTables: tableRefs(m, 'do-tables'),
        ignoreTables: tableRefs(m, 'ignore-tables'),
      };
      m.done([]);
      return l;
    });
  // black-white-list is DM's older name, used when block-allow-list is empty (as in DM)
  const bal = readBal('block-allow-list');
  const bwl = readBal('black-white-list');
  const blockAllowList = bal.size ? bal : bwl;

  const before = r.problems.length;
  const instances = r.mapList('mysql-instances');
  if (!instances.length && r.problems.length === before) {
    r.problem("'mysql-instances' is empty", 'List at least one source: mysql-instances: [{source-id: ...}].');
  }
  const seen = new Set<string>();
  const mysqlInstances = instances.map((m): InstanceConfig => {
    const sourceId = m.string('source-id');
    if (seen.has(sourceId)) {
      r.problem(`source '${sourceId}' is listed twice in 'mysql-instances'`, 'List each source once.');
    }
    seen.add(sourceId);
    const metaR = m.map('meta');
    let meta: BinlogMeta | undefined;
    if (metaR) {
      meta = {
        binlogName: metaR.string('binlog-name', ''),
        binlogPos: metaR.int('binlog-pos', 4, 4),
        binlogGtid: gtidSet(metaR, 'binlog-gtid'),
      };
      metaR.done([]);
    }
    const pick = <T>(
      nameKey: string,
      inlineKey: string,
      pool: Map<string, T>,
      read: (x: Reader | undefined, b: T) => T,
      def: T,
    ): T => {
      const n = m.optionalString(nameKey) || undefined;
      const inline = m.map(inlineKey); // null (DM's get-config output) is absent
      if (n !== undefined && inline) {
        m.invalid(
          inlineKey,
          `and ${nameKey} are both set`,
          `Keep one of them (DM refuses both too): ${nameKey} names a config of '${nameKey.replace('-config-name', 's')}'.`,
        );
      }
      if (n !== undefined) {
        refCheck(m, nameKey.replace('-config-name', 's'), n, pool, `'${m.path}.${nameKey}'`);
        return pool.get(n) ?? def;
      }
      return read(inline, def);
    };
    const inst: InstanceConfig = {
      sourceId,
      meta,
      routeRules: m.stringList('route-rules'),
      filterRules: m.stringList('filter-rules'),
      exprFilterRules: m.stringList('expression-filters'),
      columnMappingRules: m.stringList('column-mapping-rules'),
      // black-white-list is DM's older name; block-allow-list wins when both are set
      blockAllowList:
        [m.string('block-allow-list', ''), m.string('black-white-list', '')].find(Boolean) ?? '',
      mydumper: pick('mydumper-config-name', 'mydumper', mydumpers, readMydumper, DEFAULT_MYDUMPER),
      loader: pick('loader-config-name', 'loader', loaders, readLoader, DEFAULT_LOADER),
      syncer: pick('syncer-config-name', 'syncer', syncers, readSyncer, DEFAULT_SYNCER),
      validator: pick('validator-config-name', 'validator', validators, readValidator, DEFAULT_VALIDATOR),
    };
    // DM's *-thread aliases win over the configs they name; 0 (DM's get-config output) is unset.
    const thread = (key: string, max: number) => m.int(key, 0, 0, max) || undefined;
    const mt = thread('mydumper-thread', 1024);
    if (mt) inst.mydumper = { ...inst.mydumper, threads: mt };
    const lt = thread('loader-thread', 512);
    if (lt) inst.loader = { ...inst.loader, poolSize: lt };
    const st = thread('syncer-thread', 1024);
    if (st) inst.syncer = { ...inst.syncer, workerCount: st };
    for (const rr of inst.routeRules) refCheck(m, 'routes', rr, routes, `'${m.path}.route-rules'`);
    // Two rules with the same patterns claim the same tables: which one routes them is undefined.
    const claimed = new Map<string, string>();
    for (const rr of inst.routeRules) {
      const rule = routes.get(rr);
      if (!rule) continue;
      const k = `${rule.schemaPattern.toLowerCase()}\0${rule.tablePattern.toLowerCase()}`;
      const other = claimed.get(k);
      if (other !== undefined && other !== rr) {
        m.invalid(
          'route-rules',
          `names routes '${other}' and '${rr}', which both match schema-pattern '${rule.schemaPattern}'${rule.tablePattern ? ` and table-pattern '${rule.tablePattern}'` : ''}`,
          'Keep one of them, or make their patterns exclusive.',
        );
      }
      claimed.set(k, rr);
    }
    for (const fr of inst.filterRules) refCheck(m, 'filters', fr, filters, `'${m.path}.filter-rules'`);
    for (const cr of inst.columnMappingRules)
      refCheck(m, 'column-mappings', cr, columnMappings, `'${m.path}.column-mapping-rules'`);
    for (const er of inst.exprFilterRules)
      refCheck(m, 'expression-filter', er, exprFilters, `'${m.path}.expression-filters'`);
    refCheck(m, 'block-allow-list', inst.blockAllowList, blockAllowList, `'${m.path}.block-allow-list'`);
    m.policy(INSTANCE_POLICY);
    m.done([]);
    return inst;
  });

  const cfg: TaskConfig = {
    name,
    taskMode: r.oneOf('task-mode', ['full', 'incremental', 'all', 'dump', 'load', 'load&sync'] as const),
    shardMode,
    metaSchema: r.string('meta-schema', 'dm_meta'),
    caseSensitive: r.bool('case-sensitive', false),
    collationCompatible: r.oneOf('collation_compatible', ['', 'loose', 'strict'] as const, '') || 'loose',
    cleanDumpFile: r.bool('clean-dump-file', true),
    timezone: r.string('timezone', ''),
    ignoreCheckingItems: checkingItems(r),
    ...readOnlineDDL(r),
    targetDatabase: target
      ? readDB(target, 3306)
      : { host: '', port: 3306, user: '', password: '', session: {} },
    mysqlInstances,
    routes,
    filters,
    exprFilters,
    columnMappings,
    blockAllowList,
    warnings: [],
  };
  if (exprFilters.size && ['full', 'all', 'dump', 'load'].includes(cfg.taskMode))
    r.warnings.push(
      `${file}: 'expression-filter' applies to the binlog (Sync), as in DM: the rows the full copy (dump and load) takes are not filtered`,
    );
  r.policy(TASK_POLICY);
  r.done([]);
  r.finish();
  cfg.warnings = r.warnings;
  return cfg;
}

/** Parses and validates a source file's text. */
export function parseSourceConfig(text: string, file = 'source.yaml'): SourceConfig {
  const r = parseYaml(text, file);
  if (!r.keys().includes('source-id') && r.keys().includes('mysql-instances')) {
    throw configError(
      file,
      'this is a task file (it has mysql-instances), not a source file',
      'Give a source file (source-id, from) to operate-source create, and the task file to start-task.',
    );
  }
  const from = r.map('from');
  if (!from && !r.has('from'))
    r.problem("'from' is required", 'Add from: {host, port, user, password} for the upstream server.');
  const cfg: SourceConfig = {
    sourceId: r.string('source-id'),
    enableGtid: r.bool('enable-gtid', false),
    enableRelay: r.bool('enable-relay', false),
    relayBinlogName: r.string('relay-binlog-name', ''),
    relayBinlogGtid: gtidSet(r, 'relay-binlog-gtid'),
    relayDir: r.string('relay-dir', './relay_log'),
    purge: readPurge(r.map('purge')),
    flavor: r.oneOf('flavor', ['', 'mysql', 'mariadb'] as const, ''),
    serverId: r.int('server-id', 0, 0, 0xffffffff),
    from: from ? readDB(from, 3306) : { host: '', port: 3306, user: '', password: '', session: {} },
    filters: r.mapList('filters').map((m, i) => readFilterRule(r, m, `filters[${i}]`)),
    caseSensitive: r.bool('case-sensitive', false),
    warnings: [],
  };
  r.policy(SOURCE_POLICY);
  r.done([]);
  r.finish();
  cfg.warnings = r.warnings;
  return cfg;
}

/** DM's `purge` of a source file: interval (s), expires (h), remain-space (GB). */
function readPurge(p: Reader | undefined): PurgeConfig {
  const cfg = {
    interval: p?.int('interval', 3600, 0) ?? 3600,
    expires: p?.int('expires', 0, 0) ?? 0,
    remainSpace: p?.int('remain-space', 15, 0) ?? 15,
  };
  p?.done([]);
  return cfg;
}

/** The subtask config of one source of a task. */
export function subTaskConfig(task: TaskConfig, source: SourceConfig): SubTaskConfig {
  const instance = task.mysqlInstances.find((i) => i.sourceId === source.sourceId);
  if (!instance) {
    throw configError(
      'task',
      `task '${task.name}' has no mysql-instances entry for source '${source.sourceId}'`,
      'The master assigns a task only to its sources; start the task again with its file.',
    );
  }
  return {
    ...subTaskConfigs({ ...task, mysqlInstances: [instance] }, [source])[0],
    taskSources: task.mysqlInstances.length,
  };
}

/** The subtask config of each source of a task; every source of the task must be given. */
export function subTaskConfigs(task: TaskConfig, sources: SourceConfig[]): SubTaskConfig[] {
  const { mysqlInstances, ...rest } = task;
  return mysqlInstances.map((instance) => {
    const source = sources.find((s) => s.sourceId === instance.sourceId);
    if (!source) {
      throw configError(
        'task',
        `task '${task.name}' uses source '${instance.sourceId}', which is not known`,
        `Create it first (dmctl operate-source create source.yaml) or fix 'source-id'. Known: ${sources.map((s) => s.sourceId).join(', ') || 'none'}.`,
      );
    }
    return withSourceRules({ ...rest, instance, source, taskSources: mysqlInstances.length });
  });
}

/** DM's merge of a source file's filters and case-sensitive into a subtask (copyConfigFromSource):
 * each source rule is added after the task's, unless a task rule of this instance has the same
 * schema and table patterns (the task's wins, with a warning). */
function withSourceRules(st: SubTaskConfig): SubTaskConfig {
  const { source, instance } = st;
  if (!source.filters.length && !source.caseSensitive) return st;
  const filters = new Map(st.filters);
  const filterRules = [...instance.filterRules];
  const warnings = [...st.warnings];
  const same = (a: FilterRule, b: FilterRule) =>
    a.schemaPattern === b.schemaPattern && a.tablePattern === b.tablePattern;
  source.filters.forEach((rule, i) => {
    const taskRule = filterRules.find((n) => filters.get(n) && same(filters.get(n)!, rule));
    if (taskRule) {
      warnings.push(
        `source ${source.sourceId}: its filters[${i}] (schema-pattern '${rule.schemaPattern}', table-pattern '${rule.tablePattern}') is overridden by the task's filter '${taskRule}', as in DM`,
      );
      return;
    }
    const name = `source:${source.sourceId}:${i}`;
    filters.set(name, rule);
    filterRules.push(name);
  });
  return {
    ...st,
    caseSensitive: st.caseSensitive || source.caseSensitive,
    filters,
    instance: { ...instance, filterRules },
    warnings,
  };
}

export async function loadTaskFile(path: string): Promise<TaskConfig> {
  return parseTaskConfig(await readConfigFile(path), path);
}

export async function loadSourceFile(path: string): Promise<SourceConfig> {
  return parseSourceConfig(await readConfigFile(path), path);
}

async function readConfigFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw configError(path, `cannot be read: ${(e as Error).message}`, 'Check the path.');
  }
}

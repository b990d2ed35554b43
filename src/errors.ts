// The project's errors, every one in this registry: a stable code (DM's where DM has the error,
// as in DM's terror list; else one of ours from N100 up in DM's range for the class, so no code
// means two things), DM's class, where the fault lies, whether retrying can heal it (auto-resume
// retries only those), and what the operator can do. docs/errors.md is generated from it
// (`npm run docs:errors`; a unit test keeps the two equal).

export type ErrorScope = 'upstream' | 'downstream' | 'internal' | 'config';

export type ErrorClass =
  | 'database'
  | 'functional'
  | 'config'
  | 'binlog-op'
  | 'task-check'
  | 'relay-unit'
  | 'dump-unit'
  | 'load-unit'
  | 'sync-unit'
  | 'dm-master'
  | 'dm-worker'
  | 'scheduler'
  | 'dmctl'
  | 'validator';

export interface ErrorSpec {
  code: number;
  class: ErrorClass;
  scope: ErrorScope;
  /** Whether retrying (auto-resume, a client's next attempt) can heal it. */
  retryable: boolean;
  /** When it happens (docs/errors.md). */
  when: string;
  /** What to do (docs/errors.md). */
  fix: string;
  /** The fix shown with each error, unless the error names a more precise one; empty where the
   * message itself says what to do (the control plane's answers). */
  workaround: string;
}

const e = (
  code: number,
  cls: ErrorClass,
  scope: ErrorScope,
  when: string,
  fix: string,
  retryable = false,
): ErrorSpec => ({ code, class: cls, scope, retryable, when, fix, workaround: fix });

/** An error whose message says what to do: no separate workaround is shown. */
const m = (code: number, cls: ErrorClass, scope: ErrorScope, when: string, fix: string): ErrorSpec => ({
  ...e(code, cls, scope, when, fix),
  workaround: '',
});

export const ERR = {
  // ---------------------------------------------------------------- database (10xxx)
  unknown: e(
    10001,
    'database',
    'internal',
    'an error no other entry covers',
    'Report this error with the worker log.',
  ),
  execSQL: e(
    10006,
    'database',
    'downstream',
    'the target refused a statement of the load or of Sync',
    "Fix the target (schema, data or privileges) and resume-task; for Sync, skip the event with 'binlog skip' or run other SQL with 'binlog replace'.",
  ),
  authPlugin: e(
    10101,
    'database',
    'config',
    'the user authenticates with a plugin the client does not speak',
    "Use a user with mysql_native_password or caching_sha2_password: ALTER USER ... IDENTIFIED VIA mysql_native_password USING PASSWORD('...').",
  ),
  tlsConfig: e(
    10151,
    'database',
    'config',
    "a database connection's TLS settings cannot be used (a certificate file, a key without its certificate)",
    "Fix the connection's security keys (ssl-ca, ssl-cert, ssl-key).",
  ),
  tlsUnavailable: e(
    10152,
    'database',
    'config',
    'TLS was asked for and the server does not offer it (never a silent downgrade)',
    'Enable TLS on the server, or remove security to connect without it (only on a network you trust).',
  ),
  tlsHandshake: e(
    10153,
    'database',
    'config',
    'the TLS handshake with a database failed (its certificate is not trusted, not for the host, or expired)',
    "Set ssl-ca to the CA that signed the server's certificate, and connect by a name the certificate holds.",
  ),
  accessDenied: e(
    10102,
    'database',
    'upstream',
    'the upstream refuses the user or password',
    "Check the user and password in the configuration (an encrypted password must come from 'dmctl encrypt').",
  ),
  upstreamUnreachable: e(
    10103,
    'database',
    'upstream',
    'the upstream server cannot be connected to',
    "Check 'from.host', 'from.user' and 'from.password' in the source config and that the server is running.",
    true,
  ),
  downstreamUnreachable: e(
    10104,
    'database',
    'downstream',
    'the target server cannot be connected to',
    "Check 'target-database' in the task config and that the server is running.",
    true,
  ),
  upstreamPrivilege: e(
    10105,
    'database',
    'upstream',
    'the upstream user lacks a privilege a unit needs',
    'Grant it (the message names the GRANT), or use a user that has it.',
  ),
  downstreamPrivilege: e(
    10106,
    'database',
    'downstream',
    'the target user lacks a privilege a unit needs',
    'Grant it (the message names the GRANT), or use a user that has it.',
  ),
  downstreamAccessDenied: e(
    10108,
    'database',
    'downstream',
    'the target refuses the user or password',
    "Check the user and password in 'target-database' (an encrypted password must come from 'dmctl encrypt').",
  ),
  protocol: m(
    10107,
    'database',
    'internal',
    'the server speaks a protocol version or sends a packet the client does not know',
    'Check that the address is a MySQL or MariaDB server; report it if it is.',
  ),
  // ---------------------------------------------------------------- functional (11xxx)
  parseGtid: m(
    11009,
    'functional',
    'config',
    'a GTID or GTID set is not valid text',
    "Write MySQL's 'uuid:1-5,…' or MariaDB's 'domain-server-seq,…'.",
  ),
  notMysqlGtid: e(
    11011,
    'functional',
    'config',
    'a MariaDB GTID set was given for a MySQL upstream',
    "Give the upstream's own GTID set (SELECT @@gtid_executed).",
  ),
  notMariadbGtid: e(
    11012,
    'functional',
    'config',
    'a MySQL GTID set was given for a MariaDB upstream',
    "Give the upstream's own GTID set (SELECT @@gtid_binlog_pos).",
  ),
  invalidBinlogPos: m(
    11049,
    'functional',
    'config',
    'a binlog position is not valid text',
    "Write '(mysql-bin.000001, 1234)' or 'mysql-bin.000001:1234'.",
  ),
  binlogDecode: e(
    11054,
    'functional',
    'upstream',
    'a binlog event cannot be decoded',
    'Check the upstream binlog with mariadb-binlog/mysqlbinlog at this position; report it if the binlog is valid.',
  ),
  optimisticShardDDL: m(
    11111,
    'functional',
    'internal',
    'shard-mode optimistic meets a DDL it cannot merge, or shards whose DDLs conflict',
    "Make the shards' DDLs the same (binlog replace on the odd shard), or use shard-mode pessimistic.",
  ),
  handleErrorArgs: m(
    11118,
    'functional',
    'config',
    'binlog skip/replace is given wrong arguments',
    'Check the command: binlog replace needs the SQL to run instead.',
  ),
  noMasterStatus: e(
    11125,
    'functional',
    'upstream',
    'the upstream has no binary log (SHOW MASTER STATUS is empty)',
    'Enable the binlog on the upstream (log_bin, binlog_format=ROW) and restart it.',
  ),
  binlogStreamLost: e(
    11201,
    'functional',
    'upstream',
    'the binlog stream was lost and could not be reopened in time',
    'Check that the upstream runs and is reachable; resume-task (or the relay) continues from the last transaction.',
    true,
  ),
  binlogUnavailable: e(
    11202,
    'functional',
    'upstream',
    'the upstream cannot send its binlog from the start point (purged, or beyond its end)',
    'The binlog needed is gone: restart the task from a new dump, or give a start point the upstream still has (SHOW BINARY LOGS).',
  ),
  replicationPrivilege: e(
    11203,
    'functional',
    'upstream',
    'the upstream user may not read the binlog',
    "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO the source's user.",
  ),
  // ---------------------------------------------------------------- config (20xxx)
  configDecryptPassword: e(
    20010,
    'config',
    'config',
    "a password in the encrypted form does not decrypt with this cluster's key",
    "Encrypt the password again with 'dmctl --master-addr <this master> encrypt <password>' (it uses the master's secret-key-path key), or write it in plain text.",
  ),
  metaNotSet: e(
    20022,
    'config',
    'config',
    'an incremental task has neither a checkpoint nor a start position',
    "Set mysql-instances[].meta (binlog-name/binlog-pos, or binlog-gtid) in the task file, or use task-mode 'all'.",
  ),
  onlineDDLMistakeRegex: e(
    20049,
    'config',
    'config',
    "a RENAME that swaps a real table with another (gh-ost's and pt-osc's cut-over) matches only one of the task's shadow-table-rules and trash-table-rules",
    "Fix shadow-table-rules / trash-table-rules so that the tool's tables match them (DM's defaults: '^_(.+)_(?:new|gho)$', '^_(.+)_(?:ghc|del|old)$'), then resume-task.",
  ),
  startTimeTooLate: e(
    20057,
    'config',
    'internal',
    'start-task --start-time names a time after the last transaction in the binlog',
    'Check the --start-time, or try again once the upstream has written past it.',
  ),
  configSecretKeyPath: e(
    20067,
    'config',
    'config',
    "dm-master's secret-key-path names a file that cannot be read or does not hold a hex AES-256 key",
    'Write 64 hex digits (e.g. `openssl rand -hex 32 > key`) to the file, make it readable by dm-master, and check the path.',
  ),
  configFile: e(
    20101,
    'config',
    'config',
    'a task, source, master or worker file (or a flag) is invalid: the message names the file, key, line and fix',
    'Fix the file as the message says.',
  ),
  // ---------------------------------------------------------------- binlog-op (22xxx)
  invalidBinlogFilename: m(
    22002,
    'binlog-op',
    'config',
    "a binlog file name is not '<base>.<number>'",
    "Write e.g. 'mysql-bin.000001'.",
  ),
  // ---------------------------------------------------------------- relay (28xxx, 30xxx)
  relaySubDirName: m(
    28002,
    'relay-unit',
    'config',
    "a relay sub-directory name is not '<server-uuid>.<suffix>'",
    'Name a sub-directory query-status shows (relaySubDir).',
  ),
  relayPurgeForbidden: m(
    30037,
    'relay-unit',
    'config',
    'purge-relay would remove files the relay or a subtask still needs',
    'Purge only files before the one named in the message.',
  ),
  relayPurgeRequest: m(
    30039,
    'relay-unit',
    'config',
    'purge-relay names nothing the relay has',
    'Name a file and sub-directory query-status shows.',
  ),
  relayLayout: e(
    30101,
    'relay-unit',
    'internal',
    'the relay directory is damaged (index, meta or a file unreadable)',
    'Remove the relay directory named in the message: the relay starts again from the subtasks’ checkpoints.',
  ),
  relayNoGtidStart: e(
    30102,
    'relay-unit',
    'upstream',
    "no binlog file of the upstream starts at or before the source's relay-binlog-gtid",
    'Give a relay-binlog-gtid the upstream still has, or relay-binlog-name instead.',
  ),
  relayServerChanged: e(
    30103,
    'relay-unit',
    'upstream',
    'the upstream server changed and the relay cannot tell where its GTID set continues on the new one',
    'Point the source at a server that has the relayed transactions, or remove the relay directory to relay again.',
  ),
  // ---------------------------------------------------------------- dump (32xxx)
  dumpGlobalLock: e(
    32004,
    'dump-unit',
    'upstream',
    'the dump cannot take a consistent snapshot (FLUSH TABLES WITH READ LOCK or the snapshot checks fail)',
    'Wait for long statements on the upstream to end, or grant RELOAD; then resume-task.',
    true,
  ),
  // ---------------------------------------------------------------- load (34xxx)
  loadDumpDirNotFound: e(
    34014,
    'load-unit',
    'internal',
    'the load finds no finished dump in its directory',
    "Run the task with task-mode 'full' or 'all' (so the dump runs first), or restore the dump directory.",
  ),
  loadExtractColumn: e(
    34102,
    'load-unit',
    'downstream',
    "a route's extract-* target column is not a column of the target table",
    'Add the column to the target table, or fix the route.',
  ),
  // ---------------------------------------------------------------- sync (36xxx)
  statementDML: e(
    36014,
    'sync-unit',
    'upstream',
    'the binlog holds statement-based DML on a replicated table (binlog_format STATEMENT or MIXED)',
    "Set binlog_format=ROW on the upstream; apply the statement's change by hand and 'binlog skip' it, or 'binlog replace' it.",
  ),
  eventFilterError: e(
    36015,
    'sync-unit',
    'config',
    'a binlog event filter with action Error matches an event',
    "Change the upstream or the task's filters, then resume-task; or skip the event with 'binlog skip'.",
  ),
  onlineDDLInvalidMeta: e(
    36039,
    'sync-unit',
    'downstream',
    "a row of the meta schema's <task>_onlineddl table (the ALTERs recorded for an online schema change) cannot be read",
    "Restore the row, or delete it and apply the online schema change's ALTER on the target by hand before its cut-over RENAME (then 'binlog skip' the RENAME).",
  ),
  onlineDDLUnsupported: e(
    36045,
    'sync-unit',
    'upstream',
    'an online schema change statement Sync cannot follow: a RENAME that swaps several tables at once, mixes real and online tables, or renames a table to a shadow table (or a trash table back to a real one)',
    "Apply its effect on the target by hand and 'binlog skip' it, or 'binlog replace' it with statements for the real tables; then resume-task.",
  ),
  onlineDDLMissing: e(
    36046,
    'sync-unit',
    'upstream',
    "an online schema change's cut-over RENAME with no ALTER recorded for its shadow table: the tool began before the task's start position",
    "Run the online schema change's ALTER on the target table by hand, then 'binlog skip' the RENAME and resume-task (the precheck's online_ddl item warns of this at start).",
  ),
  rowNotMatchTable: e(
    36027,
    'sync-unit',
    'downstream',
    "a binlog row's columns do not match the target table",
    'Make the target table match the upstream one (a DDL may have been skipped or changed by hand), then resume-task.',
  ),
  targetTableMissing: e(
    36054,
    'sync-unit',
    'downstream',
    'a replicated table does not exist on the target',
    'Create it on the target (or let the dump create it), or exclude it with block-allow-list; then resume-task.',
  ),
  shardDDLConflict: e(
    36062,
    'sync-unit',
    'internal',
    'the shards of a merged table have different DDLs',
    "Make the shards' DDLs the same (binlog replace on the odd shard), or resolve the lock by hand with shard-ddl-lock unlock; then resume-task.",
  ),
  noFailedEvent: e(
    36065,
    'sync-unit',
    'config',
    'binlog skip/replace without a position, and no event has failed',
    'Give the position explicitly, e.g. --binlog-pos "(mysql-bin.000001, 1234)".',
  ),
  shardDDLUnsupported: e(
    36101,
    'sync-unit',
    'internal',
    'a shard table has a DDL shard-mode pessimistic cannot coordinate (it would affect every shard on the merged table)',
    "Skip it with 'binlog skip' (or run what fits the merged table with 'binlog replace').",
  ),
  exprFilterEval: e(
    36103,
    'sync-unit',
    'config',
    'an expression filter cannot be evaluated on a row',
    "Correct the task's expression-filter rule (or the table it names), then start the task again.",
  ),
  columnMapping: e(
    36104,
    'sync-unit',
    'config',
    "a column mapping (column-mappings) cannot map a table's rows",
    "Correct the task's column-mappings rule (its patterns, arguments or target-column) or the data, then start the task again.",
  ),
  shardNeedsCoordinator: e(
    36102,
    'sync-unit',
    'internal',
    'a task with a shard-mode runs without the master that coordinates the shards',
    'Run the task through dm-master (or run-task).',
  ),
  // ---------------------------------------------------------------- dm-master (38xxx)
  lockNotFound: m(
    38019,
    'dm-master',
    'config',
    'shard-ddl-lock names a lock that does not exist',
    'shard-ddl-lock lists the locks.',
  ),
  masterHostPort: m(
    38035,
    'dm-master',
    'config',
    "an address is not 'host:port'",
    'Write host:port, e.g. 127.0.0.1:8261.',
  ),
  masterEtcdConfig: m(
    38037,
    'dm-master',
    'config',
    "a dm-master's cluster flags do not fit together (--name, --initial-cluster, --peer-urls, --advertise-peer-urls, --join, --data-dir)",
    'Fix the flag the message names.',
  ),
  masterEtcd: m(
    38038,
    'dm-master',
    'internal',
    "the master's etcd member cannot start or serve (port in use, etcd not installed, data of another cluster)",
    'See the message and <data-dir>/etcd.log; check that every master of --initial-cluster runs.',
  ),
  masterJoin: m(
    38040,
    'dm-master',
    'config',
    'a dm-master started with --join cannot join the cluster',
    'Check that --join names a running dm-master (host:port of its --master-addr).',
  ),
  notLeader: e(
    38043,
    'dm-master',
    'internal',
    'this dm-master is not the leader (or has just stopped being it) and cannot forward the request',
    'Retry: dmctl with every master in --master-addr reaches the new leader within seconds.',
    true,
  ),
  masterNameNotExist: m(
    38048,
    'dm-master',
    'config',
    'offline-member --master or operate-leader names a master that is not in the cluster',
    'list-member shows the masters.',
  ),
  unreachable: e(
    38101,
    'dm-master',
    'internal',
    'a dm-master or dm-worker cannot be reached (down, restarting, or the connection dropped)',
    'Check that the process at that address runs; the call is tried again.',
    true,
  ),
  wrongPeer: m(
    38102,
    'dm-master',
    'config',
    'the process at an address is not the one expected (a worker where a master should be, or not ours)',
    'Point the client at the right address (dmctl --master-addr, dm-worker --join).',
  ),
  masterState: m(
    38103,
    'dm-master',
    'internal',
    "the master's state file or data directory cannot be used",
    'Restore the file from a backup, stop the other process using the directory, or give another --data-dir.',
  ),
  badRequest: m(
    38104,
    'dm-master',
    'config',
    'a request names an unknown operation or lacks what it needs',
    'Check the command (dmctl --help).',
  ),
  remote: m(
    38105,
    'dm-master',
    'internal',
    'another process answered with an error that has no code',
    'See the message.',
  ),
  // ---------------------------------------------------------------- dm-worker (40xxx)
  workerRelayStage: m(
    40039,
    'dm-worker',
    'config',
    'a relay operation meets a source without a relay, or in the wrong stage',
    'Set enable-relay: true in the source file and create the source again.',
  ),
  workerSubTaskNotFound: m(
    40054,
    'dm-worker',
    'config',
    'a worker is asked about a subtask it does not run',
    'query-status shows where each subtask runs.',
  ),
  notSyncing: m(
    40056,
    'dm-worker',
    'config',
    'binlog skip/replace on a subtask that is not paused by a Sync error',
    'query-status shows which subtasks are paused by an error.',
  ),
  routeDupMatch: e(
    40080,
    'dm-worker',
    'config',
    'a table matches two route rules of the same level',
    "Change the rules' schema-pattern/table-pattern so each table matches one of them, then update the task (stop-task, start-task).",
  ),
  workerNameTaken: m(
    40101,
    'dm-worker',
    'config',
    'a worker joins with the name of another online worker',
    'Give this worker another --name.',
  ),
  // ---------------------------------------------------------------- validator (43xxx)
  validatorOperation: m(
    43009,
    'validator',
    'internal',
    'a validation command cannot be carried out (a first-start option on a validator that ran, an error id that does not exist), or the validator holds more pending rows than its limits',
    'The message names the fix; validation status shows where each validator is.',
  ),
  validatorNotFound: m(
    43006,
    'validator',
    'config',
    'a validation command names a task or source with no subtask here',
    'query-status lists the tasks and their sources.',
  ),
  // ---------------------------------------------------------------- check-data, cutover (49xxx, ours)
  checkDataJob: m(
    49001,
    'dm-master',
    'internal',
    'check-data cannot compare (no such source or table, a subtask paused or behind, a server error) or its job is unknown',
    'The message names the cause; resume the task or name existing tables, then run check-data again.',
  ),
  cutoverRefused: m(
    49002,
    'dm-master',
    'internal',
    'cutover refuses: a subtask is not syncing, a sharding DDL lock is pending, validation has error rows, or the target did not reach the final position',
    'The message lists every reason; fix them and run cutover again.',
  ),
  // ---------------------------------------------------------------- scheduler (46xxx)
  workerInvalidTransfer: m(
    46006,
    'scheduler',
    'internal',
    'transfer-source names a worker that does not exist, is offline or runs another source',
    'Pick an online free worker (list-member --worker).',
  ),
  transferNeedsSync: m(
    46019,
    'scheduler',
    'internal',
    'transfer-source while a running subtask of the source is not in its Sync unit',
    'Wait until the subtasks reach Sync, or pause-task them first.',
  ),
  relayWorkersWrongBound: m(
    46021,
    'scheduler',
    'internal',
    "start-relay / stop-relay names a worker that is not the source's",
    'Omit the worker names: the relay runs on the worker the source is bound to.',
  ),
  sourceExists: m(
    46007,
    'scheduler',
    'config',
    'operate-source create names a source that exists',
    'operate-source stop it first to replace it.',
  ),
  sourceNotExist: m(
    46008,
    'scheduler',
    'config',
    'a command names a source that does not exist',
    'operate-source show lists the sources.',
  ),
  sourceHasTasks: m(
    46010,
    'scheduler',
    'config',
    'operate-source stop names a source a task still uses',
    'stop-task those tasks first.',
  ),
  taskExists: m(
    46014,
    'scheduler',
    'config',
    'start-task names a task that exists and is not stopped',
    'stop-task it first, or give the new task another name.',
  ),
  stageTransition: m(
    46015,
    'scheduler',
    'config',
    'an operation the subtask stage does not allow (e.g. resume a running task)',
    'query-status shows the stage; the message names the allowed ones.',
  ),
  subTaskNotExist: m(
    46017,
    'scheduler',
    'config',
    'a command names a source the task has no subtask on',
    'query-status lists the task’s sources.',
  ),
  taskNotExist: m(
    46018,
    'scheduler',
    'config',
    'a command names a task that does not exist',
    'query-status lists the tasks.',
  ),
  // ---------------------------------------------------------------- dmctl (48xxx)
  dmctlUsage: m(
    48101,
    'dmctl',
    'config',
    'a dmctl command line is incomplete or wrong',
    'See dmctl <command> --help.',
  ),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorName = keyof typeof ERR;

/** The spec of a code, when it is one of ours. */
export function specOf(code: number): ErrorSpec | undefined {
  return Object.values(ERR).find((s) => s.code === code);
}

export interface DMErrorInit {
  message: string;
  /** More precise than the spec's. */
  workaround?: string;
  /** Overrides the spec's (a wrapped server error that is transient). */
  retryable?: boolean;
  cause?: unknown;
}

export class DMError extends Error {
  readonly code: number;
  readonly class: ErrorClass;
  readonly scope: ErrorScope;
  readonly workaround: string;
  readonly retryable: boolean;

  constructor(spec: ErrorSpec, init: DMErrorInit | string) {
    const i = typeof init === 'string' ? { message: init } : init;
    super(i.message, i.cause === undefined ? undefined : { cause: i.cause });
    this.name = 'DMError';
    this.code = spec.code;
    this.class = spec.class;
    this.scope = spec.scope;
    this.workaround = i.workaround ?? spec.workaround;
    this.retryable = i.retryable ?? spec.retryable;
  }

  /** One line for a person: `[code=10002:class=binlog:scope=upstream] message. Workaround: …` */
  override toString(): string {
    const w = this.workaround ? ` Workaround: ${this.workaround}` : '';
    return `[code=${this.code}:class=${this.class}:scope=${this.scope}] ${this.message}${w}`;
  }
}

/** Whether `e` is the registry error `spec`. */
export function isError(e: unknown, spec: ErrorSpec): e is DMError {
  return e instanceof DMError && e.code === spec.code;
}

/** Binlog decoding failed at a known place; never retryable (the same bytes fail again). */
export class BinlogDecodeError extends DMError {
  constructor(
    message: string,
    readonly file: string,
    readonly pos: number,
    readonly eventType?: number,
  ) {
    super(
      ERR.binlogDecode,
      `binlog event at (${file}, ${pos})${eventType === undefined ? '' : ` of type ${eventType}`}: ${message}`,
    );
    this.name = 'BinlogDecodeError';
  }
}

/** An error as plain data, to cross to another thread (fromWire makes it an error again). */
export interface WireError {
  message: string;
  stack?: string;
  /** A registry error's code, and what it was raised with. */
  dm?: { code: number; workaround: string; retryable: boolean };
  cause?: WireError;
}

export function toWire(e: unknown): WireError {
  const err = e instanceof Error ? e : new Error(String(e));
  return {
    message: err.message,
    stack: err.stack,
    dm:
      err instanceof DMError
        ? { code: err.code, workaround: err.workaround, retryable: err.retryable }
        : undefined,
    cause: err.cause === undefined ? undefined : toWire(err.cause),
  };
}

export function fromWire(w: WireError): Error {
  const cause = w.cause && fromWire(w.cause);
  const spec = w.dm && specOf(w.dm.code);
  const e = spec
    ? new DMError(spec, {
        message: w.message,
        workaround: w.dm!.workaround,
        retryable: w.dm!.retryable,
        cause,
      })
    : new Error(w.message, cause ? { cause } : undefined);
  if (w.stack) e.stack = w.stack;
  return e;
}

// The Sync unit: follows the upstream binlog from its checkpoint (or the dump's position, or the
// task's `meta`), turns row changes into SQL, and applies whole upstream transactions on
// `syncers.worker-count` appliers in parallel where causality allows, each commit carrying its
// checkpoint. DDLs are barriers, applied alone in binlog order.
import { BinlogClient } from '../../binlog/client.js';
import { parseGtidSet, type GtidSet } from '../../binlog/gtid.js';
import {
  comparePosition,
  formatPosition,
  parsePosition,
  type BinlogPosition,
} from '../../binlog/position.js';
import { DMError } from '../../errors.js';
import type { Logger } from '../../log.js';
import {
  downstreamRole,
  masterStatus,
  openConnection,
  privilegeError,
  quoteId,
  quoteString,
  quoteTable,
  TARGET_SQL_MODE,
  upstreamRole,
} from '../../mysql/connect.js';
import { ServerError, type PacketConnection } from '../../mysql/protocol.js';
import { blockAllowFilter, type TableFilter } from '../../rules/balist.js';
import { routeStatement, routerOf, type Router } from '../../rules/route.js';
import { eventFilter, type EventFilter } from '../../rules/event-filter.js';
import { SchemaTracker } from '../../schema/tracker.js';
import type { SubTaskConfig } from '../../task/config.js';
import { isMissingMeta } from '../meta.js';
import { errorResult, isRetryableServerError, okResult, type ProcessResult, type Unit } from '../unit.js';
import { Applier, statementsOf, type CompiledTxn } from './applier.js';
import { Causality, type Dependency } from './causality.js';
import { SyncCheckpoint, type Mark } from './checkpoint.js';
import { keepsKeys, rowKeys, targetTable, unsignedValues, type RowChange, type TargetTable } from './dml.js';
import { TxnAssembler, type Txn } from './txn.js';
import type { BinlogEvent, ColumnInfo, RowsEvent, TableMapEvent } from '../../binlog/events.js';
import type { RowColumns } from '../../binlog/decoder.js';
import { RelayReader } from '../relay/reader.js';
import type { RelayUnit } from '../relay/relay.js';
import { parseRelayName } from '../relay/layout.js';
import { ShardSync, type ShardCoordinator } from './shard.js';
import { Fifo } from '../../fifo.js';

/** DDL errors that mean "already done" when a DDL is replayed right after a restart. */
const REPLAYED_DDL_ERRNOS = new Set([1007, 1008, 1050, 1051, 1054, 1060, 1061, 1091, 1146, 1176]);

/** A position as the upstream names it (a relay name of a later relay sub-directory carries the
 * sub-directory's suffix: mysql-bin|000002.000003). */
function upstreamPos(p: BinlogPosition): BinlogPosition {
  return { file: parseRelayName(p.file).file, pos: p.pos };
}

/** A target table for an upstream table map, with what a route's extract-* columns add. */
interface TableEntry {
  tableId: number;
  columns: number;
  t: TargetTable;
  extra: string[];
  /** The event filter's verdict per row action (once known). */
  admit: Partial<Record<RowsEvent['action'], boolean>>;
}

export class SyncError extends DMError {
  constructor(message: string, workaround: string, retryable: boolean, cause?: unknown) {
    super({ code: 36001, class: 'sync', scope: 'downstream', message, workaround, retryable, cause });
  }
}

export class SyncUnit implements Unit {
  readonly name = 'Sync' as const;
  private readonly checkpoint: SyncCheckpoint;
  private readonly filter: TableFilter;
  private readonly router: Router;
  private readonly events: EventFilter;
  private totalEvents = 0;
  private startedAt = 0;
  private recent: { t: number; events: number }[] = [];
  private lwm?: Mark;
  private lwmGtid?: GtidSet;
  private master?: { pos: BinlogPosition; gtid: string };
  /** When `master` was read off the upstream (ms). */
  private masterAt = 0;
  private running = false;
  private refreshing?: Promise<void>;
  private readonly pending = new Fifo<Txn>();
  private done = new Set<number>();
  private lastRead = 0;

  private readonly shard?: ShardSync;

  constructor(
    private readonly cfg: SubTaskConfig,
    /** Where to start when there is no checkpoint yet (the dump's position in `all` mode). */
    private readonly startHint: () => Promise<Mark | undefined>,
    private readonly log: Logger,
    /** The sharding DDL locks (needed with shard-mode pessimistic). */
    coordinator?: ShardCoordinator,
    /** The source's relay unit (enable-relay): Sync reads its files instead of the upstream. */
    private readonly relay?: RelayUnit,
  ) {
    this.checkpoint = new SyncCheckpoint(cfg.metaSchema, cfg.name, cfg.instance.sourceId);
    const bal = cfg.instance.blockAllowList ? cfg.blockAllowList.get(cfg.instance.blockAllowList) : undefined;
    this.filter = blockAllowFilter(bal, cfg.caseSensitive);
    this.router = routerOf(cfg.instance.routeRules, cfg.routes, cfg.caseSensitive, cfg.instance.sourceId);
    this.events = eventFilter(
      cfg.instance.filterRules.map((n) => [n, cfg.filters.get(n)!]),
      cfg.caseSensitive,
    );
    if (cfg.shardMode) {
      if (!coordinator) throw new Error(`shard-mode ${cfg.shardMode} needs a sharding DDL coordinator`);
      this.shard = new ShardSync(cfg.name, cfg.shardMode, coordinator, this.router);
    }
  }

  /** The sharding DDL lock this subtask waits on (query-status `unresolvedDDLLockID`). */
  lockId(): string {
    return this.shard?.lockId() ?? '';
  }

  /** Whether the block-allow list and the event filter let a DDL through. */
  private admitsDDL(txn: Txn): boolean {
    const { info, query, schema } = txn.ddl!;
    const t = info.tables[0];
    if (t && !this.filter.table(t.db, t.table)) return false;
    return this.admits(t?.db ?? schema, t?.table ?? '', info.op, txn.endText, query);
  }

  /** The upstream's tables the block-allow list admits. */
  private async upstreamTables(c: PacketConnection): Promise<Array<{ db: string; table: string }>> {
    const rows = await c.query(
      "SELECT TABLE_SCHEMA s, TABLE_NAME t FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE'",
    );
    return rows.map((r) => ({ db: r.s!, table: r.t! })).filter((t) => this.filter.table(t.db, t.table));
  }

  /** The binlog event filter's verdict; `Error` stops the subtask with the rule's reason. */
  private admits(db: string, table: string, event: string, at: string, sql?: string): boolean {
    const a = this.events.action(db, table, event, sql);
    if (a === 'Error') {
      throw new SyncError(
        `a binlog event filter with action Error matches ${event} on ${quoteId(db)}${table ? '.' + quoteId(table) : ''} (binlog ${at})`,
        "Change the upstream or the task's filters, then resume-task; or skip the event with 'binlog skip'.",
        false,
      );
    }
    return a === 'Do';
  }

  async init(): Promise<void> {}

  /** Whether no checkpoint exists yet (nothing synced by an earlier run). */
  async isFresh(): Promise<boolean> {
    const c = await this.connectTarget();
    try {
      return (await this.checkpoint.load(c)) === undefined;
    } catch (e) {
      if (isMissingMeta(e)) return true;
      throw e;
    } finally {
      c.close();
    }
  }

  async removeMeta(): Promise<void> {
    const c = await this.connectTarget();
    try {
      await this.checkpoint.clear(c);
    } finally {
      c.close();
    }
  }

  async close(): Promise<void> {}

  status(): Record<string, unknown> {
    // The upstream is at least where Sync has read: a master position polled earlier is stale.
    if (this.lwm && (!this.master || comparePosition(upstreamPos(this.lwm.pos), this.master.pos) > 0)) {
      this.master = { pos: upstreamPos(this.lwm.pos), gtid: this.mark().gtid };
    }
    const now = Date.now();
    const secs = this.startedAt ? (now - this.startedAt) / 1000 : 0;
    // events per second over about the last second
    const old = this.recent.find((r) => r.t >= now - 1100) ?? { t: now, events: this.totalEvents };
    const recentSecs = Math.max(0.1, (now - old.t) / 1000);
    if (!this.running) this.refreshMaster();
    // Not running: caught up only against a position the upstream gave just now.
    const fresh = this.running || now - this.masterAt < 3000;
    const synced =
      fresh &&
      !!this.master &&
      !!this.lwm &&
      comparePosition(upstreamPos(this.lwm.pos), this.master.pos) >= 0 &&
      !this.pending.length;
    const behind = synced
      ? 0
      : this.pending.length
        ? now / 1000 - this.pending.at(0)!.timestamp
        : this.lastRead
          ? now / 1000 - this.lastRead
          : 0;
    return {
      totalEvents: String(this.totalEvents),
      totalTps: String(secs > 0 ? Math.round(this.totalEvents / secs) : 0),
      recentTps: String(Math.round((this.totalEvents - old.events) / recentSecs)),
      masterBinlog: this.master ? formatPosition(this.master.pos) : '',
      masterBinlogGtid: this.master?.gtid ?? '',
      syncerBinlog: this.lwm ? formatPosition(this.lwm.pos) : '',
      syncerBinlogGtid: this.lwmGtid?.toString() ?? this.lwm?.gtid ?? '',
      ...(this.shard?.status() ?? { blockingDDLs: [], unresolvedGroups: [] }),
      synced,
      secondsBehindMaster: String(Math.max(0, Math.round(behind))),
    };
  }

  private get safeMode(): boolean {
    return this.cfg.instance.syncer.safeMode || this.autoSafeUntil !== undefined;
  }

  private autoSafeUntil?: BinlogPosition;
  /** Where the last apply error happened (the end position of the transaction). */
  private errorAt?: string;
  /** Operator decisions for failing transactions: skip them, or apply other SQL instead. */
  private readonly errorOps = new Map<string, { op: 'skip' | 'replace'; sqls: string[] }>();

  /** DM's `binlog skip` / `binlog replace`: for the transaction at `position` (default: the one
   * that failed last), skip it or run `sqls` instead, when the unit runs again. */
  handleError(op: 'skip' | 'replace', sqls: string[] = [], position?: string): string {
    const pos = position ?? this.errorAt;
    if (!pos) {
      throw new DMError({
        code: 36020,
        class: 'sync',
        scope: 'internal',
        message: 'there is no failed binlog event to skip or replace',
        workaround: 'Give the position explicitly, e.g. --binlog-pos "(mysql-bin.000001, 1234)".',
      });
    }
    if (op === 'replace' && !sqls.length) {
      throw new DMError({
        code: 36021,
        class: 'sync',
        scope: 'internal',
        message: 'binlog replace needs the SQL to run instead',
        workaround: 'Give one or more statements.',
      });
    }
    this.errorOps.set(formatPosition(parsePosition(pos)), { op, sqls });
    return pos;
  }

  async process(signal: AbortSignal): Promise<ProcessResult> {
    this.running = true;
    try {
      for (;;) {
        const r = await this.syncOnce(signal);
        if (r !== 'resync') return r;
        this.log.info('sync: re-syncing from the checkpoint after a sharding DDL was resolved');
      }
    } finally {
      this.running = false;
    }
  }

  /** While Sync does not run (paused, stopped), status() asks the upstream where it is, at most
   * once a second, so masterBinlog stays live and `synced` is judged against a fresh position. */
  private refreshMaster(): void {
    if (this.refreshing || Date.now() - this.masterAt < 1000) return;
    this.refreshing = (async () => {
      const c = await openConnection(this.cfg.source.from, upstreamRole('sync'));
      try {
        await this.pollMaster(c);
      } finally {
        c.close();
      }
    })()
      .catch((e: Error) => this.log.debug({ err: e.message }, 'sync: cannot read the upstream position'))
      .finally(() => (this.refreshing = undefined));
  }

  /** One run from the checkpoint; 'resync' when a sharding DDL lock was resolved and the
   * held-back transactions must be read again. */
  private async syncOnce(signal: AbortSignal): Promise<ProcessResult | 'resync'> {
    const conns: PacketConnection[] = [];
    let resync = false;
    let held = 0;
    let client: { batches(): AsyncGenerator<BinlogEvent[]>; close(): void } | undefined;
    let reader: RelayReader | undefined;
    const appliers: Applier[] = [];
    let failure: unknown;
    const fail = (e: unknown) => {
      failure ??= e;
      client?.close();
    };
    const onAbort = () => client?.close();
    signal.addEventListener('abort', onAbort);
    let timer: NodeJS.Timeout | undefined;
    let shardTimer: NodeJS.Timeout | undefined;
    try {
      this.startedAt = Date.now();
      this.pending.clear();
      this.between = undefined;
      this.done.clear();
      const target = await this.connectTarget();
      conns.push(target);
      const serial = serialize();
      try {
        await this.checkpoint.prepare(target);
      } catch (e) {
        throw privilegeError(
          e,
          downstreamRole('sync'),
          this.cfg.targetDatabase.user,
          `create ${this.checkpoint.table}`,
          `GRANT ALL ON ${quoteId(this.cfg.metaSchema)}.* TO {user}`,
        );
      }
      let upstream = await openConnection(this.cfg.source.from, upstreamRole('sync'));
      conns.push(upstream);
      await this.pollMaster(upstream);
      const flavor = upstream.flavor;

      // Where to start: own checkpoint, else the dump's position, else the task's meta.
      const rec = await this.checkpoint.load(target);
      let start: Mark | undefined = rec?.start;
      const skip = rec?.skip ?? new Set<string>();
      this.autoSafeUntil = undefined;
      if (!start) start = await this.startHint();
      if (!start) {
        const meta = this.cfg.instance.meta;
        if (!meta || (!meta.binlogName && !meta.binlogGtid)) {
          throw new DMError({
            code: 36002,
            class: 'sync',
            scope: 'config',
            message: `incremental task '${this.cfg.name}' has no start position for source '${this.cfg.instance.sourceId}' and no checkpoint`,
            workaround:
              "Set mysql-instances[].meta (binlog-name/binlog-pos, or binlog-gtid) in the task file, or use task-mode 'all'.",
          });
        }
        start = { pos: { file: meta.binlogName, pos: meta.binlogPos }, gtid: meta.binlogGtid };
        // The data may already hold changes after a user-given position: idempotent SQL until the
        // position the upstream had when we started.
        if (this.cfg.instance.syncer.safeModeDuration > 0) this.autoSafeUntil = this.master?.pos;
      }
      if (start.pos.file && !start.gtid && flavor === 'mariadb') {
        const r = await upstream.query(
          `SELECT BINLOG_GTID_POS(${quoteString(start.pos.file)}, ${start.pos.pos}) g`,
        );
        start = { ...start, gtid: r[0]?.g ?? '' };
      }
      this.lwm = start;
      this.lwmGtid = start.gtid ? parseGtidSet(flavor, start.gtid) : undefined;
      this.log.info(
        { from: formatPosition(start.pos), gtid: start.gtid, skip: skip.size, safeMode: this.safeMode },
        'sync: starting',
      );
      // Keep the recovered "already applied" list until the low-water mark passes it.
      await serial(() => target.exec(this.checkpoint.saveSQL('', { lwm: start!, applied: [...skip] })));

      const tracker = new SchemaTracker((sql) => serial(() => target.query(sql)));
      // Free transactions fill one applier with up to `batch` statements (DM's batch: DMLs per
      // target transaction) before the next gets any: a commit then carries several upstream
      // transactions (one round trip, one checkpoint row, one target commit for all of them)
      // instead of round robin's one or two, and large transactions still spread out.
      const batchSize = this.cfg.instance.syncer.batch;
      // Transactions read ahead of the low-water mark: enough to fill every applier's batch; more
      // only makes later transactions depend on earlier ones in other appliers (a longer wait).
      const window = Math.max(256, this.cfg.instance.syncer.workerCount * batchSize);
      let filling = 0;
      const causality = new Causality(this.cfg.instance.syncer.workerCount, () => {
        if (appliers[filling].queuedChanges < batchSize) return filling;
        let best = filling;
        for (let k = 1; k < appliers.length; k++) {
          const i = (filling + k) % appliers.length;
          if (appliers[i].queuedChanges < appliers[best].queuedChanges) best = i;
        }
        return (filling = best);
      });
      const lwmNow = () => this.mark();
      const depWaiters: { deps: Dependency[]; ready: () => void }[] = [];
      for (let i = 0; i < this.cfg.instance.syncer.workerCount; i++) {
        const c = await this.connectTarget();
        conns.push(c);
        const a: Applier = new Applier(
          i,
          c,
          this.cfg.instance.syncer.batch,
          lwmNow,
          (state) => this.checkpoint.saveSQL(`applier-${i}`, state),
          (pos, lwm) => comparePosition(pos, lwm.pos) > 0,
          (ap, txns) => {
            for (const t of txns) this.complete(t);
            causality.commit(ap.index, txns[txns.length - 1].seq);
            for (let k = depWaiters.length - 1; k >= 0; k--) {
              if (causality.met(depWaiters[k].deps)) depWaiters.splice(k, 1)[0].ready();
            }
          },
          (e, t, sql) => fail(this.applyError(e, t, sql)),
          { met: (d) => causality.met(d), wait: (deps, ready) => depWaiters.push({ deps, ready }) },
        );
        appliers.push(a);
        void a.run();
      }

      // The global row follows the low-water mark once a second (it matters when no applier commits,
      // e.g. for transactions of filtered tables), and the master position is refreshed.
      let saved = formatPosition(start.pos);
      // Applied beyond the low-water mark by this row's writer: the recovered list, and DDLs run
      // while a held-back shard transaction keeps the mark behind them.
      let beyond = [...skip];
      const saveGlobal = () => {
        const l = this.lwm!;
        saved = formatPosition(l.pos);
        beyond = beyond.filter((s) => comparePosition(parsePosition(s), l.pos) > 0);
        return serial(() => target.exec(this.checkpoint.saveSQL('', { lwm: this.mark(), applied: beyond })));
      };
      timer = setInterval(() => {
        void (async () => {
          reader?.retainFrom(this.lwm!.pos);
          if (formatPosition(this.lwm!.pos) !== saved) await saveGlobal();
          await this.pollMaster(upstream).catch((e: Error) => {
            // Only the status's masterBinlog waits for it: the stream reconnects by itself (or
            // comes from the relay), so an upstream restart must not fail the subtask.
            this.log.debug({ err: e.message }, 'sync: cannot read the upstream position');
            upstream.close();
            void openConnection(this.cfg.source.from, upstreamRole('sync'))
              .then((c) => {
                if (failure || signal.aborted) return c.close();
                conns.push(c);
                upstream = c;
              })
              .catch(() => undefined);
          });
        })().catch((e) => fail(e));
      }, 1000);
      const shard = this.shard;
      if (shard) {
        await shard.start(await this.upstreamTables(upstream));
        let polling = false;
        shardTimer = setInterval(() => {
          if (polling || !shard.waitingCount || resync) return;
          polling = true;
          void (async () => {
            for (const g of await shard.poll()) {
              if (g.verdict === 'exec') {
                for (const sql of g.ddls) {
                  try {
                    await serial(() => target.exec(sql));
                  } catch (e) {
                    throw this.applyError(e, { txn: this.pending.at(0)!, changes: [], sql: [sql] }, sql);
                  }
                  this.log.info({ ddl: sql, target: g.target }, 'sync: sharding DDL executed (lock owner)');
                }
                tracker.invalidate(g.name.db, g.name.table);
              }
              await shard.resolved(g.target, g.verdict);
              resync = true;
              client?.close();
              return;
            }
          })()
            .catch((e) => fail(e))
            .finally(() => (polling = false));
        }, 300);
      }

      // By GTID when the source says so (first start only: a checkpoint's file/pos is exact), or
      // when only a GTID set is known (meta with binlog-gtid alone).
      const useGtid = !!start.gtid && (!start.pos.file || (this.cfg.source.enableGtid && !rec));
      reader = await this.relayReader(start);
      client =
        reader ??
        new BinlogClient({
          ...this.cfg.source.from,
          serverId: this.cfg.source.serverId || 1_000_000 + Math.floor(Math.random() * 1_000_000_000),
          start: useGtid ? { gtid: start.gtid } : { file: start.pos.file, pos: start.pos.pos },
          heartbeatMs: 1000,
          rowColumns: this.rowColumns,
        });
      if (signal.aborted) client.close();
      const asm = new TxnAssembler(start.pos.file);
      let firstTxn = true;
      for await (const batch of client.batches()) {
        if (failure) break;
        for (const ev of batch) {
          this.totalEvents++;
          const txn = asm.feed(ev);
          if (!txn) {
            // Between transactions (a rotate, FLUSH LOGS' events): once nothing is in flight the
            // low-water mark moves on to here, so `synced` tells the truth.
            if (asm.idle && ev.header.logPos > 0 && ev.kind !== 'heartbeat') {
              this.between =
                ev.kind === 'rotate'
                  ? { file: ev.nextFile, pos: ev.position }
                  : { file: asm.file, pos: ev.header.logPos };
              this.passBetween();
            }
            continue;
          }
          this.lastRead = txn.timestamp;
          this.pending.push(txn);
          if (skip.has(txn.endText)) {
            this.complete(txn);
            continue;
          }
          const op = this.errorOps.get(txn.endText);
          if (op) {
            await Promise.all(appliers.map((a) => a.idle()));
            if (failure) break;
            for (const sql of op.sqls) {
              try {
                await serial(() => target.exec(sql));
              } catch (e) {
                throw this.applyError(e, { txn, changes: [], sql: [sql] }, sql);
              }
            }
            this.log.warn(
              { at: txn.endText, op: op.op, sqls: op.sqls },
              `sync: binlog ${op.op} by the operator`,
            );
            this.errorOps.delete(txn.endText);
            this.complete(txn);
            if (comparePosition(txn.end, this.lwm!.pos) > 0) beyond.push(txn.endText);
            await saveGlobal();
            continue;
          }
          if (txn.statements) {
            // Statement-based DML cannot be applied row by row: only the tables it writes matter.
            const s = txn.statements.find((x) => !x.table || this.filter.table(x.table.db, x.table.table));
            if (s) throw this.statementError(txn, s);
          }
          if (this.autoSafeUntil && comparePosition(txn.end, this.autoSafeUntil) >= 0)
            this.autoSafeUntil = undefined;
          if (shard?.holds(txn)) {
            txn.rows = []; // read again after the re-sync; nothing to keep
            held++;
            continue;
          }
          if (shard && txn.ddl && shard.groupOfDDL(txn) && this.admitsDDL(txn)) {
            const r = await shard.onDDL(txn);
            if (r.action === 'held') {
              held++;
              continue;
            }
            if (r.action === 'apply') {
              await Promise.all(appliers.map((a) => a.idle()));
              if (failure) break;
              try {
                await serial(() => target.exec(r.sql));
              } catch (e) {
                if (!(e instanceof ServerError && r.tolerate.includes(e.errno)))
                  throw this.applyError(e, { txn, changes: [], sql: [r.sql] }, r.sql);
              }
              beyond.push(txn.endText);
            }
            for (const t of txn.ddl.info.tables) {
              const r = this.router.route(t.db, t.table);
              tracker.invalidate(r.db, r.table);
            }
            this.complete(txn);
            await saveGlobal();
            continue;
          }
          if (txn.ddl) {
            await Promise.all(appliers.map((a) => a.idle()));
            if (failure) break;
            await serial(() => this.applyDDL(target, tracker, txn, firstTxn));
            this.complete(txn);
            if (comparePosition(txn.end, this.lwm!.pos) > 0) beyond.push(txn.endText);
            await saveGlobal();
          } else {
            const compiled = await this.compile(txn, tracker);
            txn.rows = []; // compiled: the decoded rows need not live until the commit
            if (!compiled) this.complete(txn);
            else {
              const a = causality.assign(compiled.keys, txn.seq);
              appliers[a.applier].enqueue({
                txn,
                changes: compiled.changes,
                safe: compiled.safe,
                compact: compiled.compact,
                deps: a.deps,
              });
            }
          }
          firstTxn = false;
          // Backpressure: too many transactions in flight (a timer, not an idle applier, wakes us:
          // one busy applier can hold the low-water mark while the others are idle).
          while (this.pending.length - held > window && !failure) await new Promise((r) => setTimeout(r, 5));
          if (failure) break;
        }
        const now = Date.now();
        if (!this.recent.length || now - this.recent[this.recent.length - 1].t >= 100) {
          this.recent.push({ t: now, events: this.totalEvents });
          if (this.recent.length > 40) this.recent.splice(0, 20);
        }
        if (failure) break;
      }
      if (failure) throw failure;
      if (resync) {
        await Promise.all(appliers.map((a) => a.idle()));
        await saveGlobal();
        return 'resync';
      }
      return okResult(true);
    } catch (e) {
      if (signal.aborted && !failure) return okResult(true);
      return errorResult(failure ?? e);
    } finally {
      clearInterval(timer);
      clearInterval(shardTimer);
      if (this.lwm) reader?.retainFrom(this.lwm.pos);
      signal.removeEventListener('abort', onAbort);
      client?.close();
      for (const a of appliers) a.stop();
      conns.forEach((c) => c.close());
    }
  }

  private mark(): Mark {
    return { pos: this.lwm!.pos, gtid: this.lwmGtid?.toString() ?? this.lwm!.gtid };
  }

  /** Where the stream was last seen between transactions (events outside any transaction). */
  private between?: BinlogPosition;

  /** With nothing in flight, the low-water mark moves up to `between`. */
  private passBetween(): void {
    const b = this.between;
    if (b && !this.pending.length && this.lwm && comparePosition(b, this.lwm.pos) > 0) {
      this.lwm = { pos: b, gtid: this.lwm.gtid };
    }
  }

  /** A transaction is applied (or needs nothing): advance the low-water mark over the done prefix. */
  private complete(t: Txn): void {
    this.done.add(t.seq);
    let n = 0;
    while (n < this.pending.length && this.done.has(this.pending.at(n)!.seq)) {
      const head = this.pending.at(n++)!;
      this.done.delete(head.seq);
      if (head.gtid && this.lwmGtid) addGtid(this.lwmGtid, head.gtid);
    }
    if (n) {
      const last = this.pending.at(n - 1)!;
      this.pending.drop(n);
      // (the GTID set's text is made when needed: mark())
      this.lwm = { pos: last.end, gtid: '' };
      this.passBetween();
    }
  }

  private async connectTarget(): Promise<PacketConnection> {
    const c = await openConnection(this.cfg.targetDatabase, downstreamRole('sync'));
    await c.exec('SET NAMES utf8mb4');
    await c.exec(`SET SESSION sql_mode = '${TARGET_SQL_MODE}'`);
    await c.exec('SET SESSION foreign_key_checks = 0');
    await c.exec("SET SESSION time_zone = '+00:00'");
    return c;
  }

  /** A reader of the relay from `start`, when the relay is enabled and has that position. */
  private async relayReader(start: Mark): Promise<RelayReader | undefined> {
    const relay = this.relay;
    if (!relay) return undefined;
    const why = !start.pos.file
      ? 'the start point is a GTID set only'
      : !(await relay.ready())
        ? `the relay is ${relay.stage}${relay.result?.errors[0] ? ': ' + relay.result.errors[0].msg : ''}`
        : undefined;
    const at = why ? undefined : await relay.locate(start.pos.file);
    if (!at) {
      this.log.warn(
        { at: formatPosition(start.pos), why: why ?? `the relay has no ${start.pos.file}` },
        'sync: reading the upstream binlog directly, not the relay',
      );
      return undefined;
    }
    this.log.info(
      { at: formatPosition(start.pos), subDir: relay.subDirs[at.sub] },
      'sync: reading the relay log',
    );
    return new RelayReader(relay, { ...at, pos: start.pos.pos }, this.cfg.name, start.gtid, this.rowColumns);
  }

  /** Where this Sync starts when it runs next (its checkpoint, the dump's position, or meta),
   * for the relay's start and purge protection; undefined when not known yet. */
  async plannedStart(): Promise<BinlogPosition | undefined> {
    try {
      const c = await this.connectTarget();
      try {
        const rec = await this.checkpoint.load(c);
        if (rec) return rec.start.pos;
      } finally {
        c.close();
      }
    } catch {
      // no checkpoint table yet, or the target is down: the other sources below
    }
    const hint = await this.startHint().catch(() => undefined);
    if (hint?.pos.file) return hint.pos;
    const meta = this.cfg.instance.meta;
    return meta?.binlogName ? { file: meta.binlogName, pos: meta.binlogPos } : undefined;
  }

  private async pollMaster(upstream: PacketConnection): Promise<void> {
    const m = await masterStatus(upstream);
    if (m) {
      this.master = m;
      this.masterAt = Date.now();
    }
  }

  /** Target tables by upstream name, valid while the table id and column count stay the same
   * (a new table map object arrives with every transaction; DDLs drop the entries). */
  private readonly tables = new Map<string, TableEntry>();
  /** The same by table map (its columns array, shared by the maps repeating its bytes: no name
   * to build and hash per event), with the event filter's verdicts; null for a table the
   * block-allow list leaves out. Valid while `tablesGen` is unchanged. */
  private readonly byMap = new WeakMap<ColumnInfo[], (TableEntry & { gen: number }) | null>();
  private tablesGen = 0;

  /** What the decoder needs to decode of a table's rows: nothing of a table the block-allow list
   * leaves out; of before images, only the columns that identify a row (the key, unique keys)
   * once the table is known: an UPDATE's new values come from its after image. */
  private readonly rowColumns = (map: TableMapEvent): RowColumns | undefined => {
    if (!this.filter.table(map.schema, map.table)) return { skip: true };
    const e = this.tables.get(`${map.schema}\0${map.table}`);
    if (!e || e.tableId !== map.tableId || e.columns !== map.columns.length || !e.t.hasKey) return undefined;
    const before = new Array<boolean>(map.columns.length).fill(false);
    for (const c of [...e.t.where, ...e.t.uniques.flat()]) before[c.idx] = true;
    return { before };
  };

  /** Compiles a transaction's rows; undefined when nothing in it is replicated. */
  private async compile(
    txn: Txn,
    tracker: SchemaTracker,
  ): Promise<{ keys: string[]; changes: RowChange[]; safe: boolean; compact: boolean } | undefined> {
    const keys: string[] = [];
    const safe = this.safeMode;
    const sy = this.cfg.instance.syncer;
    const rows: RowChange[] = [];
    for (const ev of txn.rows) {
      const { schema: up, table: upTable } = ev.table;
      let entry = this.byMap.get(ev.table.columns);
      if (entry === null) continue;
      if (entry === undefined || entry.gen !== this.tablesGen) {
        if (!this.filter.table(up, upTable)) {
          this.byMap.set(ev.table.columns, null);
          continue;
        }
        entry = { ...(await this.tableEntry(ev.table, tracker, txn)), gen: this.tablesGen };
        this.byMap.set(ev.table.columns, entry);
      }
      const admit = (entry.admit[ev.action] ??= this.admits(up, upTable, ev.action, txn.endText));
      if (!admit) continue;
      const t = entry.t;
      const extra = entry.extra;
      // A route's extract-* columns: their values follow the binlog's in every row image.
      const rowsOf = extra.length
        ? ev.rows.map((r) => ({
            before: r.before && [...r.before, ...extra],
            after: r.after && [...r.after, ...extra],
            unchanged: r.unchanged,
          }))
        : ev.rows;
      for (const r of rowsOf) {
        if (t.unsigned.length) {
          unsignedValues(r.before, t.unsigned);
          unsignedValues(r.after, t.unsigned);
        }
        rows.push({ t, op: ev.action, before: r.before, after: r.after, unchanged: r.unchanged });
      }
    }
    if (!rows.length) return undefined;
    for (const c of rows) {
      rowKeys(c.t, c.before, keys);
      if (c.op !== 'update' || !keepsKeys(c.t, c.before!, c.after!)) rowKeys(c.t, c.after, keys);
    }
    return { keys, changes: rows, safe, compact: sy.compact || sy.multipleRows };
  }

  /** The target table of an upstream table map (cached by name while its id and column count stay). */
  private async tableEntry(map: TableMapEvent, tracker: SchemaTracker, txn: Txn): Promise<TableEntry> {
    const { schema: up, table: upTable } = map;
    const cacheKey = `${up}\0${upTable}`;
    const known = this.tables.get(cacheKey);
    if (known && known.tableId === map.tableId && known.columns === map.columns.length) return known;
    const { db, table } = this.router.route(up, upTable);
    const schema = await tracker.get(db, table);
    if (!schema) {
      throw new SyncError(
        `table ${quoteId(db)}.${quoteId(table)}${db === up && table === upTable ? '' : ` (the route target of ${quoteId(up)}.${quoteId(upTable)})`} does not exist on the target (binlog ${txn.endText})`,
        'Create it on the target (or let the dump create it), or exclude it with block-allow-list; then resume-task.',
        false,
      );
    }
    const extras = this.router.extras(up, upTable);
    const entry: TableEntry = {
      tableId: map.tableId,
      columns: map.columns.length,
      t: targetTable(
        map,
        schema,
        db,
        table,
        extras.map((e) => e.column),
      ),
      extra: extras.map((e) => e.value),
      admit: {},
    };
    this.tables.set(cacheKey, entry);
    return entry;
  }

  private async applyDDL(
    target: PacketConnection,
    tracker: SchemaTracker,
    txn: Txn,
    replay: boolean,
  ): Promise<void> {
    const { schema: upSchema, query: upQuery, info } = txn.ddl!;
    // A DDL whose names could not be read is applied rather than silently dropped.
    const allowed = info.tables.length
      ? info.tables.some((t) => this.filter.table(t.db, t.table))
      : info.dbs.length
        ? info.dbs.some((d) => this.filter.schema(d))
        : true;
    if (!allowed) return;
    const first = info.tables[0] ?? { db: info.dbs[0] ?? upSchema, table: '' };
    if (!this.admits(first.db, first.table, info.op, txn.endText, upQuery)) return;
    const route = (t: { db: string; table: string }) => this.router.route(t.db, t.table);
    for (const t of info.tables) tracker.invalidate(route(t).db, route(t).table);
    for (const d of info.dbs) tracker.invalidate(this.router.route(d, '').db);
    for (const k of [...this.tables.keys()]) {
      const [db, table] = k.split('\0');
      if (info.dbs.includes(db) || info.tables.some((t) => t.db === db && t.table === table))
        this.tables.delete(k);
    }
    this.tablesGen++;
    const query = this.router.active ? routeStatement(upQuery, upSchema, this.router) : upQuery;
    const schema = upSchema && this.router.route(upSchema, '').db;
    try {
      if (schema) await target.exec(`USE ${quoteId(schema)}`);
      await target.exec(query);
      this.log.info({ ddl: query, at: txn.endText }, 'sync: DDL applied');
    } catch (e) {
      if (replay && e instanceof ServerError && REPLAYED_DDL_ERRNOS.has(e.errno)) {
        this.log.warn({ ddl: query, err: e.message }, 'sync: DDL at the restart point was already applied');
        return;
      }
      if (e instanceof ServerError && e.errno === 1049 && schema) {
        // The default schema is not replicated (filtered): run the DDL without it.
        await target.exec(query);
        return;
      }
      throw this.applyError(e, { txn, changes: [], sql: [query] }, query);
    }
  }

  private statementError(txn: Txn, s: NonNullable<Txn['statements']>[number]): DMError {
    this.errorAt = txn.endText;
    const table = s.table ? quoteTable(s.table.db, s.table.table) : 'more than one table (or one not read)';
    return new DMError({
      code: 36010,
      class: 'sync',
      scope: 'upstream',
      message: `statement-based DML on ${table} in the binlog at ${txn.endText}${txn.gtid ? ` (GTID ${txn.gtid})` : ''}: ${s.query.slice(0, 200)}`,
      workaround:
        "Set binlog_format=ROW on the upstream (SET GLOBAL binlog_format = ROW, and in its configuration; sessions keep their format until they reconnect); apply this statement's change to the target by hand and continue with 'binlog skip', or run other SQL with 'binlog replace'.",
    });
  }

  private applyError(e: unknown, t: CompiledTxn, sql?: string): unknown {
    this.errorAt = t.txn.endText;
    if (e instanceof DMError) return e;
    const retryable = isRetryableServerError(e);
    const msg =
      e instanceof ServerError
        ? `Error ${e.errno}: ${e.message.replace(/^Error \d+ \([0-9A-Z]+\): /, '')}`
        : (e as Error).message;
    const stmt = sql ?? statementsOf(t)[0] ?? '';
    return new SyncError(
      `${msg}\nbinlog ${t.txn.endText}${t.txn.gtid ? ` (GTID ${t.txn.gtid})` : ''}\nSQL: ${stmt.length > 500 ? stmt.slice(0, 500) + '…' : stmt}`,
      retryable
        ? 'The target is retried automatically; check that it is up and reachable.'
        : "Fix the target (schema, data or privileges) and resume-task; or skip this event with 'binlog skip', or replace it with 'binlog replace <sql>'.",
      retryable,
      e,
    );
  }
}

function addGtid(set: GtidSet, gtid: string): void {
  const m = /^(\d+)-(\d+)-(\d+)$/.exec(gtid);
  const s = set as unknown as { add: (...a: unknown[]) => void };
  if (m) s.add({ domain: Number(m[1]), server: Number(m[2]), seq: Number(m[3]) });
  else {
    const i = gtid.lastIndexOf(':');
    s.add(gtid.slice(0, i), Number(gtid.slice(i + 1)));
  }
}

/** Runs uses of one connection one after another. */
function serialize(): <T>(f: () => Promise<T>) => Promise<T> {
  let chain: Promise<unknown> = Promise.resolve();
  return <T>(f: () => Promise<T>) => {
    const p = chain.then(f, f);
    chain = p.catch(() => undefined);
    return p;
  };
}

// The Sync unit: follows the upstream binlog from its checkpoint (or the dump's position, or the
// task's `meta`), turns row changes into SQL, and applies whole upstream transactions on
// `syncers.worker-count` appliers in parallel where causality allows, each commit carrying its
// checkpoint. DDLs are barriers, applied alone in binlog order. A run (run.ts) does the work;
// this unit keeps what outlives a run and answers status and the operator.
import { columnMappingOf } from '../tables.js';
import { SyncMeter } from '../../metrics/registry.js';
import {
  comparePosition,
  formatPosition,
  parsePosition,
  parseRelayName,
  type BinlogPosition,
} from '../../binlog/position.js';
import type { Logger } from '../../log.js';
import type { SqlSession } from '../../mysql/protocol.js';
import { routerOf, type Router } from '../../rules/route.js';
import type { SubTaskConfig } from '../../task/config.js';
import { isMissingMeta } from '../meta.js';
import { Unit } from '../unit.js';
import type { ProcessResult } from '../../task/status.js';
import { SyncCheckpoint } from './checkpoint.js';
import type { Location } from '../../binlog/location.js';
import { DmlCompiler } from './compile.js';
import { SyncState, type SyncContext } from './context.js';
import { serverEdges, type SyncEdges } from './edges.js';
import { noFailedEvent, replaceNeedsSQL } from './errors.js';
import { operateSchema, type SchemaRequest } from './schema-op.js';
import { BinlogOperators, operatorPosition, type BinlogOp } from './operators.js';
import { lag } from './progress.js';
import { SyncRun } from './run.js';
import { StrictCollations } from './collations.js';
import { OnlineDDL } from './online-ddl.js';
import { ShardSync, type ShardCoordinator } from './shard.js';
import { plannedStart } from './start.js';
import { Verdicts } from './verdicts.js';
import { DMError, ERR } from '../../errors.js';
import { Validator } from './validator/validator.js';
import { STREAM_AT, type StreamAt } from './stream.js';

/** A position as the upstream names it (a relay name of a later relay sub-directory carries the
 * sub-directory's suffix: mysql-bin|000002.000003). */
function upstreamPos(p: BinlogPosition): BinlogPosition {
  return { file: parseRelayName(p.file).file, pos: p.pos };
}

export interface SyncOptions {
  /** Where to start when there is no checkpoint yet (the dump's position in `all` mode). */
  hint: () => Promise<Location | undefined>;
  log: Logger;
  /** The sharding DDL locks (needed with a shard-mode). */
  coordinator?: ShardCoordinator;
  /** The servers (default: the task's; a relay stream through serverEdges' `relay`). */
  edges?: SyncEdges;
  /** Bytes the subtask's dump read from the upstream in this process (`dumpIOTotalBytes`). */
  dumpIOBytes?: () => number;
  /** The worker's name, for the metrics' `worker` label. */
  worker?: string;
  /** When an upstream transaction is applied as it is read (default STREAM_AT; tests lower it). */
  streamAt?: StreamAt;
}

export class SyncUnit implements Unit {
  readonly name = 'Sync' as const;
  private readonly c: SyncContext;
  private readonly dumpIOBytes: () => number;
  private running = false;
  private refreshing?: Promise<void>;
  /** DM's continuous validation of this subtask (runs beside Sync when its stage is Running). */
  readonly validator: Validator;

  constructor(
    private readonly cfg: SubTaskConfig,
    o: SyncOptions,
  ) {
    const router: Router = routerOf(
      cfg.instance.routeRules,
      cfg.routes,
      cfg.caseSensitive,
      cfg.instance.sourceId,
    );
    const verdicts = new Verdicts(cfg);
    let shard: ShardSync | undefined;
    if (cfg.shardMode) {
      if (!o.coordinator)
        throw new DMError(ERR.shardNeedsCoordinator, {
          message: `shard-mode ${cfg.shardMode} needs a sharding DDL coordinator`,
          workaround: 'Run the task through dm-master (or run-task), which coordinates the shards.',
        });
      shard = new ShardSync(cfg.name, cfg.instance.sourceId, cfg.shardMode, o.coordinator, router);
    }
    this.dumpIOBytes = o.dumpIOBytes ?? (() => 0);
    this.c = {
      cfg,
      log: o.log,
      edges: o.edges ?? serverEdges(cfg),
      checkpoint: new SyncCheckpoint(cfg.metaSchema, cfg.name, cfg.instance.sourceId),
      verdicts,
      router,
      compiler: new DmlCompiler(router, verdicts, columnMappingOf(cfg)),
      state: new SyncState(cfg.instance.syncer.safeMode),
      shard,
      online: cfg.onlineDDL ? new OnlineDDL(cfg, cfg.instance.sourceId) : undefined,
      collations: cfg.collationCompatible === 'strict' ? new StrictCollations() : undefined,
      hint: o.hint,
      operators: new BinlogOperators(),
      meter: new SyncMeter(cfg.name, cfg.instance.sourceId, o.worker ?? ''),
      streamAt: o.streamAt ?? STREAM_AT,
    };
    const { state } = this.c;
    this.validator = new Validator({
      cfg,
      log: o.log,
      edges: this.c.edges,
      router,
      verdicts,
      mapping: columnMappingOf(cfg),
      synced: () => (state.lwm.known ? state.lwm.mark() : undefined),
      runStart: () => state.runStart,
    });
  }

  /** start-task --start-time: the next run starts at the first transaction at or after it. */
  startAt(time: string): void {
    this.c.startTime = time;
  }

  /** A --start-time waits for the next run (false once its start point is saved). */
  get startTimePending(): boolean {
    return this.c.startTime !== undefined;
  }

  /** The sharding DDL lock this subtask waits on (query-status `unresolvedDDLLockID`). */
  lockId(): string {
    return this.c.shard?.lockId() ?? '';
  }

  async init(): Promise<void> {}

  async close(): Promise<void> {
    await this.validator.close();
  }

  private async withTarget<T>(f: (c: SqlSession) => Promise<T>): Promise<T> {
    const c = await this.c.edges.target();
    try {
      return await f(c);
    } finally {
      c.close();
    }
  }

  /** DM's binlog-schema list | update | delete (see schema-op.ts). */
  operateSchema(req: SchemaRequest): Promise<string> {
    return operateSchema(this.c, req, (f) => this.withTarget(f));
  }

  /** Whether no checkpoint exists yet (nothing synced by an earlier run). */
  async isFresh(): Promise<boolean> {
    return this.withTarget(async (c) => {
      try {
        return (await this.c.checkpoint.load(c)) === undefined;
      } catch (e) {
        if (isMissingMeta(e)) return true;
        throw e;
      }
    });
  }

  async removeMeta(): Promise<void> {
    await this.withTarget(async (c) => {
      await this.c.checkpoint.clear(c);
      await this.c.online?.clear(c);
    });
    await this.validator.removeMeta();
  }

  /** Where this Sync starts when it runs next (its checkpoint, the dump's position, or meta),
   * for the relay's start and purge protection; undefined when not known yet. */
  plannedStart(): Promise<BinlogPosition | undefined> {
    return plannedStart(() => this.withTarget((c) => this.c.checkpoint.load(c)), this.c.hint, this.cfg);
  }

  status(): Record<string, unknown> {
    const { state, shard } = this.c;
    const lwm = state.lwm.known ? state.lwm.mark() : undefined;
    // The upstream is at least where Sync has read: a master position polled earlier is stale.
    if (lwm && (!state.master || comparePosition(upstreamPos(lwm.pos), state.master.pos) > 0)) {
      state.master = { pos: upstreamPos(lwm.pos), gtid: lwm.gtid };
    }
    const now = Date.now();
    if (!this.running) this.refreshMaster();
    const tps = state.rate.tps(now);
    const rps = state.rows.tps(now);
    const { synced, secondsBehind } = lag({
      now,
      lwm: lwm && upstreamPos(lwm.pos),
      master: state.master?.pos,
      // Not running: caught up only against a position the upstream gave just now.
      fresh: this.running || now - state.masterAt < 3000,
      oldest: state.lwm.oldest()?.timestamp,
      lastRead: state.lastRead,
    });
    return {
      totalEvents: String(state.rate.total),
      totalTps: String(tps.total),
      recentTps: String(tps.recent),
      masterBinlog: state.master ? formatPosition(state.master.pos) : '',
      masterBinlogGtid: state.master?.gtid ?? '',
      syncerBinlog: lwm ? formatPosition(lwm.pos) : '',
      syncerBinlogGtid: lwm?.gtid ?? '',
      ...(shard?.status() ?? { blockingDDLs: [], unresolvedGroups: [], blockDDLOwner: '', conflictMsg: '' }),
      synced,
      secondsBehindMaster: String(secondsBehind),
      // DM v2's, beside the seed's
      totalRows: String(state.rows.total),
      totalRps: String(rps.total),
      recentRps: String(rps.recent),
      binlogType: state.binlogType,
      ioTotalBytes: String(state.ioBytes),
      dumpIOTotalBytes: String(this.dumpIOBytes()),
    };
  }

  /** DM's `binlog skip | replace | inject | revert | list`: for the transaction ending at
   * `position` (default: the one that failed last), skip it, run `sqls` instead or before it,
   * cancel that, or list what is pending; taken when Sync reaches it. */
  handleError(op: BinlogOp, sqls: string[] = [], position?: string): string {
    const at = position
      ? operatorPosition(position)
      : this.c.state.errorAt
        ? parsePosition(this.c.state.errorAt)
        : undefined;
    const ops = this.c.operators;
    const past = this.c.state.lwm.position;
    if (past) ops.dropThrough(past);
    if (op === 'list') return JSON.stringify(ops.list(position ? at : undefined));
    if (!at) throw noFailedEvent();
    if (op === 'revert') {
      ops.revert(at);
      return `reverted the operation at ${formatPosition(at)}`;
    }
    if (op !== 'skip' && !sqls.length) throw replaceNeedsSQL(op);
    ops.set(at, { op, sqls });
    return formatPosition(at);
  }

  async process(signal: AbortSignal): Promise<ProcessResult> {
    this.running = true;
    void this.validator.syncStarted();
    try {
      for (;;) {
        const r = await new SyncRun(this.c, signal).run();
        if (r !== 'resync') return r;
        this.c.log.info('sync: re-syncing from the checkpoint after a sharding DDL was resolved');
      }
    } finally {
      this.running = false;
      await this.validator.syncStopped();
    }
  }

  /** While Sync does not run (paused, stopped), status() asks the upstream where it is, at most
   * once a second, so masterBinlog stays live and `synced` is judged against a fresh position. */
  private refreshMaster(): void {
    if (this.refreshing || Date.now() - this.c.state.masterAt < 1000) return;
    this.refreshing = (async () => {
      const c = await this.c.edges.upstream();
      try {
        await this.c.state.pollMaster(c);
      } finally {
        c.close();
      }
    })()
      .catch((e: Error) => this.c.log.debug({ err: e.message }, 'sync: cannot read the upstream position'))
      .finally(() => (this.refreshing = undefined));
  }
}

// What a run of Sync works with, and the state that outlives a run (the low-water mark and the
// figures query-status shows, the operator's pending skip/replace decisions).
import type { SyncMeter } from '../../metrics/registry.js';
import type { BinlogPosition } from '../../binlog/position.js';
import type { Logger } from '../../log.js';
import { masterStatus } from '../../mysql/connect.js';
import type { SqlSession } from '../../mysql/protocol.js';
import type { Router } from '../../rules/route.js';
import type { SubTaskConfig } from '../../task/config.js';
import type { SyncCheckpoint } from './checkpoint.js';
import type { Location } from '../../binlog/location.js';
import type { BinlogOperators } from './operators.js';
import type { SchemaTracker } from '../../schema/tracker.js';
import type { DmlCompiler } from './compile.js';
import type { SyncEdges } from './edges.js';
import { EventRate, LowWaterMark, remainingBytes, remainingSeconds, type BinlogSize } from './progress.js';
import type { OnlineDDL } from './online-ddl.js';
import type { StrictCollations } from './collations.js';
import type { ShardSync } from './shard.js';
import type { Verdicts } from './verdicts.js';
import type { StreamAt } from './stream.js';

export class SyncState {
  readonly lwm = new LowWaterMark();
  readonly rate = new EventRate();
  /** Row changes of replicated tables handed to the appliers. */
  readonly rows = new EventRate();
  /** Bytes of binlog events read (query-status `ioTotalBytes`). */
  ioBytes = 0;
  /** Where the run reads the binlog: the relay's files ('local') or the upstream ('remote'). */
  binlogType: 'local' | 'remote' | '' = '';
  /** The upstream's position, and when it was read (ms). */
  master?: { pos: BinlogPosition; gtid: string };
  masterAt = 0;
  /** Commit time (s) of the last transaction read. */
  lastRead = 0;
  /** Where the last apply error happened (the end position of the transaction). */
  errorAt?: string;
  /** Where the current (or last) run of Sync began. */
  runStart?: Location;
  /** Idempotent SQL until here (a start from a user-given position). */
  safeUntil?: BinlogPosition;

  constructor(private readonly safeModeConfigured: boolean) {}

  get safeMode(): boolean {
    return this.safeModeConfigured || this.safeUntil !== undefined;
  }

  /** The upstream's binlog files and sizes (SHOW BINARY LOGS), when it lets the user read them. */
  binlogSizes?: BinlogSize[];
  /** Seconds to catch up at the recent read rate (DM's remaining_time), when known. */
  remainingSeconds?: number;
  private lastPoll?: { at: number; ioBytes: number };

  async pollMaster(upstream: SqlSession): Promise<void> {
    const m = await masterStatus(upstream);
    if (m) {
      this.master = m;
      this.masterAt = Date.now();
    }
    this.binlogSizes = await upstream
      .query('SHOW BINARY LOGS')
      .then((rows) => rows.map((r) => ({ file: String(r.Log_name), size: Number(r.File_size) })))
      .catch(() => undefined);
    const now = Date.now();
    const prev = this.lastPoll;
    this.lastPoll = { at: now, ioBytes: this.ioBytes };
    const at = this.lwm.position;
    if (!prev || !at || now <= prev.at) return;
    const rate = ((this.ioBytes - prev.ioBytes) * 1000) / (now - prev.at);
    this.remainingSeconds = remainingSeconds(remainingBytes(this.binlogSizes, at, this.master?.pos), rate);
  }
}

export interface SyncContext {
  cfg: SubTaskConfig;
  log: Logger;
  edges: SyncEdges;
  checkpoint: SyncCheckpoint;
  verdicts: Verdicts;
  router: Router;
  compiler: DmlCompiler;
  state: SyncState;
  shard?: ShardSync;
  /** collation_compatible strict: implicit collations of CREATE statements made explicit. */
  collations?: StrictCollations;
  /** online-ddl: the shadow tables' recorded DDLs (undefined when the task turns it off). */
  online?: OnlineDDL;
  /** Where to start when there is no checkpoint yet (the dump's position in `all` mode). */
  hint: () => Promise<Location | undefined>;
  /** The table schemas the current run has read (binlog-schema drops entries). */
  tracker?: SchemaTracker;
  /** start-task --start-time for the next run (cleared once its start is saved). */
  startTime?: string;
  /** Operator decisions by the end position of the transaction they are for. */
  operators: BinlogOperators;
  /** DM's Sync metrics on the hot path. */
  meter?: SyncMeter;
  /** When an upstream transaction is applied as it is read (stream.ts). */
  streamAt: StreamAt;
}

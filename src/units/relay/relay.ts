// The relay unit of a source: pulls the upstream binlog into local files equal to the upstream's
// (DM's layout, layout.ts), so subtasks read it locally (reader.ts) and the upstream may purge
// its binlog. It starts from its meta (a restart), else `relay-binlog-name`/`relay-binlog-gtid`,
// else the earliest position a subtask needs, else the upstream's current file — always at the
// start of a file, so relay files are whole copies. A crash leaves at most a torn tail beyond the
// meta, which is cut off at the next start and relayed again: nothing is duplicated or lost.
import { statfs, stat, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MariadbGtidSet } from '../../binlog/gtid.js';
import {
  comparePosition,
  formatPosition,
  parseRelayName,
  relayName,
  type BinlogPosition,
} from '../../binlog/position.js';
import { sleep } from '../../async.js';
import { relayExitedWithError, relayWrote } from '../../metrics/registry.js';
import { DMError, ERR } from '../../errors.js';
import type { Logger } from '../../log.js';
import { masterStatus, openConnection, quoteString, serverUuid, upstreamRole } from '../../mysql/connect.js';
import type { PacketConnection } from '../../mysql/protocol.js';
import type { SourceConfig } from '../../task/config.js';
import { AutoResume } from '../supervisor.js';
import type { Stage } from '../../task/stage.js';
import type { RelayStatus } from '../../task/status.js';
import { errorResult } from '../unit.js';
import type { ProcessResult } from '../../task/status.js';
import { parseSubDir, RelayDir, relayMetaOf } from './layout.js';
import { formatLocation, locationOf, type Location } from '../../binlog/location.js';
import { autoPurgeLimit, compareRelayPoint, purgeable, type RelayFile, type RelayPoint } from './purge.js';
import { RelayWriter } from './writer.js';
import { pull } from './pull.js';

export interface RelayOptions {
  /** The relay directory of this source. */
  dir: string;
  log: Logger;
  /** The earliest binlog position the source's subtasks need (for a relay without meta). */
  neededStart?: () => Promise<BinlogPosition | undefined>;
  /** First auto-resume delay after a retryable error (doubles up to 60 s). */
  autoResumeMs?: number;
  /** How often meta and the upstream's position are refreshed (default 200 ms / 1 s). */
  metaMs?: number;
}

/** Where the relay has written up to: the file being written and its complete size. */
export interface RelayHead {
  sub: number;
  subDir: string;
  file: string;
  size: number;
}

/** Where a source's relay lives: `<relay-dir>/<source-id>` (one directory can serve several
 * sources); the worker's relay-dir, when set, overrides the source's. */
export function relayDirOf(source: SourceConfig, workerRelayDir?: string): string {
  return resolve(join(workerRelayDir || source.relayDir, source.sourceId));
}

/** The relay of one source. Not a `Unit` (units/unit.ts), on purpose: a Unit is one step of a
 * subtask's sequence (Check → Dump → Load → Sync) that finishes and hands over to the next, with
 * the subtask's stage machine around it. The relay belongs to the source, not to a task: it runs
 * before, beside and after every subtask of the source, never finishes, has its own stage that
 * the master keeps (pause-relay / resume-relay), and serves readers (Sync) and purge-relay while
 * it runs. It shares the auto-resume rule (units/supervisor.ts) and the error results. */
export class RelayUnit {
  stage: Stage = 'New';
  result: ProcessResult | null = null;
  readonly dir: RelayDir;
  /** Sub-directories in index order (as known to this process). */
  subDirs: string[] = [];
  head?: RelayHead;
  private committed?: Location;
  private master?: { pos: BinlogPosition; gtid: string };
  private abort?: AbortController;
  private running?: Promise<void>;
  private readonly autoResume: AutoResume;
  private waiters: Array<() => void> = [];
  private readonly needed = new Map<string, RelayPoint>();
  private purgeTimer?: NodeJS.Timeout;
  private masterTimer?: NodeJS.Timeout;
  private masterConn?: PacketConnection;
  private polling = false;
  private readonly log: Logger;

  constructor(
    readonly source: SourceConfig,
    private readonly opts: RelayOptions,
  ) {
    this.dir = new RelayDir(opts.dir);
    this.log = opts.log.child({ source: source.sourceId, unit: 'relay' });
    this.autoResume = new AutoResume(opts.autoResumeMs);
  }

  // ---- lifecycle (the seed's stages: New → Running ⇄ Paused, → Stopped) ----

  start(): void {
    if (this.stage === 'Running') return;
    this.stage = 'Running';
    this.result = null;
    const ac = new AbortController();
    this.abort = ac;
    this.running = this.run(ac.signal);
    this.masterTimer ??= setInterval(() => void this.pollMaster(), 1000);
    const interval = this.source.purge.interval;
    if (interval > 0 && !this.purgeTimer) {
      this.purgeTimer = setInterval(() => {
        void this.autoPurge().catch((e: Error) =>
          this.log.warn({ err: e.message }, 'relay: automatic purge failed'),
        );
      }, interval * 1000);
      this.purgeTimer.unref();
    }
  }

  /** pause-relay: stops pulling; readers go on with what is written. */
  async pause(): Promise<void> {
    this.autoResume.cancel();
    this.stage = 'Paused';
    await this.halt();
    this.notify();
  }

  /** resume-relay (also after an error). */
  resume(): void {
    this.autoResume.cancel();
    if (this.stage === 'Paused' || this.stage === 'New') this.start();
  }

  async close(): Promise<void> {
    this.autoResume.cancel();
    clearInterval(this.masterTimer);
    this.masterTimer = undefined;
    this.masterConn?.close();
    this.masterConn = undefined;
    clearInterval(this.purgeTimer);
    this.purgeTimer = undefined;
    this.stage = 'Stopped';
    await this.halt();
    this.notify();
  }

  private async halt(): Promise<void> {
    this.abort?.abort();
    await this.running;
    this.running = undefined;
  }

  /** Grows with every change: a reader that saw `version` v waits with changed(v). */
  version = 0;

  /** Resolves at the next change of the relay (bytes written, a new file, a stage change), or at
   * once when there was one since `since`. */
  changed(since?: number): Promise<void> {
    if (since !== undefined && since !== this.version) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  /** The writer has written up to `head`: readers wake up. */
  moved(head: RelayHead): void {
    this.head = head;
    this.notify();
  }

  private notify(): void {
    this.version++;
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }

  // ---- what readers need kept ----

  /** A reader (`id`) may read again from `p` on: purges keep it. */
  retain(id: string, p: RelayPoint): void {
    this.needed.set(id, p);
  }

  release(id: string): void {
    this.needed.delete(id);
  }

  /** Where a position's file (a relay name, see layout.ts) is: its sub-directory index and
   * upstream file name, or undefined when the relay does not have it. */
  async locate(name: string): Promise<{ sub: number; file: string } | undefined> {
    const { suffix, file } = parseRelayName(name);
    const sub = this.subDirs.findIndex((d) => parseSubDir(d).suffix === suffix);
    if (sub < 0 || !(await this.dir.files(this.subDirs[sub])).includes(file)) return undefined;
    return { sub, file };
  }

  /** The relay name of `file` in sub-directory index `sub`. */
  nameOf(sub: number, file: string): string {
    return relayName(parseSubDir(this.subDirs[sub]).suffix, file);
  }

  /** Resolves once the relay knows where it writes (its sub-directory and first file), or with
   * false when it stops or fails before that. */
  async ready(timeoutMs = 30_000): Promise<boolean> {
    if (!this.head) await this.restoreHead();
    const deadline = Date.now() + timeoutMs;
    while (!this.head) {
      if (this.stage === 'Paused' || this.stage === 'Stopped' || Date.now() > deadline) return false;
      await Promise.race([this.changed(), sleep(200)]);
    }
    return true;
  }

  /** What an earlier run relayed (its meta), for readers while this run has not written yet (or
   * is paused): they read up to the meta's position. */
  private async restoreHead(): Promise<void> {
    const subs = await this.dir.subDirs();
    const subDir = subs[subs.length - 1];
    const meta = subDir ? await this.dir.readMeta(subDir).catch(() => undefined) : undefined;
    if (!meta || this.head) return;
    this.subDirs = subs;
    this.head = { sub: subs.length - 1, subDir, file: meta.binlogName, size: meta.binlogPos };
    this.committed ??= locationOf(meta);
  }

  // ---- status ----

  status(): RelayStatus {
    const relayPos = this.head ? { file: this.head.file, pos: this.head.size } : undefined;
    const master =
      this.master && relayPos && comparePosition(relayPos, this.master.pos) > 0 ? undefined : this.master;
    return {
      masterBinlog: master ? formatPosition(master.pos) : relayPos ? formatPosition(relayPos) : '',
      masterBinlogGtid: master?.gtid ?? this.committed?.gtid ?? '',
      relaySubDir: this.head?.subDir ?? '',
      relayBinlog: relayPos ? formatPosition(relayPos) : '',
      relayBinlogGtid: this.committed?.gtid ?? '',
      relayCatchUpMaster: !!relayPos && (!master || comparePosition(relayPos, master.pos) >= 0),
      stage: this.stage,
      result: this.result,
    };
  }

  /** The upstream's position, polled also while the relay is paused (relayCatchUpMaster). */
  private async pollMaster(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      this.masterConn ??= await openConnection(this.source.from, upstreamRole());
      this.master = (await masterStatus(this.masterConn)) ?? this.master;
    } catch {
      this.masterConn?.close();
      this.masterConn = undefined;
    } finally {
      this.polling = false;
    }
    if (this.stage === 'Stopped') {
      this.masterConn?.close();
      this.masterConn = undefined;
    }
  }

  // ---- the run ----

  private async run(signal: AbortSignal): Promise<void> {
    try {
      await this.process(signal);
    } catch (e) {
      if (signal.aborted) return;
      this.result = errorResult(e);
      relayExitedWithError(
        this.result.errors.every((x) => x.retryable),
        e instanceof DMError && e.scope === 'upstream',
      );
      this.stage = 'Paused';
      this.log.error({ err: (e as Error).message }, 'relay: paused by an error');
      this.notify();
      if (this.result.errors.every((x) => x.retryable)) {
        this.autoResume.schedule(() => {
          if (this.stage === 'Paused') {
            this.log.info('relay: resuming after a retryable error');
            this.start();
          }
        });
      }
    }
  }

  private async process(signal: AbortSignal): Promise<void> {
    const up = await openConnection(this.source.from, upstreamRole());
    /** The sub-directory written, once its file is open: its meta is saved at the end. */
    let writing: string | undefined;
    let metaTimer: NodeJS.Timeout | undefined;
    let metaWriting: Promise<void> = Promise.resolve();
    let metaSaved = '';
    // The meta follows the relay's last complete transaction. It is not synced with the file (an
    // fsync per update slows everything sharing the disk): after a system crash a file shorter
    // than its meta is relayed again from its start (RelayWriter.openAt).
    const saveMeta = (sub: string) => {
      const m = this.committed;
      if (!m) return metaWriting;
      const text = formatLocation(m);
      if (text === metaSaved) return metaWriting;
      metaSaved = text;
      metaWriting = metaWriting.then(() => this.dir.writeMeta(sub, relayMetaOf(m)));
      return metaWriting;
    };
    try {
      const uuid = await serverUuid(up);
      this.master = await masterStatus(up);
      if (!this.master) {
        throw new DMError(ERR.noMasterStatus, {
          message: `the upstream ${this.source.from.host}:${this.source.from.port} has no binary log`,
          workaround: 'Start the upstream with log_bin (and binlog_format=ROW), or set enable-relay: false.',
        });
      }
      this.subDirs = await this.dir.subDirs();
      let subDir = this.subDirs[this.subDirs.length - 1];
      let start: Location;
      if (subDir && parseSubDir(subDir).uuid === uuid) {
        start = await this.resumePoint(subDir, up);
      } else {
        const prev = subDir ? await this.dir.readMeta(subDir) : undefined;
        if (subDir) {
          this.log.warn(
            { from: subDir, uuid },
            'relay: the upstream server changed; a new relay sub-directory',
          );
        }
        start = prev
          ? await this.pointOnNewServer(up, locationOf(prev), subDir)
          : await this.initialPoint(up);
        subDir = await this.dir.addSubDir(uuid);
        this.subDirs = await this.dir.subDirs();
      }
      const sub = this.subDirs.indexOf(subDir);
      const w = new RelayWriter(this.dir, subDir);
      if ((await w.openAt(start.pos.file, start.pos.pos)) !== start.pos.pos) {
        this.log.warn(
          { file: start.pos.file },
          'relay: the file is shorter than its meta (a system crash?); relaying it again from its start',
        );
        start = fileStart(start.pos.file);
      }
      this.committed = start;
      await saveMeta(subDir);
      this.log.info(
        {
          subDir,
          from: formatPosition(start.pos),
          gtid: start.gtid,
        },
        'relay: starting',
      );
      const head = { sub, subDir, file: w.file, size: w.size };
      writing = head.subDir;
      await w.close(); // the pull thread writes on from here
      this.moved(head);

      metaTimer = setInterval(
        () => void saveMeta(head.subDir).catch(() => undefined),
        this.opts.metaMs ?? 200,
      );
      await pull(
        {
          dir: this.dir.dir,
          subDir,
          client: {
            ...this.source.from,
            serverId: this.source.serverId || 1_000_000 + Math.floor(Math.random() * 1_000_000_000),
            start: { file: head.file, pos: head.size },
            startGtid: start.gtid || undefined,
            annotateRows: true,
            framesOnly: true,
            heartbeatMs: 1000,
            // 4 MiB of unread packets (Sync's client: 16): the pull writes each batch before it
            // reads the next, and more buffered only grows the thread's memory (peak RSS of
            // bench:scale's relay part 343–390 MB with 16, 291–320 MB with 4; same write rate)
            highWaterMark: 4 << 20,
          },
        },
        signal,
        {
          file: (file) => this.moved({ ...head, file, size: 4 }),
          moved: (m) => {
            relayWrote(m.bytes, m.seconds);
            this.committed = { pos: m.committed, gtid: m.gtid };
            this.autoResume.reset();
            this.moved({ ...head, file: m.file, size: m.size });
          },
        },
      );
    } finally {
      clearInterval(metaTimer);
      up.close();
      if (writing) {
        await metaWriting.catch(() => undefined);
        await saveMeta(writing).catch(() => undefined);
      }
    }
  }

  /** Restart in the same server's sub-directory: from its meta (or what this process knows). */
  private async resumePoint(subDir: string, up: PacketConnection): Promise<Location> {
    const known = this.committed && this.head?.subDir === subDir ? this.committed : undefined;
    if (known) return known;
    const meta = await this.dir.readMeta(subDir);
    if (meta) return locationOf(meta);
    const files = await this.dir.files(subDir);
    // Created but never got as far as its first meta: the first file again, from its start.
    if (files.length) return fileStart(files[0]);
    return this.initialPoint(up);
  }

  /** Where a relay with no files starts: the configured name or GTID, else the subtasks' need,
   * else the upstream's current file; always at the start of a file. */
  private async initialPoint(up: PacketConnection): Promise<Location> {
    if (this.source.relayBinlogName) return fileStart(this.source.relayBinlogName);
    if (this.source.relayBinlogGtid) {
      const file = await fileForGtid(up, this.source.relayBinlogGtid);
      if (!file) {
        throw new DMError(ERR.relayNoGtidStart, {
          message: `no binlog file of the upstream starts at or before relay-binlog-gtid '${this.source.relayBinlogGtid}'`,
          workaround:
            'Check relay-binlog-gtid against SHOW BINARY LOGS of the upstream, or set relay-binlog-name.',
        });
      }
      return fileStart(file);
    }
    const need = await this.opts.neededStart?.().catch((e: Error) => {
      this.log.warn(
        { err: e.message },
        "relay: cannot read the subtasks' checkpoints; starting at the upstream's current file",
      );
      return undefined;
    });
    const file = (need && parseRelayName(need.file).file) || this.master!.pos.file;
    return fileStart(file);
  }

  /** After the upstream server changed (a failover): the new server's file that starts at or
   * before the last relayed GTID; readers skip the transactions they already have. */
  private async pointOnNewServer(up: PacketConnection, prev: Location, prevDir: string): Promise<Location> {
    const file = prev.gtid && up.flavor === 'mariadb' ? await fileForGtid(up, prev.gtid) : undefined;
    if (!file) {
      throw new DMError(ERR.relayServerChanged, {
        message: `the upstream server is not the one relayed into ${prevDir}, and the relay cannot tell where its GTID set '${prev.gtid}' continues on it`,
        workaround:
          'Enable GTIDs on the upstream (MariaDB) so the relay can follow a failover, or remove the relay directory to relay again from the subtasks\u2019 checkpoints.',
      });
    }
    return fileStart(file);
  }

  // ---- purging ----

  /** Every relay file, oldest first. */
  async relayFiles(): Promise<RelayFile[]> {
    const out: RelayFile[] = [];
    for (let sub = 0; sub < this.subDirs.length; sub++) {
      for (const file of await this.dir.files(this.subDirs[sub])) {
        const st = await stat(this.dir.path(this.subDirs[sub], file)).catch(() => undefined);
        if (st) out.push({ sub, file, mtimeMs: st.mtimeMs, size: st.size });
      }
    }
    return out;
  }

  private activePoint(): RelayPoint {
    return this.head ? { sub: this.head.sub, file: this.head.file } : { sub: this.subDirs.length, file: '' };
  }

  /** purge-relay: removes the relay files before `file` (of `subDir`, default the current one)
   * and older sub-directories; refused when a subtask still needs one of them. */
  async purge(file: string, subDir?: string): Promise<string[]> {
    if (!this.head) await this.restoreHead();
    if (!this.head) {
      throw new DMError(
        ERR.relayPurgeRequest,
        `the relay of source ${this.source.sourceId} has written nothing yet (stage ${this.stage}): nothing to purge`,
      );
    }
    const sub = subDir ? this.subDirs.indexOf(subDir) : this.head.sub;
    if (sub < 0) {
      throw new DMError(
        ERR.relayPurgeRequest,
        `relay sub-directory '${subDir}' does not exist; query-status shows relaySubDir`,
      );
    }
    const upTo = { sub, file };
    if (compareRelayPoint(upTo, this.activePoint()) > 0) {
      throw new DMError(
        ERR.relayPurgeForbidden,
        `cannot purge relay files up to ${file}: the relay writes ${this.head.file}; purge only files before it`,
      );
    }
    for (const [id, p] of await this.neededPoints()) {
      if (compareRelayPoint(p, upTo) < 0) {
        const who = id === 'checkpoint' ? "a subtask's checkpoint" : `subtask ${id}`;
        throw new DMError(
          ERR.relayPurgeForbidden,
          `cannot purge relay files before ${file}: ${who} still needs ${this.subDirs[p.sub]}/${p.file}; purge up to ${p.file} at most, or wait until it has synced further`,
        );
      }
    }
    return this.remove(upTo);
  }

  /** The relay directory's file system: DM's dm_relay_space (capacity, available), in bytes. */
  async space(): Promise<{ capacity: number; available: number } | undefined> {
    const fs = await statfs(this.opts.dir).catch(() => undefined);
    return fs && { capacity: fs.blocks * fs.bsize, available: fs.bavail * fs.bsize };
  }

  /** The automatic purge (source config `purge`: expires, remain-space). */
  async autoPurge(): Promise<string[]> {
    const files = await this.relayFiles();
    const fs = await statfs(this.opts.dir).catch(() => undefined);
    const free = fs ? fs.bavail * fs.bsize : Number.MAX_SAFE_INTEGER;
    const limit = autoPurgeLimit(files, this.activePoint(), this.source.purge, Date.now(), free);
    if (!limit) return [];
    const gone = await this.remove(limit);
    if (gone.length) this.log.info({ files: gone }, 'relay: purged automatically');
    return gone;
  }

  /** What the subtasks need: what their readers retain, and where their checkpoints are. */
  private async neededPoints(): Promise<Array<[string, RelayPoint]>> {
    const out = [...this.needed.entries()];
    const start = await this.opts.neededStart?.();
    const at = start && (await this.locate(start.file));
    if (at) out.push(['checkpoint', at]);
    return out;
  }

  private async remove(upTo: RelayPoint): Promise<string[]> {
    const needed = (await this.neededPoints()).map(([, p]) => p);
    const files = purgeable(await this.relayFiles(), upTo, this.activePoint(), needed);
    for (const f of files) await rm(this.dir.path(this.subDirs[f.sub], f.file), { force: true });
    return files.map((f) => `${this.subDirs[f.sub]}/${f.file}`);
  }
}

/** MariaDB: the newest binlog file whose starting GTID state (its GTID_LIST) is within `gtid`. */
async function fileForGtid(up: PacketConnection, gtid: string): Promise<string | undefined> {
  if (up.flavor !== 'mariadb') return undefined;
  const have = MariadbGtidSet.parse(gtid);
  const logs = await up.query('SHOW BINARY LOGS');
  for (let i = logs.length - 1; i >= 0; i--) {
    const file = logs[i].Log_name!;
    const r = await up.query(`SELECT BINLOG_GTID_POS(${quoteString(file)}, 4) g`);
    const state = r[0]?.g;
    if (state === null || state === undefined) continue;
    const at = MariadbGtidSet.parse(state);
    if ([...at.domains.values()].every((g) => (have.domains.get(g.domain)?.seq ?? -1) >= g.seq)) return file;
  }
  return undefined;
}

/** The start of a binlog file (GTID set not known). */
function fileStart(file: string): Location {
  return { pos: { file, pos: 4 }, gtid: '' };
}

// The master's cluster state, kept in one JSON file under its data dir and replaced atomically
// (write, fsync, rename) on every change, so a master restart finds sources, tasks, the stages
// operators asked for, members and bindings as they were.
import { DMError, ERR } from '../errors.js';
import { mkdir, readFile } from 'node:fs/promises';
import { lockDirectory, writeFileAtomic } from '../files.js';
import { join } from 'node:path';
import type { ShardState } from '../shard/locks.js';
import type { DesiredStage } from '../worker/assignment.js';

export interface TaskRecord {
  /** The task file as given (passwords as written: plain or encrypted). */
  yaml: string;
  file: string;
  /** Per source id. */
  stages: Record<string, DesiredStage>;
}

export interface ClusterState {
  sources: Record<string, { yaml: string; file: string }>;
  tasks: Record<string, TaskRecord>;
  workers: Record<string, { addr: string }>;
  /** Source id → worker name. */
  bounds: Record<string, string>;
  /** Source id → the stage an operator asked its relay to be in (pause-relay/resume-relay). */
  relays?: Record<string, DesiredStage>;
  /** Sharding groups and DDL locks (they survive a master restart). */
  shard?: ShardState;
}

export class Store {
  state: ClusterState = { sources: {}, tasks: {}, workers: {}, bounds: {} };
  private writing: Promise<void> = Promise.resolve();
  private unlock?: () => Promise<void>;

  constructor(private readonly dir: string) {}

  get file(): string {
    return join(this.dir, 'cluster.json');
  }

  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    this.unlock = await lockDirectory(this.dir, 'dm-master');
    try {
      this.state = { ...this.state, ...(JSON.parse(await readFile(this.file, 'utf8')) as ClusterState) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        await this.unlock();
        throw new DMError(
          ERR.masterState,
          `cannot read the master's state ${this.file}: ${(e as Error).message}`,
        );
      }
    }
  }

  /** Writes the state a last time and lets the data dir go. */
  async close(): Promise<void> {
    await this.save();
    await this.unlock?.();
    this.unlock = undefined;
  }

  /** Writes the current state; writes are serialized and each one is complete on disk. */
  save(): Promise<void> {
    const text = JSON.stringify(this.state, null, 1);
    this.writing = this.writing.then(() => writeFileAtomic(this.file, text));
    return this.writing;
  }
}

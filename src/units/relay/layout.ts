// The relay directory, in DM's layout: `server-uuid.index` lists one sub-directory per upstream
// server (`<server-uuid>.000001`, `.000002`, … in the order the relay met them); each holds that
// server's binlog files under their upstream names, byte for byte, and `relay.meta` (TOML:
// binlog-name, binlog-pos, binlog-gtid) with the transaction boundary the relay has written up to.
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { comparePosition } from '../../binlog/position.js';
import { DMError, ERR } from '../../errors.js';
import { writeFileAtomic } from '../../files.js';
import type { Location } from '../../binlog/location.js';

export const INDEX_FILE = 'server-uuid.index';

/** A damaged or inconsistent relay file (not retried: the same bytes fail again). */
export function relayError(message: string, workaround: string, cause?: unknown): DMError {
  return new DMError(ERR.relayLayout, { message, workaround, cause });
}
export const META_FILE = 'relay.meta';

export interface RelayMeta {
  binlogName: string;
  binlogPos: number;
  binlogGtid: string;
}

/** relay.meta's fields for a location. */
export function relayMetaOf(l: Location): RelayMeta {
  return { binlogName: l.pos.file, binlogPos: l.pos.pos, binlogGtid: l.gtid };
}

/** `<uuid>.000003` → { uuid, suffix: 3 }. */
export function parseSubDir(name: string): { uuid: string; suffix: number } {
  const m = /^(.+)\.(\d{6,})$/.exec(name);
  if (!m)
    throw new DMError(
      ERR.relaySubDirName,
      `invalid relay sub-directory name '${name}': expected '<server-uuid>.000001'`,
    );
  return { uuid: m[1], suffix: Number(m[2]) };
}

export function subDirName(uuid: string, suffix: number): string {
  return `${uuid}.${String(suffix).padStart(6, '0')}`;
}

/** Whether `name` looks like a binlog file (`<base>.<digits>`), not the meta or the index. */
export function isBinlogName(name: string): boolean {
  return /^.+\.\d+$/.test(name) && name !== META_FILE;
}

export class RelayDir {
  constructor(readonly dir: string) {}

  /** The sub-directories in the order the relay created them. */
  async subDirs(): Promise<string[]> {
    try {
      const text = await readFile(join(this.dir, INDEX_FILE), 'utf8');
      return text
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }

  /** Adds a sub-directory for server `uuid` (the next suffix) and returns its name. */
  async addSubDir(uuid: string): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const subs = await this.subDirs();
    const last = subs.length ? parseSubDir(subs[subs.length - 1]).suffix : 0;
    const name = subDirName(uuid, last + 1);
    await mkdir(join(this.dir, name), { recursive: true });
    await writeFileAtomic(join(this.dir, INDEX_FILE), [...subs, name].join('\n') + '\n');
    return name;
  }

  /** Drops sub-directories from the index (their files are removed by the caller). */
  async setSubDirs(subs: string[]): Promise<void> {
    await writeFileAtomic(join(this.dir, INDEX_FILE), subs.map((s) => s + '\n').join(''));
  }

  path(sub: string, file = ''): string {
    return file ? join(this.dir, sub, file) : join(this.dir, sub);
  }

  /** The binlog files of a sub-directory, in binlog order. */
  async files(sub: string): Promise<string[]> {
    try {
      const names = (await readdir(this.path(sub))).filter(isBinlogName);
      return names.sort((a, b) => comparePosition({ file: a, pos: 0 }, { file: b, pos: 0 }));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }

  async readMeta(sub: string): Promise<RelayMeta | undefined> {
    let text: string;
    try {
      text = await readFile(this.path(sub, META_FILE), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    try {
      const t = parseToml(text) as Record<string, unknown>;
      const name = t['binlog-name'];
      const pos = t['binlog-pos'];
      if (typeof name !== 'string' || !name || (typeof pos !== 'number' && typeof pos !== 'bigint')) {
        throw new Error('binlog-name and binlog-pos are required');
      }
      return { binlogName: name, binlogPos: Number(pos), binlogGtid: String(t['binlog-gtid'] ?? '') };
    } catch (e) {
      throw relayError(
        `the relay meta ${this.path(sub, META_FILE)} is unreadable (${(e as Error).message}); remove the relay directory ${this.dir} to relay again from the subtasks' checkpoints`,
        `Remove the relay directory ${this.dir} to relay again from the subtasks' checkpoints.`,
        e,
      );
    }
  }

  writeMeta(sub: string, m: RelayMeta): Promise<void> {
    const text =
      `binlog-name = ${JSON.stringify(m.binlogName)}\n` +
      `binlog-pos = ${m.binlogPos}\n` +
      `binlog-gtid = ${JSON.stringify(m.binlogGtid)}\n`;
    return writeFileAtomic(this.path(sub, META_FILE), text);
  }
}

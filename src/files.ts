// Files the project keeps state in are replaced whole: written to a temporary file, synced, then
// renamed over the old one, so a crash leaves the old version or the new one, never a mix. A
// directory one process owns is locked by a file naming that process.
import { DMError, ERR } from './errors.js';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = path + '.tmp';
  const f = await open(tmp, 'w');
  try {
    await f.writeFile(text);
    await f.sync();
  } finally {
    await f.close();
  }
  await rename(tmp, path);
}

/** Where a process's identity is kept: its PID and its start time (a PID alone may be reused). */
interface LockHolder {
  pid: number;
  start?: string;
}

/** The start time of process `pid` (Linux /proc), undefined where that cannot be read. */
async function processStart(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

async function alive(h: LockHolder): Promise<boolean> {
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const start = await processStart(h.pid);
  return h.start === undefined || start === undefined || start === h.start;
}

/** Takes `<dir>/LOCK` for this process, so no second process uses the directory at the same time;
 * a lock left by a process that is gone (SIGKILL) is taken over. Resolves to its release. */
export async function lockDirectory(dir: string, what: string): Promise<() => Promise<void>> {
  const path = join(dir, 'LOCK');
  const me: LockHolder = { pid: process.pid, start: await processStart(process.pid) };
  for (let attempt = 0; ; attempt++) {
    try {
      const f = await open(path, 'wx');
      await f.writeFile(JSON.stringify(me));
      await f.close();
      return () => unlink(path).catch(() => undefined);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw e;
    }
    let holder: LockHolder | undefined;
    try {
      holder = JSON.parse(await readFile(path, 'utf8')) as LockHolder;
    } catch {
      holder = undefined; // torn by a crash while being written: nobody holds it
    }
    if (holder && typeof holder.pid === 'number' && (await alive(holder))) {
      throw new DMError(
        ERR.masterState,
        `${dir} is in use by another ${what} (PID ${holder.pid}${holder.pid === process.pid ? ', this process' : ''}): stop that one first, or give this one another --data-dir`,
      );
    }
    await unlink(path).catch(() => undefined);
  }
}

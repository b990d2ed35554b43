// The dump's `metadata` file, in mydumper's format (which DM reads): when the dump started and
// finished and the binlog position and GTID set of the snapshot.
import { DMError, ERR } from '../../errors.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { METADATA_FILE } from './files.js';

export interface DumpMetadata {
  startedAt: Date;
  finishedAt?: Date;
  binlogName: string;
  binlogPos: number;
  gtid: string;
  /** This project's additions (mydumper's readers skip them): the id of the dump's run, also
   * recorded on the target when the dump began, and the upstream it was taken from. */
  dumpId?: string;
  upstream?: string;
}

function stamp(d: Date): string {
  return d
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '');
}

export function formatMetadata(m: DumpMetadata): string {
  return (
    `Started dump at: ${stamp(m.startedAt)}\n` +
    `SHOW MASTER STATUS:\n\tLog: ${m.binlogName}\n\tPos: ${m.binlogPos}\n\tGTID:${m.gtid}\n\n` +
    (m.dumpId ? `dm-ts dump:\n\tId: ${m.dumpId}\n\tUpstream: ${m.upstream ?? ''}\n\n` : '') +
    (m.finishedAt ? `Finished dump at: ${stamp(m.finishedAt)}\n` : '')
  );
}

/** Parses a metadata file; `finishedAt` is absent when the dump did not finish. */
export function parseMetadata(text: string): DumpMetadata {
  const field = (re: RegExp) => re.exec(text)?.[1]?.trim();
  const log = field(/SHOW MASTER STATUS:\s*\n\s*Log:\s*(\S+)/);
  const pos = field(/SHOW MASTER STATUS:[\s\S]*?Pos:\s*(\d+)/);
  if (!log || !pos)
    throw new DMError(ERR.loadDumpDirNotFound, 'the metadata file has no SHOW MASTER STATUS position');
  const started = field(/Started dump at:\s*(.+)/);
  const finished = field(/Finished dump at:\s*(.+)/);
  const dumpId = field(/dm-ts dump:\s*\n\s*Id:\s*(\S+)/);
  const date = (s: string) => new Date(s.replace(' ', 'T') + 'Z');
  return {
    startedAt: started ? date(started) : new Date(0),
    finishedAt: finished ? date(finished) : undefined,
    binlogName: log,
    binlogPos: Number(pos),
    ...(dumpId ? { dumpId, upstream: field(/dm-ts dump:[\s\S]*?Upstream:[ \t]*([^\n]*)/) ?? '' } : {}),
    // A long MySQL GTID set wraps over lines, each but the last ending with ','.
    gtid: (/SHOW MASTER STATUS:[\s\S]*?GTID:((?:[^\n]*,\n)*[^\n]*)/.exec(text)?.[1] ?? '').replace(
      /\s+/g,
      '',
    ),
  };
}

/** The metadata of a finished dump in `dir`, or undefined when the dump is missing or unfinished. */
export async function readFinishedDump(dir: string): Promise<DumpMetadata | undefined> {
  try {
    const m = parseMetadata(await readFile(join(dir, METADATA_FILE), 'utf8'));
    return m.finishedAt ? m : undefined;
  } catch {
    return undefined;
  }
}

// Task and source files for tests, in DM's YAML format, pointing at sandbox servers.
import { after } from 'node:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MariaDBSandbox } from '../../src/sandbox/mariadb.js';

export function sourceYaml(
  id: string,
  s: MariaDBSandbox,
  user = s.connectionOptions().user,
  password = s.connectionOptions().password,
): string {
  const o = s.connectionOptions();
  return `source-id: "${id}"\nenable-gtid: true\nfrom:\n  host: "${o.host}"\n  port: ${o.port}\n  user: "${user}"\n  password: "${password}"\n`;
}

export interface TaskYamlOptions {
  name: string;
  mode?: string;
  target: MariaDBSandbox;
  sources: string[];
  dir: string;
  extra?: string;
  mydumper?: string;
  loader?: string;
  /** syncers.global settings (YAML lines); the instances use them when given. */
  syncer?: string;
  targetUser?: string;
  targetPassword?: string;
  /** More keys of each mysql-instances entry (YAML lines), e.g. 'block-allow-list: bal'. */
  instance?: string;
}

export function taskYaml(o: TaskYamlOptions): string {
  const t = o.target.connectionOptions();
  const indent = (s: string | undefined) =>
    (s ?? '')
      .split('\n')
      .map((l) => (l ? '    ' + l : l))
      .join('\n');
  return `name: ${o.name}
task-mode: ${o.mode ?? 'full'}
target-database:
  host: "${t.host}"
  port: ${t.port}
  user: "${o.targetUser ?? t.user}"
  password: "${o.targetPassword ?? t.password}"
mysql-instances:
${o.sources
  .map(
    (s) =>
      `  - source-id: "${s}"\n    mydumper-config-name: global\n    loader-config-name: global${o.syncer ? '\n    syncer-config-name: global' : ''}${
        o.instance
          ? '\n' +
            o.instance
              .split('\n')
              .map((l) => '    ' + l)
              .join('\n')
          : ''
      }`,
  )
  .join('\n')}
mydumpers:
  global:
${/threads:/.test(o.mydumper ?? '') ? '' : '    threads: 4\n'}${indent(o.mydumper)}
loaders:
  global:
${/pool-size:/.test(o.loader ?? '') ? '' : '    pool-size: 4\n'}    dir: "${o.dir}"
${indent(o.loader)}
${o.syncer ? `syncers:\n  global:\n${indent(o.syncer)}\n` : ''}${o.extra ?? ''}`;
}

/** Writes files into a fresh temp directory and returns their paths. */
export async function writeTemp(
  files: Record<string, string>,
): Promise<Record<string, string> & { dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'dm-ts-task-'));
  after(() => rm(dir, { recursive: true, force: true }));
  const out: Record<string, string> & { dir: string } = { dir };
  for (const [name, text] of Object.entries(files)) {
    out[name] = join(dir, name);
    await writeFile(out[name], text);
  }
  return out;
}

/** An `all` task of one source (`src`) replicating the schemas `dbs` into `target`, its dump under
 * `dir`; `top` adds top-level YAML lines (e.g. `timezone: "+08:00"`). */
export function schemaTask(o: {
  name: string;
  target: MariaDBSandbox;
  dir: string;
  dbs: string[];
  top?: string;
}): string {
  const t = o.target.connectionOptions();
  return `name: ${o.name}
task-mode: all
${o.top ? o.top + '\n' : ''}target-database: {host: "${t.host}", port: ${t.port}, user: "${t.user}", password: "${t.password}"}
mysql-instances:
  - source-id: src
    block-allow-list: bal
    loader: {dir: "${join(o.dir, 'dump')}"}
block-allow-list:
  bal: {do-dbs: [${o.dbs.join(', ')}]}
`;
}

// dmctl's config commands, as DM's: `get-config` / `config task|source|master|worker <name>`
// (to a file with -f / -p), and `config export | import [-p dir]`: every source and task of the
// cluster as files (`<dir>/sources/<id>.yaml`, `<dir>/tasks/<name>.yaml`) and back.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { DMError, ERR } from '../errors.js';
import { ask, readConfig, request, taskFile, type Answer } from './ctl.js';

const TYPES = ['task', 'source', 'master', 'worker'];

/** The master's config of `type` `name`; with `file`, written there instead of shown. */
function getConfig(type: string, name: string, file?: string): Promise<void> {
  if (!TYPES.includes(type))
    throw new DMError(ERR.dmctlUsage, `invalid config type '${type}'; use ${TYPES.join(', ')}`);
  return request(
    'GET',
    `/apis/v1alpha1/config/${encodeURIComponent(type)}/${encodeURIComponent(name)}`,
    undefined,
    async (a) => {
      if (!a.result || !file) return a;
      await writeFile(file, String(a.cfg), { mode: 0o600 });
      return { ...a, msg: `write config to file ${file} succeed`, cfg: '' };
    },
  );
}

/** config export: the cluster's sources and tasks as files under `dir`. */
async function exportConfigs(dir: string): Promise<void> {
  const all = await ask<Answer & { sources: Record<string, string>; tasks: Record<string, string> }>(
    'GET',
    '/apis/v1alpha1/configs',
  );
  if (!all.result) throw new DMError(ERR.remote, String(all.msg));
  for (const [sub, files] of [
    ['sources', all.sources],
    ['tasks', all.tasks],
  ] as const) {
    await mkdir(join(dir, sub), { recursive: true });
    for (const [name, yaml] of Object.entries(files))
      await writeFile(join(dir, sub, `${name}.yaml`), yaml, { mode: 0o600 });
  }
  process.stdout.write(`export configs to directory \`${dir}\` succeed\n`);
}

/** The `.yaml` files of `dir` (none when it does not exist). */
async function yamlFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir))
      .filter((f) => /\.ya?ml$/i.test(f))
      .sort()
      .map((f) => join(dir, f));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** config import: creates each source, then starts each task; what exists already is kept. */
async function importConfigs(dir: string): Promise<void> {
  const sources = await yamlFiles(join(dir, 'sources'));
  const tasks = await yamlFiles(join(dir, 'tasks'));
  if (!sources.length && !tasks.length)
    throw new DMError(
      ERR.dmctlUsage,
      `no sources/*.yaml or tasks/*.yaml under '${dir}'; give the directory config export wrote (-p)`,
    );
  const steps: Array<[string, () => Promise<Answer>]> = [
    ...sources.map((file): [string, () => Promise<Answer>] => [
      file,
      async () => ask('POST', '/apis/v1alpha1/sources', { files: [{ file, yaml: await readConfig(file) }] }),
    ]),
    ...tasks.map((file): [string, () => Promise<Answer>] => [
      file,
      async () => {
        const { yaml } = await taskFile(file);
        return ask('POST', '/apis/v1alpha1/tasks', { files: [{ file, yaml }] });
      },
    ]),
  ];
  for (const [file, step] of steps) {
    const a = await step();
    if (!a.result && !/already exists/.test(String(a.msg))) {
      process.stdout.write(JSON.stringify(a, null, 4) + '\n');
      throw new DMError(ERR.remote, `fail to import ${file}: ${String(a.msg)}`);
    }
    process.stdout.write(`${a.result ? 'created' : 'exists already'}: ${file}\n`);
  }
  process.stdout.write(`import configs from directory \`${dir}\` succeed\n`);
}

export function configCommands(program: Command): void {
  program
    .command('get-config')
    .description('get-config task|source|master|worker <name> [-f file]')
    .argument('<type>')
    .argument('<name>')
    .option('-f, --file <file>', 'write the config to this file')
    .action((type: string, name: string, o: { file?: string }) => getConfig(type, name, o.file));
  program
    .command('get-task-config', { hidden: true })
    .argument('<name>')
    .option('-f, --file <file>', 'write the config to this file')
    .action((name: string, o: { file?: string }) => getConfig('task', name, o.file));

  const config = program
    .command('config')
    .description('config task|source|master|worker <name> [-p file]; config export|import [-p dir]')
    .option('-p, --path <path>', 'the file (task/source/…) or directory (export/import, default ./configs)');
  const pathOf = (cmd: Command) =>
    config.opts<{ path?: string }>().path ?? cmd.opts<{ path?: string; dir?: string }>().dir;
  for (const type of TYPES) {
    config
      .command(type)
      .argument('<name>')
      .option('-p, --path <file>', 'write the config to this file')
      .action((name: string, _o: unknown, cmd: Command) => getConfig(type, name, pathOf(cmd)));
  }
  config
    .command('export')
    .option('-p, --path <dir>', 'the directory (default ./configs)')
    .option('-d, --dir <dir>', 'the same (DM’s hidden form)')
    .action((_o: unknown, cmd: Command) => exportConfigs(pathOf(cmd) ?? 'configs'));
  config
    .command('import')
    .option('-p, --path <dir>', 'the directory (default ./configs)')
    .option('-d, --dir <dir>', 'the same (DM’s hidden form)')
    .action((_o: unknown, cmd: Command) => importConfigs(pathOf(cmd) ?? 'configs'));
  config
    .command('task-template')
    .argument('<name>')
    .action(() => {
      throw new DMError(
        ERR.dmctlUsage,
        "config task-template shows task templates made in DM's web UI, which this project does not have; use config task <name>",
      );
    });
}

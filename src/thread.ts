// A worker thread running a module next to the caller's, from the build (`.js`) or, in
// development and tests, from the TypeScript source (tsx does not reach worker threads by itself:
// the thread registers it before importing the module).
import v8 from 'node:v8';
import { Worker, type ResourceLimits } from 'node:worker_threads';

export interface ThreadOptions {
  /** The thread's young generation, in MiB (default: the process's). */
  youngGenerationMb?: number;
}

/** Starts `name` (a module in the folder of `callerUrl`, the caller's import.meta.url) on a
 * thread of its own, with `data` as its workerData. */
export function startThread(
  callerUrl: string,
  name: string,
  data: unknown,
  opts: ThreadOptions = {},
): Worker {
  const resourceLimits: ResourceLimits | undefined = opts.youngGenerationMb
    ? { maxYoungGenerationSizeMb: opts.youngGenerationMb }
    : undefined;
  return withOwnYoungGeneration(resourceLimits, () => {
    if (!callerUrl.endsWith('.ts'))
      return new Worker(new URL(`./${name}.js`, callerUrl), { workerData: data, resourceLimits });
    const url = new URL(`./${name}.ts`, callerUrl).href;
    const tsx = import.meta.resolve('tsx/esm/api'); // from here: the thread's directory may be anywhere
    return new Worker(
      `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(url)}); })`,
      { eval: true, workerData: data, resourceLimits },
    );
  });
}

/** The daemons' --max-semi-space-size (NODE_FLAGS) is process-wide: V8 lets it override a
 * thread's own young-generation limit. It is lifted while the thread's heap is made (until the
 * thread runs), so the limit holds; the main thread's heap, made at start, keeps its size. */
function withOwnYoungGeneration(limits: ResourceLimits | undefined, start: () => Worker): Worker {
  const flag = limits && semiSpaceFlag();
  if (!flag) return start();
  v8.setFlagsFromString('--max-semi-space-size=0');
  let worker: Worker;
  try {
    worker = start();
  } catch (e) {
    v8.setFlagsFromString(flag);
    throw e;
  }
  let restored = false;
  const restore = () => {
    if (!restored) v8.setFlagsFromString(flag);
    restored = true;
  };
  worker.once('online', restore);
  worker.once('exit', restore); // (also after an error before it ran; its 'error' stays the caller's)
  return worker;
}

/** The process's --max-semi-space-size argument, if it was given one. */
function semiSpaceFlag(): string | undefined {
  const args = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return args.filter((a) => /^--max[-_]semi[-_]space[-_]size=\d+$/.test(a)).at(-1);
}

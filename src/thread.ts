// A worker thread running a module next to the caller's, from the build (`.js`) or, in
// development and tests, from the TypeScript source (tsx does not reach worker threads by itself:
// the thread registers it before importing the module).
import { Worker } from 'node:worker_threads';

/** Starts `name` (a module in the folder of `callerUrl`, the caller's import.meta.url) on a
 * thread of its own, with `data` as its workerData. */
export function startThread(callerUrl: string, name: string, data: unknown): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, callerUrl), { workerData: data });
  const url = new URL(`./${name}.ts`, callerUrl).href;
  const tsx = import.meta.resolve('tsx/esm/api'); // from here: the thread's directory may be anywhere
  return new Worker(
    `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(url)}); })`,
    { eval: true, workerData: data },
  );
}

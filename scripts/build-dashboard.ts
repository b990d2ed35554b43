// Bundles the dashboard (dashboard/) into dist/dashboard/ (app.js, app.css, index.html), the files
// dm-master serves at /dashboard/: everything the page needs, no script from elsewhere at run time.
import { build } from 'esbuild';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'dashboard');

await mkdir(out, { recursive: true });
await build({
  entryPoints: [join(root, 'dashboard', 'main.tsx')],
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outfile: join(out, 'app.js'),
  logLevel: 'warning',
});
const css = await Promise.all(
  [join(root, 'node_modules', 'uplot', 'dist', 'uPlot.min.css'), join(root, 'dashboard', 'style.css')].map(
    (f) => readFile(f, 'utf8'),
  ),
);
await writeFile(join(out, 'app.css'), css.join('\n'));
await copyFile(join(root, 'dashboard', 'index.html'), join(out, 'index.html'));

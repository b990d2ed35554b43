// The shape of src/: no import cycle between files, and imports go downward only, as
// docs/architecture.md draws the layers (a folder imports its own files and lower layers').
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

const SRC = join(import.meta.dirname, '../../src');

/** Layers, lowest first; a module may import from its own layer's folder or a lower layer. */
const LAYERS: string[][] = [
  ['errors.ts'],
  ['async.ts', 'fifo.ts', 'files.ts', 'log.ts', 'thread.ts', 'words.ts'],
  ['mysql'],
  ['binlog'],
  ['schema'],
  ['rules'],
  ['task', 'shard'],
  ['units', 'metrics'],
  ['units/check', 'units/dump', 'units/load', 'units/relay', 'units/sync', 'diff'],
  ['worker', 'sandbox'],
  ['master'],
  ['api'],
  ['cli'],
];

/** Imports across one layer, each with its reason. */
const ACROSS = new Map([
  // Load's input is the dump's files: their metadata format is the dump's to define.
  ['units/load -> units/dump', 'the dump files'],
]);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The folder of a module as LAYERS names it. */
function place(file: string): string {
  const parts = relative(SRC, file).split('/');
  if (parts.length === 1) return parts[0];
  if (parts[0] === 'units' && parts.length > 2) return `units/${parts[1]}`;
  return parts[0];
}

function rank(p: string): number {
  const r = LAYERS.findIndex((l) => l.includes(p));
  assert.ok(r >= 0, `${p} has no layer in LAYERS: add it`);
  return r;
}

function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of files(SRC)) {
    const text = readFileSync(f, 'utf8');
    const deps = [...text.matchAll(/^(?:import|export)\b[^;]*?from '(\.[^']+)'/gms)].map((m) =>
      normalize(join(dirname(f), m[1].replace(/\.js$/, '.ts'))),
    );
    g.set(f, deps);
  }
  return g;
}

test('src/ imports go downward only (LAYERS), sideways only where ACROSS says why', () => {
  const wrong: string[] = [];
  for (const [f, deps] of graph()) {
    const from = place(f);
    for (const d of deps) {
      const to = place(d);
      if (to === from || rank(to) < rank(from) || ACROSS.has(`${from} -> ${to}`)) continue;
      wrong.push(`${relative(SRC, f)} imports ${relative(SRC, d)} (${from} -> ${to})`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('src/ has no import cycle', () => {
  const g = graph();
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (f: string, path: string[]) => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') {
      cycles.push([...path.slice(path.indexOf(f)), f].map((x) => relative(SRC, x)).join(' -> '));
      return;
    }
    state.set(f, 'open');
    for (const d of g.get(f) ?? []) visit(d, [...path, f]);
    state.set(f, 'done');
  };
  for (const f of g.keys()) visit(f, []);
  assert.deepEqual(cycles, []);
});

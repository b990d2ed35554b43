// The dashboard's files at /dashboard/ (DM's path), as scripts/build-dashboard.ts bundled them into
// dist/dashboard/; served by whichever master is asked (its API calls reach the leader).
import { readFile } from 'node:fs/promises';
import { NotFound, RawAnswer, type Route } from './http.js';

const DIR = new URL('../../dist/dashboard/', import.meta.url);
const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

async function file(name: string): Promise<RawAnswer> {
  const type = TYPES[name];
  if (!type) throw new NotFound(`no dashboard file ${name}`);
  try {
    return new RawAnswer(type, await readFile(new URL(name, DIR), 'utf8'));
  } catch {
    throw new NotFound('the dashboard is not built: run npm run build (or npm run build:dashboard)');
  }
}

export function dashboardRoutes(): Route[] {
  return [
    { method: 'GET', path: '/dashboard', local: true, handler: () => file('index.html') },
    { method: 'GET', path: '/dashboard/', local: true, handler: () => file('index.html') },
    { method: 'GET', path: '/dashboard/:file', local: true, handler: (r) => file(r.params.file) },
  ];
}

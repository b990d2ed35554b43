// DM's OpenAPI v1 on dm-master (docs/dm-openapi.yaml): DM's paths, snake_case bodies checked
// against DM's schemas (a field DM's schema does not name is refused), 201 on create, 204 on
// delete, errors as {error_msg, error_code}. Each operation is the dmctl operation of the same
// meaning on the master; sources, tasks and task templates are kept as DM files
// (openapi-convert.ts). What DM has and this project does not (source disable, the cluster
// topology) is refused naming what to do instead.
import { crc32 } from 'node:zlib';
import { DMError, ERR } from '../errors.js';
import type { Master } from '../master/master.js';
import { dmSpec } from './dm-spec.js';
import { NotFound, RawAnswer, StatusAnswer, type Route } from './http.js';
import { list, ok, type Json } from './openapi-common.js';
import { sourceRoutes } from './openapi-sources.js';
import { taskRoutes } from './openapi-tasks.js';

export function openapiRoutes(m: () => Master, enabled: boolean): Route[] {
  const routes: Route[] = [
    // ---- docs ----
    {
      method: 'GET',
      path: '/api/v1/docs',
      handler: async () => new RawAnswer('text/html; charset=utf-8', docsPage()),
    },
    { method: 'GET', path: '/api/v1/dm.json', handler: async () => dmSpec() },
    ...sourceRoutes(m),
    ...taskRoutes(m),
    {
      method: 'GET',
      path: '/api/v1/cluster/info',
      handler: async () => {
        const masters = (await m().masterList()).map((x) => x.name).sort();
        return { cluster_id: crc32(masters.join(',')) };
      },
    },
    {
      method: 'PUT',
      path: '/api/v1/cluster/info',
      handler: async () => {
        throw new DMError(
          ERR.badRequest,
          'the cluster topology (Grafana, Prometheus, Alertmanager addresses) is not kept here: point Prometheus at /metrics of each process',
        );
      },
    },
    {
      method: 'GET',
      path: '/api/v1/cluster/masters',
      handler: async () => list(await m().masterList()),
    },
    {
      method: 'DELETE',
      path: '/api/v1/cluster/masters/:name',
      handler: async (r) => {
        ok(await m().offlineMaster(r.params.name));
        return new StatusAnswer(204);
      },
    },
    {
      method: 'GET',
      path: '/api/v1/cluster/workers',
      handler: async () =>
        list(
          m()
            .workerList()
            .map((w) => ({ name: w.name, addr: w.addr, bound_stage: w.stage, bound_source_name: w.source })),
        ),
    },
    {
      method: 'DELETE',
      path: '/api/v1/cluster/workers/:name',
      handler: async (r) => {
        ok(await m().offlineWorker(r.params.name));
        return new StatusAnswer(204);
      },
    },
  ];
  return routes.map((r) =>
    enabled
      ? { ...r, dm: true }
      : {
          ...r,
          dm: true,
          handler: async () => {
            throw new NotFound("DM's OpenAPI is off on this master (openapi = false in its config)");
          },
        },
  );
}

/** GET /api/v1/docs: the operations of DM's spec, served without any script from elsewhere. */
function docsPage(): string {
  const spec = dmSpec();
  const esc = (s: string) =>
    s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  const rows: string[] = [];
  for (const [path, ops] of Object.entries<Json>(spec.paths))
    for (const [method, op] of Object.entries<Json>(ops))
      rows.push(
        `<tr><td>${method.toUpperCase()}</td><td><code>${esc(path)}</code></td><td>${esc(op.summary ?? '')}</td></tr>`,
      );
  return `<!doctype html><html><head><meta charset="utf-8"><title>dm-master OpenAPI</title>
<style>body{font:14px system-ui;margin:2em}td{padding:2px 10px;border-bottom:1px solid #ddd}</style></head>
<body><h1>DM OpenAPI v1</h1><p>The full specification: <a href="/api/v1/dm.json">/api/v1/dm.json</a>.</p>
<table>${rows.join('\n')}</table></body></html>`;
}

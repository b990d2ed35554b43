// A small JSON-over-HTTP layer for the master's and the worker's APIs: a router on node:http and
// a client on fetch. Bodies are JSON both ways; a handler's thrown error becomes
// `{result: false, msg}` with status 400.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DMError, ERR, specOf } from '../errors.js';

export interface Request {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
}

export type Handler = (req: Request) => Promise<unknown>;

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** e.g. `/api/v1/tasks/:name/pause` */
  path: string;
  handler: Handler;
}

function errorMessage(e: unknown): string {
  if (e instanceof DMError) return e.toString();
  return e instanceof Error ? e.message : String(e);
}

function matcher(path: string): (p: string) => Record<string, string> | undefined {
  const names: string[] = [];
  const re = new RegExp(
    '^' +
      path.replace(/:([a-zA-Z]+)/g, (_, n: string) => {
        names.push(n);
        return '([^/]+)';
      }) +
      '$',
  );
  return (p) => {
    const m = re.exec(p);
    if (!m) return undefined;
    return Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1])]));
  };
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  if (!chunks.length) return undefined;
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

export interface Listening {
  server: Server;
  /** host:port actually bound (port 0 picks a free one). */
  addr: string;
  close(): Promise<void>;
}

/** Which process answers: every answer says so in this header, so a client pointed at the wrong
 * port (dmctl at a worker, a worker's --join at another worker) is told instead of misled. */
export type Role = 'dm-master' | 'dm-worker';
const ROLE_HEADER = 'x-dm-role';

/** Serves `routes` on `addr` (host:port) as `role`. */
export async function serve(addr: string, routes: Route[], role: Role): Promise<Listening> {
  const table = routes.map((r) => ({ ...r, match: matcher(r.path) }));
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
        [ROLE_HEADER]: role,
      });
      res.end(text);
    };
    void (async () => {
      for (const r of table) {
        if (r.method !== req.method) continue;
        const params = r.match(url.pathname);
        if (!params) continue;
        try {
          const body = await readBody(req);
          send(200, await r.handler({ params, query: url.searchParams, body }));
        } catch (e) {
          send(400, {
            result: false,
            msg: errorMessage(e),
            ...(e instanceof DMError
              ? { error: { code: e.code, message: e.message, workaround: e.workaround } }
              : {}),
          });
        }
        return;
      }
      send(404, { result: false, msg: `no API ${req.method} ${url.pathname}` });
    })();
  });
  const { host, port } = splitAddr(addr);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.keepAliveTimeout = 5000;
  const a = server.address() as AddressInfo;
  return {
    server,
    addr: `${host}:${a.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** `host:port` → parts; a bare `:port` listens on 0.0.0.0 as DM does. */
export function splitAddr(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  const port = Number(addr.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new DMError(
      ERR.masterHostPort,
      `'${addr}' is not an address; write host:port, e.g. 127.0.0.1:8261`,
    );
  }
  return { host: addr.slice(0, i) || '0.0.0.0', port };
}

/** The error of an error answer (`result: false`), with the code it had in the process that
 * answered, when it had one. */
export function answerError(a: {
  msg?: string;
  error?: { code?: number; message?: string; workaround?: string };
}): DMError {
  const spec = (a.error?.code !== undefined && specOf(a.error.code)) || ERR.remote;
  return new DMError(spec, {
    message: a.error?.message ?? a.msg ?? 'no message',
    workaround: a.error?.workaround,
  });
}

/** Calls a JSON API; an error answer (`result: false` with a 4xx/5xx) is returned, not thrown. */
export async function call<T>(
  addr: string,
  method: Route['method'],
  path: string,
  body?: unknown,
  timeoutMs = 30_000,
  /** The process that must answer (default: any). */
  role?: Role,
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`http://${addr}${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (e as Error).message;
    // Down, restarting, or the connection dropped mid-request: worth trying again.
    throw new DMError(ERR.unreachable, {
      message: `cannot reach ${addr}: ${why}`,
      workaround: 'Check that the process at that address runs; the call is tried again.',
      retryable: true,
      cause: e,
    });
  }
  const text = await res.text();
  const answered = res.headers.get(ROLE_HEADER);
  if (role && answered !== role) {
    throw new DMError(
      ERR.wrongPeer,
      `${addr} is ${answered ? `a ${answered}` : 'not a dm-ts process'}, not a ${role}`,
    );
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new DMError(ERR.wrongPeer, `${addr} answered ${res.status} with non-JSON: ${text.slice(0, 200)}`);
  }
}

// A small JSON-over-HTTP layer for the master's and the worker's APIs: a router on node:http and
// a client on fetch. Bodies are JSON both ways; a handler's thrown error becomes
// `{result: false, msg}` with status 400.
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { processTls } from './process-tls.js';
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
  /** e.g. `/apis/v1alpha1/tasks/:name/pause` */
  path: string;
  handler: Handler;
  /** Answered by the process it reaches, never forwarded to the leader (its own /metrics). */
  local?: boolean;
  /** DM's OpenAPI: errors answered as `{error_msg, error_code}` (404 for NotFound). */
  dm?: boolean;
}

/** An answer with its own status code (DM's OpenAPI: 201 on create, 204 without a body). */
export class StatusAnswer {
  constructor(
    readonly status: number,
    readonly body?: unknown,
  ) {}
}

/** What a DM OpenAPI route answers with 404. */
export class NotFound extends Error {}

/** A handler's answer that is not JSON (Prometheus' text format). */
export class RawAnswer {
  constructor(
    readonly contentType: string,
    readonly text: string,
  ) {}
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

async function readRaw(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const raw = await readRaw(req);
  if (!raw.length) return undefined;
  return JSON.parse(raw.toString('utf8')) as unknown;
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

const FORWARDED = 'x-dm-forwarded';

/** Where a request goes instead of here: an address (the leader), null when there is nowhere to
 * send it yet, undefined to answer here. */
export type Forward = () => string | null | undefined;

/** Serves `routes` on `addr` (host:port) as `role`; with `forward`, a request is passed on to the
 * address it gives and its answer relayed (a forwarded request is always answered where it
 * arrives, so two masters that disagree on the leader cannot bounce it). */
export async function serve(
  addr: string,
  routes: Route[],
  role: Role,
  forward?: Forward,
): Promise<Listening> {
  const table = routes.map((r) => ({ ...r, match: matcher(r.path) }));
  const tls = processTls();
  const handle = (req: IncomingMessage, res: import('node:http').ServerResponse) => {
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
    if (tls?.allowedCN.length) {
      // mutual TLS: the client's certificate was verified against the CA; now its name
      const cn = (req.socket as TLSSocket).getPeerCertificate?.()?.subject?.CN;
      const name = Array.isArray(cn) ? cn[0] : cn;
      if (!name || !tls.allowedCN.includes(name)) {
        send(403, {
          result: false,
          msg: `the client certificate's common name '${name ?? ''}' is not in cert-allowed-cn (${tls.allowedCN.join(', ')})`,
        });
        return;
      }
    }
    void (async () => {
      const local = table.some((r) => r.local && r.method === req.method && r.match(url.pathname));
      const to = forward && !local && !req.headers[FORWARDED] ? forward() : undefined;
      if (to === null) {
        const e = new DMError(
          ERR.notLeader,
          'no dm-master leads yet (an election is under way); retry in a few seconds',
        );
        send(503, {
          result: false,
          msg: e.toString(),
          error: { code: e.code, message: e.message, workaround: e.workaround },
        });
        return;
      }
      if (to) {
        const raw = await readRaw(req);
        try {
          const r = await request(
            to,
            req.method ?? 'GET',
            `${url.pathname}${url.search}`,
            raw.length ? raw : undefined,
            600_000,
            {
              [FORWARDED]: '1',
            },
          );
          const text = r.text;
          res.writeHead(r.status, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(text),
            [ROLE_HEADER]: role,
          });
          res.end(text);
        } catch (err) {
          const e = new DMError(
            ERR.notLeader,
            `cannot forward to the leader at ${to}: ${(err as Error).message}; retry`,
          );
          send(503, {
            result: false,
            msg: e.toString(),
            error: { code: e.code, message: e.message, workaround: e.workaround },
          });
        }
        return;
      }
      for (const r of table) {
        if (r.method !== req.method) continue;
        const params = r.match(url.pathname);
        if (!params) continue;
        try {
          const body = await readBody(req);
          const answer = await r.handler({ params, query: url.searchParams, body });
          if (answer instanceof StatusAnswer) {
            if (answer.body === undefined) {
              res.writeHead(answer.status, { [ROLE_HEADER]: role });
              res.end();
            } else send(answer.status, answer.body);
          } else if (answer instanceof RawAnswer) {
            res.writeHead(200, {
              'content-type': answer.contentType,
              'content-length': Buffer.byteLength(answer.text),
              [ROLE_HEADER]: role,
            });
            res.end(answer.text);
          } else send(200, answer);
        } catch (e) {
          if (r.dm) {
            send(e instanceof NotFound ? 404 : 400, {
              error_msg: errorMessage(e),
              error_code: e instanceof DMError ? e.code : ERR.badRequest.code,
            });
            return;
          }
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
      const msg = `no API ${req.method} ${url.pathname}`;
      send(
        404,
        url.pathname.startsWith('/api/v1/')
          ? { error_msg: msg, error_code: ERR.badRequest.code }
          : { result: false, msg },
      );
    })();
  };
  // with TLS: HTTPS, and every client must show a certificate the CA signed (mutual TLS)
  const server: Server = tls
    ? createHttpsServer(
        { ca: tls.ca, cert: tls.cert, key: tls.key, requestCert: true, rejectUnauthorized: true },
        handle,
      )
    : createServer(handle);
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
  let res: Answer;
  try {
    res = await request(
      addr,
      method,
      path,
      body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
      timeoutMs,
    );
  } catch (e) {
    const why = (e as { code?: string }).code ?? (e as Error).message;
    const hint =
      !processTls() && /ECONNRESET|hang up|EPROTO/.test(String(why))
        ? ' (if it serves TLS, give this process ssl-ca, ssl-cert and ssl-key)'
        : '';
    // Down, restarting, or the connection dropped mid-request: worth trying again.
    throw new DMError(ERR.unreachable, {
      message: `cannot reach ${addr}: ${why}${hint}`,
      workaround: 'Check that the process at that address runs; the call is tried again.',
      retryable: true,
      cause: e,
    });
  }
  const text = res.text;
  const answered = res.headers[ROLE_HEADER] as string | undefined;
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

/** `call` on the first of `addrs` that answers as a leader would: an address that cannot be
 * reached, or that has no leader yet, passes to the next; rounds repeat for `waitMs`. */
export async function callAny<T>(
  addrs: string[],
  method: Route['method'],
  path: string,
  body?: unknown,
  timeoutMs = 30_000,
  role?: Role,
  waitMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    let last: unknown;
    for (const a of addrs) {
      try {
        const r = await call<T & { error?: { code?: number } }>(a, method, path, body, timeoutMs, role);
        if (r?.error?.code === ERR.notLeader.code) {
          last = answerError(r as { msg?: string });
          continue;
        }
        return r;
      } catch (e) {
        if (!(e instanceof DMError) || e.code !== ERR.unreachable.code) throw e;
        last = e;
      }
    }
    if (Date.now() > deadline) throw last;
    await new Promise((r) => setTimeout(r, 500));
  }
}

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  text: string;
}

/** One HTTP(S) request to another process (HTTPS with this process's certificate when it has TLS). */
function request(
  addr: string,
  method: string,
  path: string,
  body: Buffer | undefined,
  timeoutMs: number,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const { host, port } = splitAddr(addr);
  const tls = processTls();
  return new Promise<Answer>((resolve, reject) => {
    const options = {
      host,
      port,
      method,
      path,
      headers: {
        ...(body ? { 'content-type': 'application/json', 'content-length': body.length } : {}),
        ...headers,
      },
      timeout: timeoutMs,
      ...(tls ? { ca: tls.ca, cert: tls.cert, key: tls.key } : {}),
    };
    const req = (tls ? httpsRequest : httpRequest)(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () =>
      req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })),
    );
    req.on('error', reject);
    req.end(body);
  });
}

// TLS between dm-master, dm-worker and dmctl (DM's ssl-ca, ssl-cert, ssl-key, cert-allowed-cn):
// each process serves HTTPS and asks every client for a certificate signed by the CA (mutual TLS),
// accepting only the common names listed; its own calls present its certificate. One setting per
// process, read once at start.
import { readFileSync } from 'node:fs';
import { DMError, ERR } from '../errors.js';

export interface ProcessTls {
  ca: string;
  cert: string;
  key: string;
  /** The certificate common names accepted from clients (empty: any the CA signed). */
  allowedCN: string[];
  /** The files (the master's etcd member reads them itself). */
  files: { ca: string; cert: string; key: string };
}

let current: ProcessTls | undefined;

/** This process's TLS (undefined: plain HTTP). */
export function processTls(): ProcessTls | undefined {
  return current;
}

export function setProcessTls(t: ProcessTls | undefined): void {
  current = t;
}

/** The TLS a process's settings ask for: all of ssl-ca, ssl-cert and ssl-key, or none. */
export function readProcessTls(
  s: { 'ssl-ca'?: string; 'ssl-cert'?: string; 'ssl-key'?: string; 'cert-allowed-cn'?: string | string[] },
  where: string,
): ProcessTls | undefined {
  const keys = ['ssl-ca', 'ssl-cert', 'ssl-key'] as const;
  const given = keys.filter((k) => s[k]);
  const cn = s['cert-allowed-cn'];
  const allowedCN = (Array.isArray(cn) ? cn : String(cn ?? '').split(','))
    .map((x) => x.trim())
    .filter(Boolean);
  if (!given.length) {
    if (allowedCN.length)
      throw new DMError(ERR.tlsConfig, {
        message: `${where}: cert-allowed-cn without ssl-ca, ssl-cert and ssl-key`,
        workaround: 'Give the CA, this process certificate and its key too, or remove cert-allowed-cn.',
      });
    return undefined;
  }
  const missing = keys.filter((k) => !s[k]);
  if (missing.length)
    throw new DMError(ERR.tlsConfig, {
      message: `${where}: ${given.join(', ')} without ${missing.join(', ')}`,
      workaround: 'Give ssl-ca (the CA of every process), ssl-cert and ssl-key (this process) together.',
    });
  const read = (k: (typeof keys)[number]) => {
    try {
      return readFileSync(String(s[k]), 'utf8');
    } catch (e) {
      throw new DMError(ERR.tlsConfig, {
        message: `${where}: cannot read ${k} ${s[k]}: ${(e as Error).message}`,
        workaround: `Give ${k} a readable PEM file.`,
      });
    }
  };
  return {
    ca: read('ssl-ca'),
    cert: read('ssl-cert'),
    key: read('ssl-key'),
    allowedCN,
    files: { ca: String(s['ssl-ca']), cert: String(s['ssl-cert']), key: String(s['ssl-key']) },
  };
}

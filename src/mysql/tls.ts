// TLS for a MySQL/MariaDB connection (DM's `security` of a source's `from` or a task's
// `target-database`): the certificates from their files or inline PEM, the socket upgraded after
// the server's greeting, the server's certificate verified against the CA and the host name unless
// the operator opts out, and every failure an error naming the key to fix. Never a downgrade: a
// server that cannot do TLS when TLS was asked is an error.
import { readFileSync } from 'node:fs';
import { isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { DMError, ERR } from '../errors.js';

export interface TlsSpec {
  /** PEM text given inline (DM's ssl-ca-bytes, …) or the file holding it (ssl-ca, …). */
  ca?: string;
  caFile?: string;
  cert?: string;
  certFile?: string;
  key?: string;
  keyFile?: string;
  /** Verify the server's certificate against the CA and its name against the host (default). */
  verifyServerCert: boolean;
  /** Where the keys are written, for errors: e.g. `from.security` in the source config. */
  where: string;
}

function pem(
  inline: string | undefined,
  file: string | undefined,
  key: string,
  where: string,
): string | undefined {
  if (inline) return inline;
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new DMError(ERR.tlsConfig, {
      message: `cannot read '${where}.${key}' ${file}: ${(e as Error).message}`,
      workaround: `Give '${where}.${key}' a readable PEM file on the machine that connects (or the PEM itself in '${key}-bytes').`,
    });
  }
}

/** Why a TLS handshake failed, as an operator can fix it. */
function explain(
  e: NodeJS.ErrnoException,
  host: string,
  where: string,
): { message: string; workaround: string } {
  const code = e.code ?? '';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return {
      message: `the server's certificate is not for '${host}': ${e.message}`,
      workaround: `Connect by a name the certificate holds (the host in the config), issue a certificate for '${host}', or set '${where}.ssl-verify-server-cert: false' (no protection against a server that impersonates it).`,
    };
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID')
    return {
      message: `the server's certificate ${code === 'CERT_HAS_EXPIRED' ? 'has expired' : 'is not valid yet'}`,
      workaround: "Renew the server's certificate (or check this machine's clock).",
    };
  if (/CERT|SIGNATURE|ISSUER|SELF_SIGNED|VERIFY/.test(code))
    return {
      message: `the server's certificate cannot be verified (${code}): ${e.message}`,
      workaround: `Set '${where}.ssl-ca' to the CA that signed the server's certificate.`,
    };
  return {
    message: `the TLS handshake failed: ${e.message}`,
    workaround: `Check '${where}' (ssl-ca, ssl-cert, ssl-key) and the server's TLS settings.`,
  };
}

/** Upgrades `socket` (after the SSL request was sent) to TLS. */
export function upgrade(socket: Socket, host: string, port: number, spec: TlsSpec): Promise<TLSSocket> {
  const { where } = spec;
  const ca = pem(spec.ca, spec.caFile, 'ssl-ca', where);
  const cert = pem(spec.cert, spec.certFile, 'ssl-cert', where);
  const key = pem(spec.key, spec.keyFile, 'ssl-key', where);
  if (!!cert !== !!key)
    throw new DMError(ERR.tlsConfig, {
      message: `'${where}' has ${cert ? 'ssl-cert without ssl-key' : 'ssl-key without ssl-cert'}`,
      workaround: 'Give the client certificate and its key together, or neither.',
    });
  return new Promise<TLSSocket>((resolve, reject) => {
    const s = tlsConnect({
      socket,
      ca,
      cert,
      key,
      servername: isIP(host) ? undefined : host,
      rejectUnauthorized: spec.verifyServerCert,
      // without a name to check, Node checks the IP against the certificate's IP addresses
      ...(isIP(host) ? { host } : {}),
    });
    s.once('secureConnect', () => resolve(s));
    s.once('error', (e) =>
      reject(
        new DMError(ERR.tlsHandshake, {
          ...explain(e as NodeJS.ErrnoException, host, where),
          message: `TLS to ${host}:${port}: ${explain(e as NodeJS.ErrnoException, host, where).message}`,
        }),
      ),
    );
  });
}

/** The server's greeting has no TLS: asking for it must not become plaintext. */
export function noTls(host: string, port: number, where: string): DMError {
  return new DMError(ERR.tlsUnavailable, {
    message: `${host}:${port} does not offer TLS, which '${where}' asks for`,
    workaround: `Enable TLS on the server (ssl_cert, ssl_key in its config), or remove '${where}' to connect without TLS (only on a network you trust).`,
  });
}

// Certificates for TLS tests, made with openssl in a temp directory: a CA, a server certificate
// for 127.0.0.1/localhost, a client certificate, and the bad ones (another CA's, one for another
// host name, an expired one).
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

export interface Certs {
  dir: string;
  ca: string;
  server: { cert: string; key: string };
  client: { cert: string; key: string };
  otherCa: string;
  /** Signed by `ca`, for the name elsewhere.invalid only. */
  wrongName: { cert: string; key: string };
  /** Signed by `ca`, expired yesterday. */
  expired: { cert: string; key: string };
  /** Another certificate signed by `ca`, for 127.0.0.1, with this common name. */
  leaf(name: string, cn: string): Promise<{ cert: string; key: string }>;
}

export async function makeCerts(): Promise<Certs> {
  const dir = await mkdtemp(join(tmpdir(), 'dm-ts-certs-'));
  after(() => rm(dir, { recursive: true, force: true }));
  const f = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ca = (name: string) =>
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      f(`${name}.key`),
      '-out',
      f(`${name}.pem`),
      '-days',
      '3650',
      '-subj',
      `/CN=dm-ts ${name}`,
    );
  ca('ca');
  ca('other-ca');
  let serial = Date.now() % 1e9;
  const leaf = async (name: string, cn: string, san: string | undefined, days: string) => {
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      f(`${name}.key`),
      '-out',
      f(`${name}.csr`),
      '-subj',
      `/CN=${cn}`,
    );
    const ext = ['-extfile', f(`${name}.ext`)];
    await writeFile(f(`${name}.ext`), san ? `subjectAltName=${san}\n` : 'basicConstraints=CA:FALSE\n');
    ssl(
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-set_serial',
      String(serial++),
      '-out',
      f(`${name}.pem`),
      '-days',
      days,
      ...ext,
    );
    return { cert: f(`${name}.pem`), key: f(`${name}.key`) };
  };
  return {
    dir,
    ca: f('ca.pem'),
    server: await leaf('server', 'localhost', 'IP:127.0.0.1,DNS:localhost', '3650'),
    client: await leaf('client', 'dm-ts client', undefined, '3650'),
    otherCa: f('other-ca.pem'),
    wrongName: await leaf('wrong-name', 'elsewhere.invalid', 'DNS:elsewhere.invalid', '3650'),
    expired: await leaf('expired', 'localhost', 'IP:127.0.0.1,DNS:localhost', '-1'),
    leaf: (name, cn) => leaf(name, cn, 'IP:127.0.0.1,DNS:localhost', '3650'),
  };
}

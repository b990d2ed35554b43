// MariaDB's client_ed25519 authentication: an Ed25519 signature of the server's scramble, whose
// secret is SHA-512 of the password itself (standard Ed25519 hashes a 32-byte seed instead, so
// Node's crypto, which takes only seeds, cannot make it). The curve arithmetic over edwards25519
// in extended coordinates with BigInt: a few milliseconds per login. Pure.
import { createHash } from 'node:crypto';

const P = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

const mod = (a: bigint, m = P) => ((a % m) + m) % m;

function pow(b: bigint, e: bigint, m = P): bigint {
  let r = 1n;
  b = mod(b, m);
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}

const inv = (a: bigint) => pow(a, P - 2n);
const D = mod(-121665n * inv(121666n));

type Point = [x: bigint, y: bigint, z: bigint, t: bigint];

const BY = mod(4n * inv(5n));
const BX = (() => {
  // x² = (y² - 1) / (d y² + 1); the root with x even
  const xx = mod((BY * BY - 1n) * inv(D * BY * BY + 1n));
  let x = pow(xx, (P + 3n) / 8n);
  if (mod(x * x - xx) !== 0n) x = mod(x * pow(2n, (P - 1n) / 4n));
  return x & 1n ? P - x : x;
})();
const BASE: Point = [BX, BY, 1n, mod(BX * BY)];

function add(p: Point, q: Point): Point {
  const [x1, y1, z1, t1] = p;
  const [x2, y2, z2, t2] = q;
  const a = mod((y1 - x1) * (y2 - x2));
  const b = mod((y1 + x1) * (y2 + x2));
  const c = mod(2n * D * t1 * t2);
  const d = mod(2n * z1 * z2);
  const e = b - a;
  const f = d - c;
  const g = d + c;
  const h = b + a;
  return [mod(e * f), mod(g * h), mod(f * g), mod(e * h)];
}

function mul(k: bigint, p: Point): Point {
  let r: Point = [0n, 1n, 1n, 0n];
  let q = p;
  while (k > 0n) {
    if (k & 1n) r = add(r, q);
    q = add(q, q);
    k >>= 1n;
  }
  return r;
}

function encode(p: Point): Buffer {
  const zi = inv(p[2]);
  const x = mod(p[0] * zi);
  const y = mod(p[1] * zi);
  const out = Buffer.alloc(32);
  let v = y | ((x & 1n) << 255n);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

const le = (b: Buffer): bigint => {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  return v;
};

const sha512 = (...parts: Buffer[]) => {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** The 64-byte signature MariaDB's ed25519 plugin expects: of `message` (the scramble), with
 * the secret derived from `password`. */
export function ed25519Sign(password: Buffer, message: Buffer): Buffer {
  const az = sha512(password);
  const a = Buffer.from(az.subarray(0, 32));
  a[0] &= 248;
  a[31] &= 127;
  a[31] |= 64;
  const scalar = le(a);
  const pub = encode(mul(scalar, BASE));
  const r = mod(le(sha512(az.subarray(32), message)), L);
  const R = encode(mul(r, BASE));
  const k = mod(le(sha512(R, pub, message)), L);
  const s = mod(r + k * scalar, L);
  const S = Buffer.alloc(32);
  let v = s;
  for (let i = 0; i < 32; i++) {
    S[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return Buffer.concat([R, S]);
}

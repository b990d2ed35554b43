// Passwords in task and source files may be given encrypted (`dmctl encrypt`), in DM's format so
// files written for DM work unchanged: base64(iv ‖ "@" ‖ AES-256-CFB(plaintext)). The key is
// DM v2's public one unless dm-master has `secret-key-path` (DM v6.x's custom key): then the
// master reads the key at start, encrypts and decrypts with it, and hands it to its workers, as
// DM does. With the public key this keeps a password out of a casual read of a file or a screen,
// not away from someone who holds the file and the program.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isScalar, parseDocument, visit } from 'yaml';
import { DMError, ERR } from '../errors.js';

const DEFAULT_KEY = Buffer.from('a529b7665997f043a30ac8fadcb51d6aa032c226ab5b7750530b12b8c1a16a48', 'hex');
const IV_LEN = 16;
const SEP = 0x40; // '@'

/** The key of this process: DM's public one, or the master's `secret-key-path` key. */
let key: Buffer = DEFAULT_KEY;

/** Uses `hex` (64 hex digits) as this process's key; undefined: DM's public key again. */
export function useSecretKey(hex: string | undefined): void {
  key = hex ? parseSecretKey(hex, 'the master') : DEFAULT_KEY;
}

/** The custom key in hex, for the workers; undefined while the public key is used. */
export function customSecretKey(): string | undefined {
  return key.equals(DEFAULT_KEY) ? undefined : key.toString('hex');
}

/** DM's rule for the file `secret-key-path` names: a hex AES-256 key of 64 digits (spaces and a
 * final newline around it are allowed). */
export function parseSecretKey(text: string, where: string): Buffer {
  const hex = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new DMError(
      ERR.configSecretKeyPath,
      `${where}: the secret key must be a hex AES-256 key of length 64 (${hex.length} characters${/[^0-9a-fA-F]/.test(hex) ? ', not all hex digits' : ''})`,
    );
  }
  return Buffer.from(hex, 'hex');
}

/** Reads the key file of `secret-key-path` and uses it. */
export function loadSecretKey(path: string): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DMError(ERR.configSecretKeyPath, `secret-key-path ${path}: ${(e as Error).message}`);
  }
  key = parseSecretKey(text, `secret-key-path ${path}`);
}

export function encryptPassword(plaintext: string): string {
  const iv = randomBytes(IV_LEN);
  const c = createCipheriv('aes-256-cfb', key, iv);
  const body = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return Buffer.concat([iv, Buffer.from([SEP]), body]).toString('base64');
}

/** The plaintext of an encrypted password, or undefined when `s` is not one. A text in the
 * encrypted form that decrypts to bytes no password holds (invalid UTF-8, control characters)
 * was encrypted with another key: an error, where DM would use the garbage as the password.
 * (CFB has no integrity check, so a short password of another key can decrypt to printable
 * text by chance — a few in a hundred at 4 characters; the server then refuses the login.) */
export function decryptPassword(s: string): string | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s) || s.length % 4 !== 0) return undefined;
  const raw = Buffer.from(s, 'base64');
  if (raw.length < IV_LEN + 1 || raw[IV_LEN] !== SEP) return undefined;
  const d = createDecipheriv('aes-256-cfb', key, raw.subarray(0, IV_LEN));
  const bytes = Buffer.concat([d.update(raw.subarray(IV_LEN + 1)), d.final()]);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  // eslint-disable-next-line no-control-regex
  if (text.includes('\ufffd') || /[\u0000-\u001f\u007f]/.test(text)) {
    throw new DMError(
      ERR.configDecryptPassword,
      `a password in the encrypted form does not decrypt with ${customSecretKey() ? "the key of the master's secret-key-path" : "DM's default key"}`,
    );
  }
  return text;
}

/** Whether this process reads passwords (false in dmctl: it checks files and sends them on, never
 * opens a database, and cannot know the master's key). */
let decrypting = true;

export function keepPasswordsEncrypted(): void {
  decrypting = false;
}

/** DM's rule: a password that decrypts is used decrypted, anything else as written. */
export function decryptOrPlain(s: string): string {
  return decrypting ? (decryptPassword(s) ?? s) : s;
}

/** The YAML text with every plain `password:` value replaced by its encrypted form (comments and
 * layout kept), so stored and shown configs never hold a password in clear. */
export function encryptPasswords(text: string): string {
  const doc = parseDocument(text);
  visit(doc, {
    Pair(_, pair) {
      if (!isScalar(pair.key) || pair.key.value !== 'password' || !isScalar(pair.value)) return;
      const v = pair.value.value;
      if (typeof v === 'string' && v !== '' && decryptPassword(v) === undefined) {
        pair.value.value = encryptPassword(v);
      } else if (typeof v === 'number') {
        pair.value.value = encryptPassword(String(v));
      }
    },
  });
  return doc.toString();
}

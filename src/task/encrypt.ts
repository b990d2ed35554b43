// Passwords in task and source files may be given encrypted (`dmctl encrypt`), in DM's format so
// files written for DM work unchanged: base64(iv ‖ "@" ‖ AES-256-CFB(plaintext)) with DM's
// public key. The key is public: this keeps a password out of a casual read of a file or a
// screen, not away from someone who holds the file and the program.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { isScalar, parseDocument, visit } from 'yaml';

const KEY = Buffer.from('a529b7665997f043a30ac8fadcb51d6aa032c226ab5b7750530b12b8c1a16a48', 'hex');
const IV_LEN = 16;
const SEP = 0x40; // '@'

export function encryptPassword(plaintext: string): string {
  const iv = randomBytes(IV_LEN);
  const c = createCipheriv('aes-256-cfb', KEY, iv);
  const body = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return Buffer.concat([iv, Buffer.from([SEP]), body]).toString('base64');
}

/** The plaintext of an encrypted password, or undefined when `s` is not one. */
export function decryptPassword(s: string): string | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s) || s.length % 4 !== 0) return undefined;
  const raw = Buffer.from(s, 'base64');
  if (raw.length < IV_LEN + 1 || raw[IV_LEN] !== SEP) return undefined;
  const d = createDecipheriv('aes-256-cfb', KEY, raw.subarray(0, IV_LEN));
  return Buffer.concat([d.update(raw.subarray(IV_LEN + 1)), d.final()]).toString('utf8');
}

/** DM's rule: a password that decrypts is used decrypted, anything else as written. */
export function decryptOrPlain(s: string): string {
  return decryptPassword(s) ?? s;
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

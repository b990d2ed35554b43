// The error registry: one code per error, docs/errors.md generated from it, and no retry decided
// by an error's text or a bare MySQL error number outside the errno module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ERR } from '../../src/errors.js';
import { renderErrorsDoc } from '../../scripts/errors-doc.js';

const ROOT = join(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

test('every error code is one error', () => {
  const seen = new Map<number, string>();
  for (const [name, s] of Object.entries(ERR)) {
    assert.ok(!seen.has(s.code), `${name} and ${seen.get(s.code)} share code ${s.code}`);
    seen.set(s.code, name);
  }
});

test('docs/errors.md is generated from the registry (npm run docs:errors)', () => {
  assert.equal(readFileSync(join(ROOT, 'docs/errors.md'), 'utf8'), renderErrorsDoc());
});

test('no retry decision on message text, no bare MySQL error number outside src/mysql/errno.ts', () => {
  const wrong: string[] = [];
  for (const f of sources(join(ROOT, 'src'))) {
    const rel = relative(ROOT, f);
    if (rel === 'src/mysql/errno.ts' || rel.startsWith('src/sandbox/')) continue;
    readFileSync(f, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (
          /\.message\)?\s*\)?\.(test|match|includes)\(|\/[^/]+\/i?\.test\(\(?e(rr)?\b[^)]*\.message/.test(
            line,
          )
        )
          wrong.push(`${rel}:${i + 1}: decides on a message: ${line.trim()}`);
        if (
          /errno\s*[=!]==?\s*\d|\b(1[0-9]{3}|20[0-9]{2})\b.*errno|errno.*\b(1[0-9]{3}|20[0-9]{2})\b/.test(
            line,
          )
        )
          wrong.push(`${rel}:${i + 1}: bare error number: ${line.trim()}`);
      });
  }
  assert.deepEqual(wrong, []);
});

// docs/errors.md from the error registry (src/errors.ts): `npm run docs:errors` writes it, and a
// unit test checks the file is what this renders.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERR } from '../src/errors.js';

export function renderErrorsDoc(): string {
  const rows = Object.entries(ERR)
    .sort(([, a], [, b]) => a.code - b.code)
    .map(
      ([name, s]) =>
        `| ${s.code} | \`${name}\` | ${s.class} | ${s.scope} | ${s.retryable ? 'yes' : 'no'} | ${s.when} | ${s.fix.replace(/\|/g, '\\|')} |`,
    );
  return [
    '# Errors',
    '',
    'Every error dm-ts reports (query-status `ErrCode`/`ErrClass`/`ErrScope`/`Workaround`, dmctl and',
    "HTTP answers' `error.code`). Codes are DM's where DM has the error (its `terror` list); the others",
    "are ours, from N100 up in DM's range for the class, so no code means two things. *Retried*: the",
    'subtask resumes by itself (auto-resume with backoff); else it stays paused until the operator acts.',
    'The message of each error names the object (table, position, file, key) and, where one fits,',
    'a more precise fix than the one listed here.',
    '',
    'Generated from `src/errors.ts` by `npm run docs:errors`; do not edit by hand.',
    '',
    '| Code | Name | Class | Scope | Retried | When | What to do |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  writeFileSync(join(import.meta.dirname, '../docs/errors.md'), renderErrorsDoc());
}

// The SQL statements of dmctl's `binlog replace|inject` arguments, read as DM reads them: the
// arguments joined by spaces (so `binlog replace t ALTER TABLE a ADD c INT` is one statement),
// quote marks around the whole stripped, then split at each `;` outside quotes and comments.
import { DMError, ERR } from '../errors.js';

export function sqlsOfArgs(args: string[]): string[] {
  let text = args.join(' ').trim();
  const q = /^(['"])([\s\S]*)\1$/.exec(text);
  if (q) text = q[2].trim();
  const out: string[] = [];
  let start = 0;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\' && quote !== '`') i++;
      else if (c === quote) quote = '';
    } else if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '-' && text[i + 1] === '-') i = lineEnd(text, i);
    else if (c === '#') i = lineEnd(text, i);
    else if (c === '/' && text[i + 1] === '*') i = commentEnd(text, i);
    else if (c === ';') {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (quote)
    throw new DMError(ERR.handleErrorArgs, {
      message: `invalid SQL '${text}': a ${quote} quote is not closed`,
      workaround: 'Quote each statement for the shell, e.g. "ALTER TABLE db.t ADD c INT".',
    });
  out.push(text.slice(start));
  const sqls = out.map((s) => s.trim()).filter(Boolean);
  if (!sqls.length)
    throw new DMError(ERR.handleErrorArgs, {
      message: 'no SQL statement given',
      workaround: 'Give one or more statements, separated by ";".',
    });
  return sqls;
}

function lineEnd(text: string, i: number): number {
  const nl = text.indexOf('\n', i);
  return nl < 0 ? text.length : nl;
}

function commentEnd(text: string, i: number): number {
  const end = text.indexOf('*/', i + 2);
  return end < 0 ? text.length : end + 1;
}

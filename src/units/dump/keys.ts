// A large table's secondary keys, added after its rows are in (as myloader's
// --innodb-optimize-keys): an index built once from sorted rows costs the target far less than
// one kept up to date row by row, the more so once the table outgrows the buffer pool. Only plain
// KEYs move: UNIQUE keys stay (they decide what a duplicate is), and tables with foreign keys or
// partitions keep theirs. Pure: works on SHOW CREATE TABLE's text (one definition per line).

/** The CREATE TABLE without its plain secondary keys, and those keys' definitions; undefined when
 * nothing moves. */
export function splitSecondaryKeys(create: string): { table: string; keys: string[] } | undefined {
  const lines = create.split('\n');
  const close = lines.findIndex((l, i) => i > 0 && l.startsWith(')'));
  if (!/^CREATE TABLE .*\($/.test(lines[0] ?? '') || close < 0) return undefined;
  const defs = lines.slice(1, close).map((l) => l.replace(/,$/, ''));
  if (defs.some((d) => /^\s+(CONSTRAINT\b.*\b)?FOREIGN KEY\b/i.test(d))) return undefined;
  if (/\bPARTITION BY\b/i.test(lines.slice(close).join('\n'))) return undefined;
  const keys = defs.filter((d) => /^ {2}KEY `/.test(d)).map((d) => d.trim());
  if (!keys.length) return undefined;
  const kept = defs.filter((d) => !/^ {2}KEY `/.test(d));
  const table = [lines[0], kept.join(',\n'), ...lines.slice(close)].join('\n');
  return { table, keys };
}

/** The statement adding `keys` to `table` (a quoted name). */
export function addKeysSQL(table: string, keys: string[]): string {
  return `ALTER TABLE ${table} ${keys.map((k) => `ADD ${k}`).join(', ')}`;
}

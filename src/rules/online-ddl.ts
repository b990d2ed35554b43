// The tables of online schema change tools, as DM names them: a *shadow* (ghost) table is the
// tool's altered copy of a real table (gh-ost `_t_gho`, pt-osc `_t_new`), a *trash* table is its
// bookkeeping or the old table after the swap (gh-ost `_t_ghc`, `_t_del`; pt-osc `_t_old`). Each
// rule is a regular expression on the table name with one group: the real table's name. Pure.

export type OnlineTableKind = 'real' | 'shadow' | 'trash';

/** DM's defaults (dm/config/subtask.go), for gh-ost and pt-online-schema-change. */
export const DEFAULT_SHADOW_RULES = ['^_(.+)_(?:new|gho)$'];
export const DEFAULT_TRASH_RULES = ['^_(.+)_(?:ghc|del|old)$'];

/** A rule as DM adjusts it (anchored at both ends), or why it cannot be one. */
export function adjustRule(rule: string): { source: string } | { problem: string } {
  let source = rule.startsWith('^') ? rule : `^${rule}`;
  if (!source.endsWith('$')) source += '$';
  let re: RegExp;
  try {
    re = new RegExp(source);
  } catch (e) {
    return { problem: `is not a regular expression: ${(e as Error).message}` };
  }
  // The number of capturing groups: an empty alternative matches '' and shows them all.
  const groups = new RegExp(`${re.source}|`).exec('')!.length - 1;
  if (groups !== 1)
    return { problem: `must have exactly one group (the real table's name), it has ${groups}` };
  return { source };
}

export class OnlineTables {
  private readonly shadow: RegExp[];
  private readonly trash: RegExp[];

  /** `shadow` and `trash`: adjusted rules (see adjustRule). */
  constructor(shadow: readonly string[], trash: readonly string[]) {
    this.shadow = shadow.map((s) => new RegExp(s));
    this.trash = trash.map((s) => new RegExp(s));
  }

  kind(table: string): OnlineTableKind {
    if (this.shadow.some((r) => r.test(table))) return 'shadow';
    if (this.trash.some((r) => r.test(table))) return 'trash';
    return 'real';
  }

  /** The real table a shadow or trash table belongs to (the name itself for a real table). */
  realName(table: string): string {
    for (const r of [...this.shadow, ...this.trash]) {
      const m = r.exec(table);
      if (m?.[1]) return m[1];
    }
    return table;
  }
}

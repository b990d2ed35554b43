// Row sets of one key range, upstream (the union of the shards) against the target: which rows are
// missing on the target, extra there, or changed (and in which columns). Pure.
import type { TableShape } from './sql.js';

export type Row = Record<string, string | null>;

export interface Difference {
  kind: 'missing' | 'extra' | 'changed';
  /** The key's values as the upstream holds them (hex of their compared form). */
  key: Record<string, string | null>;
  up?: Row;
  down?: Row;
  /** changed: the columns that differ. */
  columns?: string[];
}

export function keyText(t: TableShape, r: Row): string {
  return t.key.map((k) => r[k] ?? '\\N').join('\0');
}

function keyOf(t: TableShape, r: Row): Record<string, string | null> {
  return Object.fromEntries(t.key.map((k) => [k, r[k]]));
}

/** The differences between the upstream's and the target's rows of one range. */
export function compareRows(t: TableShape, up: Row[], down: Row[]): Difference[] {
  const target = new Map(down.map((r) => [keyText(t, r), r]));
  const out: Difference[] = [];
  for (const u of up) {
    const k = keyText(t, u);
    const d = target.get(k);
    if (!d) {
      out.push({ kind: 'missing', key: keyOf(t, u), up: u });
      continue;
    }
    target.delete(k);
    const columns = t.columns.filter((c) => u[c.name] !== d[c.name]).map((c) => c.name);
    if (columns.length) out.push({ kind: 'changed', key: keyOf(t, u), up: u, down: d, columns });
  }
  for (const d of target.values()) out.push({ kind: 'extra', key: keyOf(t, d), down: d });
  return out;
}

/** A value for a report: the text of a compared value when it is printable, else its hex. */
export function shown(hex: string | null): string | null {
  if (hex === null) return null;
  const b = Buffer.from(hex, 'hex');
  const s = b.toString('utf8');
  // eslint-disable-next-line no-control-regex
  return Buffer.from(s, 'utf8').equals(b) && !/[\x00-\x08\x0e-\x1f\x7f]/.test(s) ? s : `0x${hex}`;
}

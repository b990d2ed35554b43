// Causality between transactions applied in parallel: a transaction goes to the applier that owns
// any of its keys (primary/unique key values), so changes to one row stay in order; when its keys
// are owned by several appliers, those must drain first. Ownership ends once the owner has
// committed the transaction that took it. Pure.

export type Assignment = { applier: number } | { waitFor: number[] };

export class Causality {
  private readonly owner = new Map<string, { applier: number; seq: number }>();
  private readonly committed: number[];
  private next = 0;

  constructor(private readonly appliers: number) {
    this.committed = new Array<number>(appliers).fill(0);
  }

  assign(keys: string[], seq: number): Assignment {
    const owners = new Set<number>();
    for (const k of keys) {
      const o = this.owner.get(k);
      if (o && o.seq > this.committed[o.applier]) owners.add(o.applier);
    }
    if (owners.size > 1) return { waitFor: [...owners] };
    let applier: number;
    if (owners.size === 1) applier = [...owners][0];
    else {
      applier = this.next;
      this.next = (this.next + 1) % this.appliers;
    }
    for (const k of keys) this.owner.set(k, { applier, seq });
    return { applier };
  }

  /** The applier has committed every transaction up to `seq`. */
  commit(applier: number, seq: number): void {
    this.committed[applier] = Math.max(this.committed[applier], seq);
    if (this.owner.size > 500_000) {
      for (const [k, o] of this.owner) if (o.seq <= this.committed[o.applier]) this.owner.delete(k);
    }
  }

  get size(): number {
    return this.owner.size;
  }
}

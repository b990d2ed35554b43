// Causality between transactions applied in parallel: a transaction goes to the applier that owns
// any of its keys (primary/unique key values), so changes to one row stay in order. When its keys
// are owned by several appliers, it goes to one of them with dependencies on the others: that
// applier runs it only after each of them has committed the transaction that owns the shared
// keys (the reader goes on meanwhile). Ownership ends once the owner has committed the
// transaction that took it. Pure.
//
// No deadlock: a dependency always names an earlier transaction, and an applier waits for one only
// between target transactions (applier.ts), after committing everything before it; so the
// earliest uncommitted transaction can always go.

/** Applier `applier` must have committed the transaction `seq` first. */
export interface Dependency {
  applier: number;
  seq: number;
}

export interface Assignment {
  applier: number;
  deps: Dependency[];
}

export class Causality {
  private readonly owner = new Map<string, { applier: number; seq: number }>();
  private readonly committed: number[];
  /** Per applier, the keys it took, in order: dropped from `owner` as it commits (so the map
   * holds only keys of transactions in flight, and the GC has little to trace). */
  private readonly taken: Array<Array<{ key: string; seq: number }>>;
  private readonly takenHead: number[];
  private next = 0;

  constructor(
    private readonly appliers: number,
    /** Where a transaction with no owned key goes (default: round robin). */
    private readonly pick?: () => number,
  ) {
    this.committed = new Array<number>(appliers).fill(0);
    this.taken = Array.from({ length: appliers }, () => []);
    this.takenHead = new Array<number>(appliers).fill(0);
  }

  assign(keys: string[], seq: number): Assignment {
    /** Owner applier → the latest transaction of it that owns one of these keys. */
    const owners = new Map<number, number>();
    for (const k of keys) {
      const o = this.owner.get(k);
      if (o && o.seq > this.committed[o.applier])
        owners.set(o.applier, Math.max(owners.get(o.applier) ?? 0, o.seq));
    }
    let applier: number;
    if (owners.size) {
      // The owner with the latest transaction: the others are the likelier to have committed first.
      applier = [...owners].reduce((a, b) => (b[1] > a[1] ? b : a))[0];
    } else if (this.pick) applier = this.pick();
    else {
      applier = this.next;
      this.next = (this.next + 1) % this.appliers;
    }
    const deps: Dependency[] = [];
    for (const [a, s] of owners) if (a !== applier) deps.push({ applier: a, seq: s });
    const taken = this.taken[applier];
    for (const key of keys) {
      this.owner.set(key, { applier, seq });
      taken.push({ key, seq });
    }
    return { applier, deps };
  }

  /** Whether every dependency is committed. */
  met(deps: Dependency[]): boolean {
    return deps.every((d) => this.committed[d.applier] >= d.seq);
  }

  /** The applier has committed every transaction up to `seq`. */
  commit(applier: number, seq: number): void {
    this.committed[applier] = Math.max(this.committed[applier], seq);
    const taken = this.taken[applier];
    let h = this.takenHead[applier];
    while (h < taken.length && taken[h].seq <= seq) {
      const { key, seq: s } = taken[h++];
      const o = this.owner.get(key);
      if (o && o.applier === applier && o.seq === s) this.owner.delete(key);
    }
    if (h > 1024 && h * 2 > taken.length) {
      taken.splice(0, h);
      h = 0;
    }
    this.takenHead[applier] = h;
  }

  get size(): number {
    return this.owner.size;
  }
}

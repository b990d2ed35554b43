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
  /** Per applier, the keys it took and their transactions, in order: dropped from `owner` as it
   * commits (so the map holds only keys of transactions in flight, and the GC has little to trace). */
  private readonly takenKeys: string[][];
  private readonly takenSeqs: number[][];
  private readonly takenHead: number[];
  private next = 0;
  /** Scratch: per applier, the latest of its transactions owning a key of the one assigned. */
  private readonly latest: number[];

  constructor(
    private readonly appliers: number,
    /** Where a transaction with no owned key goes (default: round robin). */
    private readonly pick?: () => number,
  ) {
    this.committed = new Array<number>(appliers).fill(0);
    this.takenKeys = Array.from({ length: appliers }, () => []);
    this.takenSeqs = Array.from({ length: appliers }, () => []);
    this.takenHead = new Array<number>(appliers).fill(0);
    this.latest = new Array<number>(appliers).fill(0);
  }

  /** Keys applier `a` holds for transactions in flight. */
  private load(a: number): number {
    return this.takenKeys[a].length - this.takenHead[a];
  }

  assign(keys: string[], seq: number): Assignment {
    const latest = this.latest;
    let owners = 0;
    for (const k of keys) {
      const o = this.owner.get(k);
      if (!o || o.seq <= this.committed[o.applier]) continue;
      if (!latest[o.applier]) owners++;
      if (o.seq > latest[o.applier]) latest[o.applier] = o.seq;
    }
    // Of several owners, the one holding the most keys in flight (then the one with the latest
    // transaction): where transactions share a few hot rows, the busiest applier keeps them and
    // takes the next transaction without a wait, instead of the rows hopping between appliers with
    // a dependency at each hop (which makes all appliers wait on one another in turn).
    let applier = -1;
    for (let a = 0; owners && a < this.appliers; a++) {
      if (!latest[a]) continue;
      const more = applier < 0 ? 1 : this.load(a) - this.load(applier);
      if (more > 0 || (more === 0 && latest[a] > latest[applier])) applier = a;
    }
    const deps: Dependency[] = [];
    if (owners) {
      for (let a = 0; a < this.appliers; a++) {
        if (latest[a] && a !== applier) deps.push({ applier: a, seq: latest[a] });
        latest[a] = 0;
      }
    } else if (this.pick) applier = this.pick();
    else {
      applier = this.next;
      this.next = (this.next + 1) % this.appliers;
    }
    const takenKeys = this.takenKeys[applier];
    const takenSeqs = this.takenSeqs[applier];
    for (const key of keys) {
      const o = this.owner.get(key);
      if (o) {
        o.applier = applier;
        o.seq = seq;
      } else this.owner.set(key, { applier, seq });
      takenKeys.push(key);
      takenSeqs.push(seq);
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
    const keys = this.takenKeys[applier];
    const seqs = this.takenSeqs[applier];
    let h = this.takenHead[applier];
    while (h < keys.length && seqs[h] <= seq) {
      const o = this.owner.get(keys[h]);
      if (o && o.applier === applier && o.seq === seqs[h]) this.owner.delete(keys[h]);
      h++;
    }
    if (h > 1024 && h * 2 > keys.length) {
      keys.splice(0, h);
      seqs.splice(0, h);
      h = 0;
    }
    this.takenHead[applier] = h;
  }

  get size(): number {
    return this.owner.size;
  }
}

// GTID sets of both flavours.
//  MySQL:   `3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7,4e11...:1-3`  (uuid → intervals of transaction numbers)
//  MariaDB: `0-1-100,1-2-50`  (domain-server-seq; one last GTID per replication domain)
import { DMError, ERR } from '../errors.js';

export type Flavor = 'mysql' | 'mariadb';

export interface GtidSet {
  readonly flavor: Flavor;
  /** Canonical text form (sorted, intervals merged). */
  toString(): string;
  clone(): GtidSet;
  isEmpty(): boolean;
  /** True when every transaction of `other` is in this set. */
  contains(other: GtidSet): boolean;
  equals(other: GtidSet): boolean;
  /** Adds every transaction of `other` to this set (in place) and returns this. */
  merge(other: GtidSet): this;
  /** Adds one transaction's GTID as the binlog names it (`uuid:gno`, or `domain-server-seq`). */
  addGtid(gtid: string): this;
}

/** Compares two sets: 0 equal, 1 `a` ⊋ `b`, -1 `a` ⊊ `b`, NaN when neither contains the other. */
export function compareGtidSets(a: GtidSet, b: GtidSet): number {
  const ab = a.contains(b);
  const ba = b.contains(a);
  if (ab && ba) return 0;
  if (ab) return 1;
  if (ba) return -1;
  return NaN;
}

export function parseGtidSet(flavor: Flavor, text: string): GtidSet {
  return flavor === 'mysql' ? MysqlGtidSet.parse(text) : MariadbGtidSet.parse(text);
}

/** Guesses the flavour of a GTID set text (a UUID means MySQL). */
export function detectGtidFlavor(text: string): Flavor {
  return /[0-9a-f]{8}-[0-9a-f]{4}-/i.test(text) ? 'mysql' : 'mariadb';
}

function sameFlavor<T extends GtidSet>(self: T, other: GtidSet): T {
  if (other.flavor !== self.flavor) {
    throw new DMError(ERR.parseGtid, `cannot combine a ${self.flavor} GTID set with a ${other.flavor} one`);
  }
  return other as T;
}

// ---------------------------------------------------------------- MySQL

/** Inclusive interval of transaction numbers. */
export type Interval = [start: number, end: number];

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function normalizeIntervals(list: Interval[]): Interval[] {
  const sorted = list.map((i) => [i[0], i[1]] as Interval).sort((x, y) => x[0] - y[0]);
  const out: Interval[] = [];
  for (const iv of sorted) {
    const last = out[out.length - 1];
    if (last && iv[0] <= last[1] + 1) last[1] = Math.max(last[1], iv[1]);
    else out.push(iv);
  }
  return out;
}

export class MysqlGtidSet implements GtidSet {
  readonly flavor = 'mysql' as const;
  /** uuid (lower case) → sorted, disjoint, non-adjacent intervals */
  readonly sets = new Map<string, Interval[]>();

  static parse(text: string): MysqlGtidSet {
    const set = new MysqlGtidSet();
    const s = text.replace(/\s+/g, '');
    if (s === '') return set;
    for (const part of s.split(',')) {
      if (part === '') continue;
      const [uuidRaw, ...ranges] = part.split(':');
      const uuid = uuidRaw.toLowerCase();
      if (!UUID_RE.test(uuid))
        throw new DMError(ERR.parseGtid, `invalid MySQL GTID set '${text}': bad server UUID '${uuidRaw}'`);
      if (ranges.length === 0)
        throw new DMError(ERR.parseGtid, `invalid MySQL GTID set '${text}': '${part}' has no interval`);
      const list: Interval[] = [];
      for (const r of ranges) {
        const m = /^(\d+)(?:-(\d+))?$/.exec(r);
        if (!m) throw new DMError(ERR.parseGtid, `invalid MySQL GTID set '${text}': bad interval '${r}'`);
        const start = Number(m[1]);
        const end = m[2] === undefined ? start : Number(m[2]);
        if (start < 1 || end < start || !Number.isSafeInteger(end)) {
          throw new DMError(ERR.parseGtid, `invalid MySQL GTID set '${text}': bad interval '${r}'`);
        }
        list.push([start, end]);
      }
      set.sets.set(uuid, normalizeIntervals([...(set.sets.get(uuid) ?? []), ...list]));
    }
    return set;
  }

  addGtid(gtid: string): this {
    const i = gtid.lastIndexOf(':');
    const gno = Number(gtid.slice(i + 1));
    if (i < 0 || !Number.isInteger(gno) || gno < 1)
      throw new DMError(ERR.parseGtid, `invalid MySQL GTID '${gtid}'`);
    return this.add(gtid.slice(0, i), gno);
  }

  /** Adds one transaction `uuid:gno`. */
  add(uuid: string, gno: number): this {
    const key = uuid.toLowerCase();
    const list = this.sets.get(key);
    if (!list || list.length === 0) {
      this.sets.set(key, [[gno, gno]]);
      return this;
    }
    const last = list[list.length - 1];
    if (gno === last[1] + 1)
      last[1] = gno; // the common case: the next transaction
    else if (!this.has(key, gno)) this.sets.set(key, normalizeIntervals([...list, [gno, gno]]));
    return this;
  }

  has(uuid: string, gno: number): boolean {
    const list = this.sets.get(uuid.toLowerCase());
    return !!list && list.some(([a, b]) => gno >= a && gno <= b);
  }

  toString(): string {
    return [...this.sets.keys()]
      .sort()
      .filter((u) => this.sets.get(u)!.length > 0)
      .map(
        (u) =>
          `${u}:${this.sets
            .get(u)!
            .map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`))
            .join(':')}`,
      )
      .join(',');
  }

  clone(): MysqlGtidSet {
    const c = new MysqlGtidSet();
    for (const [u, list] of this.sets)
      c.sets.set(
        u,
        list.map((i) => [i[0], i[1]] as Interval),
      );
    return c;
  }

  isEmpty(): boolean {
    for (const list of this.sets.values()) if (list.length > 0) return false;
    return true;
  }

  contains(other: GtidSet): boolean {
    const o = sameFlavor(this, other);
    for (const [u, list] of o.sets) {
      const mine = this.sets.get(u) ?? [];
      for (const [a, b] of list) {
        if (!mine.some(([x, y]) => a >= x && b <= y)) return false;
      }
    }
    return true;
  }

  equals(other: GtidSet): boolean {
    return other.flavor === this.flavor && this.toString() === other.toString();
  }

  merge(other: GtidSet): this {
    const o = sameFlavor(this, other);
    for (const [u, list] of o.sets) {
      this.sets.set(u, normalizeIntervals([...(this.sets.get(u) ?? []), ...list]));
    }
    return this;
  }

  /** The binary form COM_BINLOG_DUMP_GTID and PREVIOUS_GTIDS use (intervals end-exclusive). */
  encode(): Buffer {
    const uuids = [...this.sets.keys()].sort().filter((u) => this.sets.get(u)!.length > 0);
    let size = 8;
    for (const u of uuids) size += 16 + 8 + 16 * this.sets.get(u)!.length;
    const buf = Buffer.alloc(size);
    let off = buf.writeBigUInt64LE(BigInt(uuids.length), 0);
    for (const u of uuids) {
      Buffer.from(u.replace(/-/g, ''), 'hex').copy(buf, off);
      off += 16;
      const list = this.sets.get(u)!;
      off = buf.writeBigUInt64LE(BigInt(list.length), off);
      for (const [a, b] of list) {
        off = buf.writeBigInt64LE(BigInt(a), off);
        off = buf.writeBigInt64LE(BigInt(b + 1), off);
      }
    }
    return buf;
  }
}

export function formatUuid(bytes: Buffer): string {
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

// ---------------------------------------------------------------- MariaDB

export interface MariadbGtid {
  domain: number;
  server: number;
  seq: number;
}

export function parseMariadbGtid(text: string): MariadbGtid {
  const m = /^(\d+)-(\d+)-(\d+)$/.exec(text.trim());
  if (!m)
    throw new DMError(ERR.parseGtid, `invalid MariaDB GTID '${text}': expected 'domain-server-sequence'`);
  const g = { domain: Number(m[1]), server: Number(m[2]), seq: Number(m[3]) };
  if (g.domain > 0xffffffff || g.server > 0xffffffff || !Number.isSafeInteger(g.seq)) {
    throw new DMError(ERR.parseGtid, `invalid MariaDB GTID '${text}': number out of range`);
  }
  return g;
}

export class MariadbGtidSet implements GtidSet {
  readonly flavor = 'mariadb' as const;
  /** domain → last GTID applied in that domain */
  readonly domains = new Map<number, MariadbGtid>();

  static parse(text: string): MariadbGtidSet {
    const set = new MariadbGtidSet();
    const s = text.replace(/\s+/g, '');
    if (s === '') return set;
    for (const part of s.split(',')) {
      if (part === '') continue;
      const g = parseMariadbGtid(part);
      if (set.domains.has(g.domain)) {
        throw new DMError(
          ERR.parseGtid,
          `invalid MariaDB GTID list '${text}': domain ${g.domain} appears twice`,
        );
      }
      set.domains.set(g.domain, g);
    }
    return set;
  }

  addGtid(gtid: string): this {
    return this.add(parseMariadbGtid(gtid));
  }

  /** Records `gtid` as the latest transaction of its domain. */
  add(gtid: MariadbGtid): this {
    this.domains.set(gtid.domain, { ...gtid });
    return this;
  }

  toString(): string {
    return [...this.domains.values()]
      .sort((a, b) => a.domain - b.domain)
      .map((g) => `${g.domain}-${g.server}-${g.seq}`)
      .join(',');
  }

  clone(): MariadbGtidSet {
    const c = new MariadbGtidSet();
    for (const g of this.domains.values()) c.add(g);
    return c;
  }

  isEmpty(): boolean {
    return this.domains.size === 0;
  }

  contains(other: GtidSet): boolean {
    const o = sameFlavor(this, other);
    for (const g of o.domains.values()) {
      const mine = this.domains.get(g.domain);
      if (!mine || mine.seq < g.seq) return false;
    }
    return true;
  }

  equals(other: GtidSet): boolean {
    return other.flavor === this.flavor && this.toString() === other.toString();
  }

  merge(other: GtidSet): this {
    const o = sameFlavor(this, other);
    for (const g of o.domains.values()) {
      const mine = this.domains.get(g.domain);
      if (!mine || mine.seq < g.seq) this.add(g);
    }
    return this;
  }
}

// A binlog location: a file and offset, with the GTID set executed up to there ('' when not
// known), in the GTID set's canonical text (parseGtidSet for the typed set). The one shape Sync,
// its checkpoints, the relay and status use; DM's file formats (task `meta`, `relay.meta`, the
// dump's `metadata`) are read into it at their edge.
import { parseGtidSet, type Flavor, type GtidSet } from './gtid.js';
import { comparePosition, formatPosition, type BinlogPosition } from './position.js';

export interface Location {
  pos: BinlogPosition;
  gtid: string;
}

/** DM's meta shapes (`binlog-name`, `binlog-pos`, `binlog-gtid`; the dump's `gtid`). */
export function locationOf(m: {
  binlogName: string;
  binlogPos: number;
  binlogGtid?: string;
  gtid?: string;
}): Location {
  return { pos: { file: m.binlogName, pos: m.binlogPos }, gtid: m.binlogGtid ?? m.gtid ?? '' };
}

/** `(mysql-bin.000001, 1234)`, with the GTID set after it when known. */
export function formatLocation(l: Location): string {
  return formatPosition(l.pos) + (l.gtid ? ` ${l.gtid}` : '');
}

/** Orders by position (a GTID set does not order locations of one server's binlog further). */
export function compareLocation(a: Location, b: Location): number {
  return comparePosition(a.pos, b.pos);
}

/** The typed GTID set of a location, when it has one. */
export function gtidSetOf(l: Location, flavor: Flavor): GtidSet | undefined {
  return l.gtid ? parseGtidSet(flavor, l.gtid) : undefined;
}

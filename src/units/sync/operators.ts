// The operator's binlog operations (DM's `binlog skip | replace | inject | revert | list`): a
// decision for the transaction that ends at a position, taken once when Sync reaches it.
import { DMError, ERR } from '../../errors.js';
import {
  comparePosition,
  formatPosition,
  parsePosition,
  parseRelayName,
  relayName,
  type BinlogPosition,
} from '../../binlog/position.js';

/** skip: do not apply it; replace: run `sqls` instead; inject: run `sqls` first, then it. */
export type OperatorKind = 'skip' | 'replace' | 'inject';
export type BinlogOp = OperatorKind | 'revert' | 'list';
export const BINLOG_OPS: readonly BinlogOp[] = ['skip', 'replace', 'inject', 'revert', 'list'];

export interface ErrorOp {
  op: OperatorKind;
  sqls: string[];
}

export interface ListedOp extends ErrorOp {
  binlogPos: string;
}

/** A position as Sync names transactions: DM's `mysql-bin|000001.000003:3270` (first relay
 * sub-directory) is `(mysql-bin.000003, 3270)`. */
export function operatorPosition(text: string): BinlogPosition {
  const p = parsePosition(text);
  const r = parseRelayName(p.file);
  return { file: relayName(r.suffix, r.file), pos: p.pos };
}

export class BinlogOperators {
  private readonly ops = new Map<string, ErrorOp & { at: BinlogPosition }>();

  set(at: BinlogPosition, op: ErrorOp): void {
    this.ops.set(formatPosition(at), { ...op, at });
  }

  /** Cancels the operation at `at`; an error when there is none. */
  revert(at: BinlogPosition): void {
    if (!this.ops.delete(formatPosition(at))) {
      throw new DMError(ERR.handleErrorArgs, {
        message: `there is no binlog operation at ${formatPosition(at)} to revert`,
        workaround: "'binlog list <task>' shows the pending operations and their positions.",
      });
    }
  }

  /** The pending operations at or after `from` (all without it), in binlog order. */
  list(from?: BinlogPosition): ListedOp[] {
    return [...this.ops.values()]
      .filter((o) => !from || comparePosition(o.at, from) >= 0)
      .sort((a, b) => comparePosition(a.at, b.at))
      .map((o) => ({ binlogPos: formatPosition(o.at), op: o.op, sqls: o.sqls }));
  }

  /** The operation for the transaction ending at `endText`. */
  at(endText: string): ErrorOp | undefined {
    const o = this.ops.get(endText);
    return o && { op: o.op, sqls: o.sqls };
  }

  /** The operation at `endText` has been carried out (it applies once). */
  done(endText: string): void {
    this.ops.delete(endText);
  }

  /** Drops operations for transactions applied up to `pos` (they can never apply). */
  dropThrough(pos: BinlogPosition): void {
    for (const [k, o] of this.ops) if (comparePosition(o.at, pos) <= 0) this.ops.delete(k);
  }
}

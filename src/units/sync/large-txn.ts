// When Sync applies an upstream transaction as it reads it, and how such a transaction ends. Once
// the open transaction holds many rows (STREAM_AT), and nothing may need it whole (an operator's
// pending decision may be for it; a shard lock may hold its rows back), everything before it is
// committed and its rows go to the target as they come (stream.ts). At its end it commits with its
// checkpoint row, or rolls back and goes to the run's handlers like any transaction.
import { comparePosition, formatPosition } from '../../binlog/position.js';
import type { SqlSession } from '../../mysql/protocol.js';
import type { SyncContext } from './context.js';
import { injectWhileStreamed, statementError } from './errors.js';
import type { Tracked } from './progress.js';
import { streamDue, takesLoadData, TxnStream } from './stream.js';
import type { Txn, TxnAssembler } from './txn.js';

/** What the run lends the large transactions. */
export interface LargeTxnHost {
  c: SyncContext;
  /** Resolves when everything read before is committed (throws the run's failure). */
  drain(): Promise<void>;
  /** A new target session offering LOAD DATA LOCAL (opened once, for the first large
   * transaction). */
  session(): Promise<SqlSession>;
  /** Transactions a shard lock held back in this run. */
  held(): number;
  /** Whether a transaction ending at `endText` was applied before a crash (the recovered list). */
  applied(endText: string): boolean;
  /** An error at `txn` (recorded as the failed transaction). */
  failed(e: unknown, txn: Tracked, sql?: string): unknown;
}

export class LargeTxns {
  private stream?: TxnStream;
  private conn?: SqlSession;
  /** Whether the session takes LOAD DATA LOCAL. */
  private tsv = false;

  constructor(private readonly h: LargeTxnHost) {}

  /** A transaction is being applied as it is read. */
  get open(): boolean {
    return this.stream !== undefined;
  }

  /** Whether the transaction being read holds enough rows to be applied as it is read (checked
   * after each of its events, without a promise). */
  due(asm: TxnAssembler): boolean {
    return streamDue(asm, this.h.c.streamAt);
  }

  /** Once due: applies the open transaction's rows so far. */
  async spill(asm: TxnAssembler): Promise<void> {
    const { state, cfg, log } = this.h.c;
    if (!this.stream) {
      if (!this.mayStream()) return;
      await this.h.drain();
      const sy = cfg.instance.syncer;
      if (!this.conn) {
        this.conn = await this.h.session();
        this.tsv = await takesLoadData(this.conn);
        log.info(
          this.tsv
            ? "sync: large transactions' inserts go to the target as LOAD DATA rows"
            : "sync: large transactions' inserts go to the target as INSERTs (it does not take LOAD DATA LOCAL: @@local_infile)",
        );
      }
      this.stream = new TxnStream(this.conn, state.safeMode, sy.compact || sy.multipleRows, this.tsv);
      log.info(
        { after: formatPosition(state.lwm.position!), rows: asm.heldRows },
        'sync: a large transaction: applying it as it is read',
      );
    }
    const part = asm.spill();
    part.endText = `in the transaction after ${formatPosition(state.lwm.position!)}`;
    await this.send(this.stream, part);
  }

  private mayStream(): boolean {
    const { operators, shard, state } = this.h.c;
    return !operators.list(state.lwm.position).length && this.h.held() === 0 && !shard?.holding;
  }

  /** Compiles rows of the transaction and sends them (after the chunk on the wire). */
  private async send(s: TxnStream, part: Txn): Promise<void> {
    if (s.failure) return; // read on to its end (its position names the failure), dropping rows
    try {
      const compiled = await this.h.c.compiler.compile(part, this.h.c.tracker!);
      part.rows = [];
      if (!compiled) return;
      this.h.c.state.rows.total += compiled.changes.length;
      await s.send(compiled.changes);
    } catch (e) {
      s.fail(e);
    }
  }

  /** The end of the open transaction: its last rows, then its commit with the checkpoint; else
   * 'dispatch': rolled back, for the run's handlers (an operator's skip or replace, or applied
   * before a crash). */
  async end(txn: Txn): Promise<'committed' | 'dispatch'> {
    const s = this.stream!;
    this.stream = undefined;
    const { state, verdicts, operators, checkpoint, log } = this.h.c;
    await this.send(s, txn);
    const failure = await s.settle();
    const stmt = verdicts.replicatedStatement(txn);
    const op = operators.at(txn.endText);
    const applied = this.h.applied(txn.endText);
    if (failure || stmt || op || applied) await s.rollback().catch(() => undefined);
    if (failure) throw this.h.failed(failure.error, txn, failure.sql);
    if (stmt) throw this.h.failed(statementError(txn, stmt), txn);
    if (op?.op === 'inject') throw this.h.failed(injectWhileStreamed(txn), txn);
    if (op || applied) return 'dispatch';
    if (state.safeUntil && comparePosition(txn.end, state.safeUntil) >= 0) state.safeUntil = undefined;
    // Its own checkpoint row (a writer of its own, like each applier): the mark after it, with
    // nothing beyond (everything before it is committed).
    const lwm = state.lwm.markWith([txn]);
    try {
      await s.commit(checkpoint.saveSQL('large', { lwm, applied: [] }));
    } catch (e) {
      throw this.h.failed(e, txn, 'COMMIT');
    }
    state.lwm.complete(txn);
    log.info({ at: txn.endText, rows: s.rows }, 'sync: the large transaction is committed');
    return 'committed';
  }
}

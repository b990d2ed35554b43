// check-data over a plan: table by table, key ranges of about `chunkRows` target rows cut one after
// another on the target and checked by `threads` workers at once (each with its own sessions). A
// confirmed difference gets the statement that fixes it; with `fix`, the statement runs on the
// target in a transaction that first locks the row and checks it is still what was compared (a row
// Sync changed meanwhile is left to Sync, and counted as not fixed).
import type { SqlSession } from '../mysql/protocol.js';
import { ChunkChecker, nextBoundary, type DiffEdges } from './chunk.js';
import { shown, type Difference, type Row } from './compare.js';
import type { Plan, TargetPlan } from './plan.js';
import { readShape, upstreamProblem } from './shape.js';
import { fixSQL, rowsByKeySQL, type Range, type TableShape } from './sql.js';

export interface CheckDataOptions {
  chunkRows: number;
  /** Rows of a differing range read to find its rows (a larger one is halved first). */
  fetchRows: number;
  threads: number;
  /** Reads of a differing row before it is reported (it may only be in flight). */
  retries: number;
  retryMs: number;
  fix: boolean;
  /** Differences listed per table (all are counted and get their statement). */
  maxReported: number;
}

export interface Reported {
  kind: Difference['kind'];
  key: Record<string, string | null>;
  columns?: string[];
  upstream?: Record<string, string | null>;
  target?: Record<string, string | null>;
  sql: string;
}

export interface TableReport {
  table: string;
  shards: string[];
  rows: number;
  chunks: number;
  differences: number;
  reported: Reported[];
  fixed: number;
  /** Differences not fixed: the row changed on the target after it was compared. */
  notFixed: number;
  /** Why the table was not compared. */
  problem?: string;
}

export interface Progress {
  table: string;
  tableIndex: number;
  tables: number;
  chunks: number;
  rows: number;
  differences: number;
}

const showRow = (r: Row | undefined) =>
  r && Object.fromEntries(Object.entries(r).map(([k, v]) => [k, shown(v)]));

export class CheckData {
  constructor(
    private readonly edges: (worker: number) => DiffEdges,
    private readonly o: CheckDataOptions,
    private readonly hooks: { progress(p: Progress): void; statement(sql: string): Promise<void> | void },
  ) {}

  async run(plan: Plan): Promise<TableReport[]> {
    const out: TableReport[] = [];
    for (const [i, t] of plan.targets.entries()) out.push(await this.table(t, i, plan.targets.length));
    return out;
  }

  private async table(p: TargetPlan, index: number, count: number): Promise<TableReport> {
    const name = `\`${p.db}\`.\`${p.table}\``;
    const report: TableReport = {
      table: name,
      shards: p.shards.map((s) => `${s.source}:\`${s.db}\`.\`${s.table}\``),
      rows: 0,
      chunks: 0,
      differences: 0,
      reported: [],
      fixed: 0,
      notFixed: 0,
    };
    // The ranges are cut on a session of their own (the workers' are busy with their chunks).
    const main = this.edges(this.o.threads);
    const target = await main.target();
    const shape = await readShape(target, p.db, p.table);
    if (typeof shape === 'string') return { ...report, problem: shape };
    for (const s of p.shards) {
      const why = await upstreamProblem(await main.upstream(s.source), shape, s.db, s.table);
      if (why) return { ...report, problem: why };
    }
    const queue: Range[] = [];
    let cutting = true;
    let failure: unknown;
    const cut = (async () => {
      let after: string[] | undefined;
      for (;;) {
        const upto = await nextBoundary(target, shape, { after }, this.o.chunkRows - 1);
        queue.push({ after, upto });
        if (!upto) break;
        if (after && upto.join() === after.join())
          throw new Error(
            `check-data cannot cut ${name} into key ranges: the key ${upto.join(', ')} comes back`,
          );
        after = upto;
      }
    })()
      .catch((e) => (failure ??= e))
      .finally(() => (cutting = false));
    const work = async (w: number) => {
      const e = this.edges(w);
      const checker = new ChunkChecker(e, shape, p.shards, this.o);
      for (;;) {
        if (failure) return;
        const r = queue.shift();
        if (!r) {
          if (!cutting) return;
          await new Promise((res) => setTimeout(res, 5));
          continue;
        }
        const done = await checker.check(r);
        if (done.split) {
          queue.unshift(...done.split);
          continue;
        }
        report.chunks++;
        report.rows += done.rows;
        for (const d of done.differences) await this.differ(shape, d, report, await e.target());
        this.hooks.progress({
          table: name,
          tableIndex: index,
          tables: count,
          chunks: report.chunks,
          rows: report.rows,
          differences: report.differences,
        });
      }
    };
    const workers = Array.from({ length: this.o.threads }, (_, w) =>
      work(w).catch((err) => {
        failure ??= err;
      }),
    );
    await Promise.all([cut, ...workers]);
    if (failure) throw failure;
    return report;
  }

  /** Records a confirmed difference: its statement, its report, and with `fix` the fix. */
  private async differ(t: TableShape, d: Difference, report: TableReport, target: SqlSession): Promise<void> {
    const sql = fixSQL(t, d.up, d.down);
    report.differences++;
    await this.hooks.statement(sql);
    if (report.reported.length < this.o.maxReported) {
      report.reported.push({
        kind: d.kind,
        key: showRow(d.key)!,
        ...(d.columns ? { columns: d.columns } : {}),
        ...(d.up ? { upstream: showRow(d.up) } : {}),
        ...(d.down ? { target: showRow(d.down) } : {}),
        sql,
      });
    }
    if (!this.o.fix) return;
    await target.exec('BEGIN');
    try {
      const [now] = await target.query(`${rowsByKeySQL(t, t.db, t.table, [d.key])} FOR UPDATE`);
      const same = d.down ? now && t.columns.every((c) => now[c.name] === d.down![c.name]) : !now;
      if (same) {
        await target.exec(sql);
        report.fixed++;
      } else report.notFixed++;
      await target.exec('COMMIT');
    } catch (e) {
      await target.exec('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }
}

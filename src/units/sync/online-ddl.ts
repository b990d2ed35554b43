// Online schema changes (DM's `online-ddl`): gh-ost and pt-online-schema-change alter a table by
// creating a shadow copy (`_t_gho`, `_t_new`), altering it, copying the rows into it while changes
// reach both, then swapping it in with `RENAME TABLE t TO _t_del, _t_gho TO t`. On the target
// none of that is needed: the shadow and trash tables are never created and their rows never
// applied; the shadow's ALTERs are recorded in `<meta-schema>.<task>_onlineddl` (DM's table, so a
// crash loses nothing), and at the swap they run once against the real (routed) table, as an
// ordinary DDL of that table (a shard DDL when it is one).
//
// `decide` (pure) says what a DDL is; `OnlineDDL` keeps the records and writes the SQL.
import { DMError, ERR } from '../../errors.js';
import { quoteString, quoteTable } from '../../mysql/connect.js';
import type { SqlSession } from '../../mysql/protocol.js';
import { OnlineTables } from '../../rules/online-ddl.js';
import { classifyQuery, rewriteNames, stripLeadingComments, type TableName } from '../../schema/ddl.js';
import type { SubTaskConfig } from '../../task/config.js';
import { createMetaSchema, forgetSource } from '../meta.js';
import type { Txn } from './txn.js';

type DDL = NonNullable<Txn['ddl']>;

export type OnlineStep =
  /** Not an online schema change's statement: applied as any DDL. */
  | { kind: 'pass' }
  /** Nothing reaches the target; `forget`: shadow tables whose records end (created anew,
   * dropped, or renamed away); `record`: a DDL of a shadow table to run at its swap. `real`: the
   * real tables concerned (when the block-allow list leaves them all out, nothing is done). */
  | { kind: 'absorb'; real: TableName[]; forget: TableName[]; record?: { shadow: TableName; ddl: string } }
  /** The swap: the recorded DDLs of `shadow` run against `real`. */
  | { kind: 'replay'; real: TableName; shadow: TableName };

const key = (t: TableName) => `${t.db}\0${t.table}`;

function unsupported(ddl: DDL, why: string): DMError {
  return new DMError(ERR.onlineDDLUnsupported, `online DDL: ${why}: ${ddl.query}`);
}

/** What a DDL is to the online schema change rules. Pure. */
export function decide(ddl: DDL, tables: OnlineTables): OnlineStep {
  const { op, tables: names } = ddl.info;
  const kinds = names.map((t) => tables.kind(t.table));
  const real = (t: TableName): TableName => ({ db: t.db, table: tables.realName(t.table) });
  if (!kinds.length || kinds.every((k) => k === 'real')) return { kind: 'pass' };
  const renames = op === 'rename table' || (op === 'alter table' && names.length === 2);
  if (renames) return rename(ddl, tables);
  // CREATE TABLE … LIKE names its source second: the first table is what the statement is about.
  const [first] = names;
  const own = op === 'create table' ? [first] : names;
  const ownKinds = own.map((t) => tables.kind(t.table));
  if (ownKinds.includes('real')) {
    throw unsupported(
      ddl,
      `the statement names real tables and online schema change tables (${names.map((t) => quoteTable(t.db, t.table)).join(', ')})`,
    );
  }
  const shadows = own.filter((_, i) => ownKinds[i] === 'shadow');
  const reals = own.map(real);
  const records = ['alter table', 'create index', 'drop index'].includes(op);
  if (records && shadows.length)
    return { kind: 'absorb', real: reals, forget: [], record: { shadow: first, ddl: ddl.query } };
  // created (anew) or dropped: what was recorded for it is over; a trash table's DDL is nothing
  return { kind: 'absorb', real: reals, forget: op === 'create table' || op === 'drop table' ? shadows : [] };
}

/** A RENAME's pairs (`ALTER TABLE a RENAME TO b` is one pair). */
function rename(ddl: DDL, tables: OnlineTables): OnlineStep {
  const names = ddl.info.tables;
  const pairs: Array<{ from: TableName; to: TableName; shape: string }> = [];
  for (let i = 0; i + 1 < names.length; i += 2) {
    const [from, to] = [names[i], names[i + 1]];
    pairs.push({ from, to, shape: `${tables.kind(from.table)}>${tables.kind(to.table)}` });
  }
  if (ddl.info.op === 'alter table' && pairs[0].shape !== 'real>trash')
    throw unsupported(
      ddl,
      'ALTER TABLE … RENAME of an online schema change table (the tools swap tables with RENAME TABLE)',
    );
  // DM's check: a two-pair swap matches both rules, or neither (then the rules are wrong).
  if (pairs.length === 2) {
    const out = pairs[0].shape === 'real>trash';
    const into = pairs[1].shape === 'shadow>real';
    if (out !== into) {
      const [miss, rule] = out ? [pairs[1].from, 'shadow-table-rules'] : [pairs[0].to, 'trash-table-rules'];
      throw new DMError(
        ERR.onlineDDLMistakeRegex,
        `online DDL: ${ddl.query} swaps tables as an online schema change does, but table ${quoteTable(miss.db, miss.table)} does not match the task's ${rule}`,
      );
    }
  }
  const forget: TableName[] = [];
  const real: TableName[] = [];
  let replay: { real: TableName; shadow: TableName } | undefined;
  for (const p of pairs) {
    switch (p.shape) {
      case 'real>trash':
        real.push(p.from);
        break;
      case 'shadow>real':
        if (replay) throw unsupported(ddl, 'the RENAME swaps in more than one shadow table');
        replay = { real: p.to, shadow: p.from };
        break;
      case 'shadow>trash':
        forget.push(p.from);
        real.push({ db: p.from.db, table: tables.realName(p.from.table) });
        break;
      case 'trash>trash':
        real.push({ db: p.from.db, table: tables.realName(p.from.table) });
        break;
      default: {
        const what: Record<string, string> = {
          'real>real': 'the RENAME mixes real tables with online schema change tables',
          'real>shadow': `${quoteTable(p.to.db, p.to.table)} is a shadow table: a real table renamed to it cannot be followed`,
          'shadow>shadow': 'a shadow table renamed to another shadow table cannot be followed',
          'trash>real': `${quoteTable(p.from.db, p.from.table)} is a trash table: renaming it back to a real table (undoing a swap) cannot be followed`,
          'trash>shadow': 'a trash table renamed to a shadow table cannot be followed',
        };
        throw unsupported(ddl, what[p.shape] ?? p.shape);
      }
    }
  }
  if (replay && forget.length)
    throw unsupported(ddl, 'the RENAME both swaps in a shadow table and renames another away');
  return replay ? { kind: 'replay', ...replay } : { kind: 'absorb', real, forget };
}

/** What is recorded for one shadow table (DM's GhostDDLInfo: the real table, the DDLs). */
interface Recorded {
  schema: string;
  table: string;
  ddls: string[];
}

/** A recorded DDL's text with the shadow table named in full (it runs elsewhere later). */
function qualified(ddl: DDL, shadow: TableName, to: TableName): string {
  return rewriteNames(
    ddl.query,
    ddl.info.names.filter((n) => n.table === shadow.table && n.db === shadow.db),
    () => quoteTable(to.db, to.table),
  );
}

/** The recorded DDLs of a shadow table as one DDL of the real table: the one statement renamed,
 * or several ALTER TABLEs as one (their clauses joined). Pure. */
export function replayDDL(ddls: string[], shadow: TableName, real: TableName): DDL {
  const parsed = ddls.map((q) => {
    const info = classifyQuery(shadow.db, q);
    if (info.kind !== 'ddl')
      throw new DMError(ERR.onlineDDLInvalidMeta, `online DDL: the recorded statement is not a DDL: ${q}`);
    return { schema: shadow.db, query: q, info };
  });
  let query: string;
  if (parsed.length === 1) query = qualified(parsed[0], shadow, real);
  else {
    const clauses = parsed.map((d) => {
      const span = d.info.names[0];
      if (d.info.op !== 'alter table' || !span)
        throw new DMError(
          ERR.onlineDDLUnsupported,
          `online DDL: the statements recorded for ${quoteTable(shadow.db, shadow.table)} are not all ALTER TABLE, so they cannot run as one DDL of ${quoteTable(real.db, real.table)}: ${ddls.join('; ')}`,
        );
      return stripLeadingComments(d.query).slice(span.end).trim();
    });
    query = `ALTER TABLE ${quoteTable(real.db, real.table)} ${clauses.join(', ')}`;
  }
  const info = classifyQuery(real.db, query);
  if (info.kind !== 'ddl') throw new DMError(ERR.onlineDDLInvalidMeta, `online DDL: cannot replay ${query}`);
  return { schema: real.db, query, info };
}

export class OnlineDDL {
  readonly tables: OnlineTables;
  /** `<meta-schema>.<task>_onlineddl`, quoted. */
  readonly table: string;
  private readonly records = new Map<string, Recorded>();
  /** Swaps being applied in this run: the end position of the RENAME → its shadow table. */
  private readonly swaps = new Map<string, TableName>();

  constructor(
    private readonly cfg: Pick<SubTaskConfig, 'metaSchema' | 'name' | 'shadowTableRules' | 'trashTableRules'>,
    private readonly sourceId: string,
  ) {
    this.tables = new OnlineTables(cfg.shadowTableRules, cfg.trashTableRules);
    this.table = quoteTable(cfg.metaSchema, `${cfg.name}_onlineddl`);
  }

  /** Creates the table (DM's columns) and reads this source's records. */
  async open(c: SqlSession): Promise<void> {
    await createMetaSchema(c, this.cfg.metaSchema);
    await c.exec(`CREATE TABLE IF NOT EXISTS ${this.table} (
      id VARCHAR(128) NOT NULL,
      ghost_schema VARCHAR(128) NOT NULL,
      ghost_table VARCHAR(128) NOT NULL,
      ddls TEXT,
      update_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
      UNIQUE KEY uk_id_schema_table (id, ghost_schema, ghost_table)
    ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4`);
    this.records.clear();
    this.swaps.clear();
    const rows = await c.query(
      `SELECT ghost_schema, ghost_table, ddls FROM ${this.table} WHERE id = ${quoteString(this.sourceId)}`,
    );
    for (const r of rows) {
      const shadow = { db: r.ghost_schema ?? '', table: r.ghost_table ?? '' };
      try {
        const v = JSON.parse(r.ddls ?? '') as Recorded;
        if (!Array.isArray(v.ddls) || v.ddls.some((d) => typeof d !== 'string'))
          throw new Error('no ddls list');
        this.records.set(key(shadow), v);
      } catch (e) {
        throw new DMError(
          ERR.onlineDDLInvalidMeta,
          `online DDL: the row of ${this.table} for ${quoteTable(shadow.db, shadow.table)} cannot be read (${(e as Error).message}): ${r.ddls}`,
        );
      }
    }
  }

  /** What Sync does with a transaction's DDL: `absorb` (the SQL that records it; nothing reaches
   * the target), or nothing to do here: an ordinary DDL, or a swap, whose `txn.ddl` is now the
   * DDL of the real table and whose `swap` names the shadow table whose record ends with it.
   * `admitted`: whether the block-allow list admits one of these real tables. */
  handle(txn: Txn, admitted: (real: TableName[]) => boolean): { absorb?: string[]; swap?: TableName } {
    const step = decide(txn.ddl!, this.tables);
    if (step.kind === 'pass') return {};
    if (step.kind === 'replay') {
      txn.ddl = this.replay(step, txn);
      this.swaps.set(txn.endText, step.shadow);
      return { swap: step.shadow };
    }
    // a shadow's ALTER of a table the block-allow list leaves out is nothing
    return { absorb: admitted(step.real) ? this.absorbSQL(step, txn.ddl!) : [] };
  }

  /** An operator skips or replaces `txn`: if it is a swap, its shadow's record ends with it too. */
  noteSwap(txn: Txn): void {
    try {
      const step = txn.ddl && decide(txn.ddl, this.tables);
      if (step && step.kind === 'replay') this.swaps.set(txn.endText, step.shadow);
    } catch {
      // not a swap Sync could follow: nothing recorded to end
    }
  }

  /** The statements that record an absorbed step (none when there is nothing to change). */
  private absorbSQL(step: Extract<OnlineStep, { kind: 'absorb' }>, ddl: DDL): string[] {
    const out = step.forget.filter((s) => this.records.has(key(s))).map((s) => this.forgetSQL(s));
    const rec = step.record;
    if (rec) {
      const r = this.records.get(key(rec.shadow)) ?? {
        schema: rec.shadow.db,
        table: this.tables.realName(rec.shadow.table),
        ddls: [],
      };
      const text = qualified(ddl, rec.shadow, rec.shadow);
      // read again after a restart before its checkpoint: recorded once (as DM)
      if (r.ddls[r.ddls.length - 1] === text) return out;
      r.ddls = [...r.ddls, text];
      this.records.set(key(rec.shadow), r);
      out.push(
        `REPLACE INTO ${this.table} (id, ghost_schema, ghost_table, ddls) VALUES (${quoteString(this.sourceId)}, ${quoteString(rec.shadow.db)}, ${quoteString(rec.shadow.table)}, ${quoteString(JSON.stringify(r))})`,
      );
    }
    return out;
  }

  /** The swap's DDL of the real table (upstream names, routed later like any DDL). */
  private replay(step: Extract<OnlineStep, { kind: 'replay' }>, txn: Txn): DDL {
    const r = this.records.get(key(step.shadow));
    if (!r?.ddls.length) {
      throw new DMError(
        ERR.onlineDDLMissing,
        `online DDL: ${quoteTable(step.shadow.db, step.shadow.table)} is swapped in for ${quoteTable(step.real.db, step.real.table)} (binlog ${txn.endText}), but no ALTER of it was seen: the online schema change began before the task's start position`,
      );
    }
    return replayDDL(r.ddls, step.shadow, step.real);
  }

  /** `txn` is complete: if it was a swap, the statement ending its shadow table's records. */
  finished(txn: Txn): string | undefined {
    const shadow = this.swaps.get(txn.endText);
    if (!shadow) return undefined;
    this.swaps.delete(txn.endText);
    return this.records.has(key(shadow)) ? this.forgetSQL(shadow) : undefined;
  }

  private forgetSQL(shadow: TableName): string {
    this.records.delete(key(shadow));
    return `DELETE FROM ${this.table} WHERE id = ${quoteString(this.sourceId)} AND ghost_schema = ${quoteString(shadow.db)} AND ghost_table = ${quoteString(shadow.table)}`;
  }

  /** Forgets this source's records (start-task --remove-meta). */
  async clear(c: SqlSession): Promise<void> {
    this.records.clear();
    await forgetSource(c, this.table, this.sourceId);
  }
}

// collation_compatible: strict in Sync: an upstream CREATE DATABASE / CREATE TABLE gets the
// upstream's collations made explicit (schema/collation.ts) before it is routed and applied. The
// upstream's collation ids and charset defaults are read once from information_schema.COLLATIONS.
import type { SqlSession } from '../../mysql/protocol.js';
import { serverCollationId, strictCollation } from '../../schema/collation.js';
import type { Txn } from './txn.js';

export class StrictCollations {
  private maps?: Promise<{ byId: Map<number, string>; defaults: Map<string, string> }>;

  /** The DDL's text with implicit collations made explicit (other statements unchanged). */
  async adjust(ddl: NonNullable<Txn['ddl']>, upstream: SqlSession): Promise<string> {
    if (ddl.info.op !== 'create table' && ddl.info.op !== 'create database') return ddl.query;
    this.maps ??= upstream
      .query(
        'SELECT ID i, COLLATION_NAME n, CHARACTER_SET_NAME c, IS_DEFAULT d FROM information_schema.COLLATIONS',
      )
      .then((rows) => {
        const byId = new Map(rows.map((r) => [Number(r.i), String(r.n)]));
        const defaults = new Map(
          rows.filter((r) => r.d === 'Yes').map((r) => [String(r.c).toLowerCase(), String(r.n)]),
        );
        return { byId, defaults };
      });
    this.maps.catch(() => (this.maps = undefined));
    const { byId, defaults } = await this.maps;
    const id = ddl.statusVars && serverCollationId(ddl.statusVars);
    return strictCollation(ddl.query, { defaults, server: id === undefined ? undefined : byId.get(id) });
  }
}

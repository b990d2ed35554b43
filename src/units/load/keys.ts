// A large table's plain secondary keys, added once its rows are in: the dump moved them out of
// its CREATE TABLE into <db>.<table>-schema-keys.sql (dump/keys.ts). They are added only to a
// table this Load creates: a row in the load checkpoint, written before the CREATE TABLE, says so
// (a restart still knows), and is marked done once the keys are added, at the end of the Load
// that created the table. A table that existed before keeps its keys as they are.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DMError, ERR } from '../../errors.js';
import type { Logger } from '../../log.js';
import { quoteString, quoteTable } from '../../mysql/connect.js';
import { isServerError, type PacketConnection } from '../../mysql/protocol.js';
import { ER } from '../../mysql/errno.js';
import { addKeysSQL } from '../dump/keys.js';
import { parseDumpFile } from '../dump/files.js';
import type { LoaderCheckpoint } from './checkpoint.js';

type Name = { db: string; table: string };

export class KeysAfterRows {
  constructor(
    private readonly dir: string,
    private readonly checkpoint: LoaderCheckpoint,
    private readonly log: Logger,
  ) {}

  /** Before the CREATE TABLE of upstream `up` (whose keys are in `keysFile`) as `target`: a table
   * that does not exist yet is this Load's, and so are its keys (recorded). */
  async claim(c: PacketConnection, keysFile: string, up: Name, target: Name): Promise<void> {
    const exists = await c.query(
      `SELECT 1 AS x FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${quoteString(target.db)} AND TABLE_NAME = ${quoteString(target.table)}`,
    );
    if (exists.length) {
      this.log.info(
        { table: quoteTable(target.db, target.table) },
        'load: the table exists: its keys stay as they are',
      );
      return;
    }
    await this.checkpoint.register(c, [{ filename: keysFile, ...up, size: 1 }]);
  }

  /** Adds the keys of every table this Load claimed and has not finished, on the sessions of
   * `pool` at once (a key that is there already, added before a crash, counts as added). */
  async addPending(pool: PacketConnection[], route: (db: string, table: string) => Name): Promise<void> {
    const state = await this.checkpoint.load(pool[0]);
    const pending = [...state.values()].filter(
      (f) => f.offset < f.endPos && parseDumpFile(f.filename)?.kind === 'table-keys',
    );
    const work = async (c: PacketConnection) => {
      for (let f = pending.shift(); f; f = pending.shift()) {
        const up = parseDumpFile(f.filename) as Name;
        const target = route(up.db, up.table);
        const name = quoteTable(target.db, target.table);
        const keys = (await this.read(f.filename, name)).split('\n').filter(Boolean);
        const t0 = Date.now();
        try {
          await c.exec(addKeysSQL(name, keys));
        } catch (e) {
          if (!isServerError(e, ER.DUP_KEYNAME)) throw e;
        }
        await c.exec(this.checkpoint.doneSQL({ filename: f.filename, ...up, size: 1 }));
        this.log.info({ table: name, keys: keys.length, ms: Date.now() - t0 }, 'load: keys added');
      }
    };
    await Promise.all(pool.map(work));
  }

  private async read(file: string, table: string): Promise<string> {
    try {
      return await readFile(join(this.dir, file), 'utf8');
    } catch {
      throw new DMError(ERR.loadDumpDirNotFound, {
        message: `${table} was created without its secondary keys, to add after its rows, but ${file} is gone from the dump directory ${this.dir}`,
        workaround: `Add the table's keys as the upstream has them (SHOW CREATE TABLE there), then mark it done: DELETE FROM the load checkpoint the row of ${file}; or start the task again from scratch.`,
      });
    }
  }
}

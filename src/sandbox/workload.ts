// Test and playground data: sysbench-shaped tables filled by the server itself (MariaDB's
// sequence engine), so large tables take seconds and need no client-side generation.
import type { MariaDBSandbox } from './mariadb.js';

/** Creates `db.sbtest1..N`, each with `rows` rows in sysbench's schema (id, k, c, pad). */
export async function sysbenchTables(
  s: MariaDBSandbox,
  db: string,
  tables: number,
  rows: number,
): Promise<string[]> {
  await s.exec(`CREATE DATABASE IF NOT EXISTS \`${db}\``);
  const names: string[] = [];
  for (let i = 1; i <= tables; i++) {
    const t = `sbtest${i}`;
    names.push(t);
    await s.exec(`CREATE TABLE \`${db}\`.${t} (
        id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        k INT NOT NULL DEFAULT 0,
        c CHAR(120) NOT NULL DEFAULT '',
        pad CHAR(60) NOT NULL DEFAULT '',
        KEY k_${i} (k))`);
    await s.exec(`INSERT INTO \`${db}\`.${t} (id, k, c, pad)
        SELECT seq, FLOOR(RAND(seq + ${i}) * ${rows}),
          LEFT(CONCAT_WS('-', MD5(seq), MD5(seq * 3), MD5(seq * 7), MD5(seq * ${i + 10})), 119),
          LEFT(CONCAT_WS('-', MD5(seq * 13), MD5(seq * 17)), 59)
        FROM mysql.seq_1_to_${rows}`);
  }
  return names;
}

export interface OltpOptions {
  tables: number;
  rows: number;
  /** Transactions per connection (0: until `signal` aborts). */
  txns: number;
  concurrency: number;
  signal?: AbortSignal;
}

/** sysbench oltp_write_only's transaction, from `concurrency` connections: UPDATE by index, UPDATE
 * by key, DELETE then INSERT of the same id. Returns the number of committed transactions. */
export async function oltpWriteOnly(s: MariaDBSandbox, db: string, o: OltpOptions): Promise<number> {
  let committed = 0;
  const worker = async (w: number) => {
    const c = await s.connect(db);
    try {
      let rnd = 12345 + w * 7919;
      const next = (n: number) => {
        rnd = (rnd * 1103515245 + 12345) & 0x7fffffff;
        return 1 + (rnd % n);
      };
      for (let i = 0; (o.txns === 0 || i < o.txns) && !o.signal?.aborted; i++) {
        const t = `sbtest${next(o.tables)}`;
        const id = next(o.rows);
        const c120 = `${id}-${i}-${w}`.padEnd(119, 'x');
        try {
          await c.query('BEGIN');
          await c.query(`UPDATE ${t} SET k = k + 1 WHERE id = ?`, [next(o.rows)]);
          await c.query(`UPDATE ${t} SET c = ? WHERE id = ?`, [c120, next(o.rows)]);
          await c.query(`DELETE FROM ${t} WHERE id = ?`, [id]);
          await c.query(`INSERT INTO ${t} (id, k, c, pad) VALUES (?, ?, ?, ?)`, [
            id,
            next(o.rows),
            c120,
            'p'.repeat(59),
          ]);
          await c.query('COMMIT');
          committed++;
        } catch (e) {
          await c.query('ROLLBACK').catch(() => undefined);
          if ((e as { errno?: number }).errno !== 1213) throw e; // deadlocks are retried as new transactions
        }
      }
    } finally {
      await c.end();
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, (_, w) => worker(w)));
  return committed;
}

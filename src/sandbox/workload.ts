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

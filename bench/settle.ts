// Lets servers finish the background work a benchmark's preparation left (dirty pages of a bulk
// load, undo history of a sysbench run), so it does not run during, and slow, whichever contender
// comes first.
import type { MariaDBSandbox } from '../src/sandbox/mariadb.js';

async function number(s: MariaDBSandbox, sql: string): Promise<number> {
  const [row] = (await s.exec(sql)) as Record<string, unknown>[];
  return Number(Object.values(row ?? {}).pop() ?? 0);
}

/** Waits (at most `maxMs`) until no server has dirty pages or purge history left. */
export async function settle(servers: MariaDBSandbox[], maxMs = 60_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  await Promise.all(
    servers.map(async (s) => {
      const pct = await number(s, 'SELECT @@global.innodb_max_dirty_pages_pct');
      await s.exec('SET GLOBAL innodb_max_dirty_pages_pct = 0');
      try {
        while (Date.now() < deadline) {
          const dirty = await number(s, "SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'");
          const history = await number(
            s,
            "SELECT `COUNT` FROM information_schema.INNODB_METRICS WHERE NAME = 'trx_rseg_history_len'",
          );
          if (dirty === 0 && history < 100) return;
          await new Promise((r) => setTimeout(r, 100));
        }
      } finally {
        await s.exec(`SET GLOBAL innodb_max_dirty_pages_pct = ${pct}`);
      }
    }),
  );
}

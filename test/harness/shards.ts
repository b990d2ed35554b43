// Sharded upstream tables for the sharding tests: sharding1.t1,t2 on the first upstream and
// sharding2.t2,t3 on the second, routed into db_target.t_target, each shard in its own id range.
import { join } from 'node:path';
import type { MariaDBSandbox } from './index.js';

export const SHARDS: Array<[number, string, number]> = [
  [0, 'sharding1.t1', 0],
  [0, 'sharding1.t2', 100_000],
  [1, 'sharding2.t2', 200_000],
  [1, 'sharding2.t3', 300_000],
];

export async function rows(s: MariaDBSandbox, sql: string): Promise<Record<string, unknown>[]> {
  return (await s.exec(sql)) as Record<string, unknown>[];
}

export function shardTask(
  target: MariaDBSandbox,
  dir: string,
  sources: string[],
  name = 'shard',
  mode = 'pessimistic',
): string {
  const t = target.connectionOptions();
  return `name: ${name}
task-mode: all
shard-mode: ${mode}
target-database: {host: "${t.host}", port: ${t.port}, user: "${t.user}", password: ""}
mysql-instances:
${sources.map((s) => `  - source-id: ${s}\n    block-allow-list: shards\n    route-rules: [tables, schemas]\n    loader: {dir: "${join(dir, s)}"}`).join('\n')}
block-allow-list:
  shards:
    do-dbs: ["~^sharding[0-9]+$"]
routes:
  tables: {schema-pattern: "sharding*", table-pattern: "t*", target-schema: db_target, target-table: t_target}
  schemas: {schema-pattern: "sharding*", target-schema: db_target}
`;
}

export async function seedShards(ups: MariaDBSandbox[]): Promise<void> {
  await ups[0].exec(`CREATE DATABASE sharding1;
    CREATE TABLE sharding1.t1 (id INT PRIMARY KEY, v VARCHAR(20));
    CREATE TABLE sharding1.t2 (id INT PRIMARY KEY, v VARCHAR(20));`);
  await ups[1].exec(`CREATE DATABASE sharding2;
    CREATE TABLE sharding2.t2 (id INT PRIMARY KEY, v VARCHAR(20));
    CREATE TABLE sharding2.t3 (id INT PRIMARY KEY, v VARCHAR(20));`);
  await writeShards(ups, 1, 500);
}

/** Rows `from`..`to` on every shard, each shard in its own id range. */
export async function writeShards(
  ups: MariaDBSandbox[],
  from: number,
  to: number,
  withC = false,
): Promise<void> {
  for (const [i, t, base] of SHARDS) {
    const c = withC ? ', c' : '';
    const cv = withC ? ', seq % 7' : '';
    await ups[i].exec(
      `INSERT INTO ${t} (id, v${c}) SELECT ${base} + seq, CONCAT('v', seq)${cv} FROM mysql.seq_${from}_to_${to}`,
    );
  }
}

export async function totalUpstream(ups: MariaDBSandbox[]): Promise<number> {
  let n = 0;
  for (const [i, t] of SHARDS) n += Number((await rows(ups[i], `SELECT COUNT(*) n FROM ${t}`))[0].n);
  return n;
}

export const ALTER = 'ADD COLUMN c INT NOT NULL DEFAULT 0';

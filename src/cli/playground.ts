// The playground: starts a sandbox MariaDB server on 127.0.0.1, writes a small workload into it, and
// streams the decoded binlog events as they happen. (It grows into the full playground migration:
// sandbox upstream and target, a task, live status.)
//   npm run playground [-- --seconds N]
import { MariaDBSandbox } from '../sandbox/mariadb.js';
import { BinlogClient } from '../binlog/client.js';
import type { BinlogEvent, Value } from '../binlog/events.js';
import { formatPosition } from '../binlog/position.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

function show(v: Value | undefined): string {
  if (v === undefined) return '∅';
  if (v === null) return 'NULL';
  if (Buffer.isBuffer(v)) return `0x${v.toString('hex').slice(0, 32)}${v.length > 16 ? '…' : ''}`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  return String(v);
}

function describe(ev: BinlogEvent): string | undefined {
  switch (ev.kind) {
    case 'mariadb_gtid':
      return `GTID ${ev.gtid.domain}-${ev.gtid.server}-${ev.gtid.seq}${ev.standalone ? ' (DDL)' : ''}`;
    case 'gtid':
      return `GTID ${ev.uuid}:${ev.gno}`;
    case 'query':
      return `QUERY [${ev.schema}] ${ev.query}`;
    case 'xid':
      return `COMMIT xid=${ev.xid}`;
    case 'rows': {
      const t = `${ev.table.schema}.${ev.table.table}`;
      const names = ev.table.columns.map((c, i) => c.name ?? `@${i + 1}`);
      const img = (vals: (Value | undefined)[]): string =>
        vals.map((v, i) => `${names[i]}=${show(v)}`).join(' ');
      return ev.rows
        .map((r) =>
          ev.action === 'update'
            ? `UPDATE ${t}: ${img(r.before!)}  →  ${img(r.after!)}`
            : ev.action === 'insert'
              ? `INSERT ${t}: ${img(r.after!)}`
              : `DELETE ${t}: ${img(r.before!)}`,
        )
        .join('\n    ');
    }
    case 'rotate':
      return ev.artificial ? undefined : `ROTATE to ${ev.nextFile}`;
    default:
      return undefined;
  }
}

async function main(): Promise<void> {
  const seconds = arg('seconds', 8);
  console.log('Starting a sandbox MariaDB server on 127.0.0.1 …');
  const server = new MariaDBSandbox();
  await server.start();
  const cleanup = async (): Promise<void> => {
    await server.destroy();
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  console.log(`  mariadbd pid ${server.pid}, port ${server.port}, datadir ${server.datadir}`);
  const [status] = (await server.exec('SHOW MASTER STATUS')) as { File: string; Position: string }[];
  const client = new BinlogClient({
    ...server.connectionOptions(),
    serverId: 4242,
    start: { file: status.File, pos: Number(status.Position) },
    heartbeatMs: 1000,
  });
  console.log(`Streaming its binlog from ${formatPosition(client.position)} for ${seconds} s:\n`);

  const writer = (async () => {
    await server.exec(`CREATE DATABASE shop;
      CREATE TABLE shop.orders (id INT PRIMARY KEY AUTO_INCREMENT, customer VARCHAR(40), amount DECIMAL(10,2),
        placed DATETIME(3), status ENUM('new','paid','shipped'), note JSON)`);
    const names = ['Ada', 'Grace', 'Linus', 'Zoë', 'Mårten', '李雷'];
    for (let i = 0; i < seconds * 2; i++) {
      const who = names[i % names.length];
      await server.exec(
        `INSERT INTO shop.orders (customer, amount, placed, status, note) VALUES ('${who}', ${(i * 7.31).toFixed(2)}, NOW(3), 'new', '{"gift": ${i % 2 === 0}}')`,
      );
      if (i % 3 === 2) await server.exec(`UPDATE shop.orders SET status = 'paid' WHERE id = ${i}`);
      if (i === 6) await server.exec('ALTER TABLE shop.orders ADD COLUMN coupon VARCHAR(10) NULL');
      if (i % 5 === 4) await server.exec(`DELETE FROM shop.orders WHERE id = ${i - 3}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  })();

  let count = 0;
  const stopAt = Date.now() + seconds * 1000 + 1500;
  const timer = setInterval(() => {
    if (Date.now() > stopAt) client.close();
  }, 200);
  try {
    for await (const batch of client.batches()) {
      for (const ev of batch) {
        count++;
        const text = describe(ev);
        if (text) console.log(`  end ${String(ev.header.logPos).padStart(6)}  ${text}`);
      }
    }
  } finally {
    clearInterval(timer);
    await writer.catch(() => undefined);
  }
  console.log(`\n${count} events decoded; GTID position ${client.gtidText}; stopping the sandbox server.`);
  await cleanup();
}

main().catch((e) => {
  console.error(String(e));
  process.exit(1);
});

// Every column type through a real MariaDB binlog: decoded values equal what SELECT returns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { client, masterStatus, server } from '../harness/index.js';
import type { RowsEvent, Value } from '../../src/binlog/events.js';
import { COLUMNS, ROWS } from '../harness/all-types.js';

function normalize(v: Value | undefined): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) return v.toString('hex');
  return v;
}

test('every column type decodes to what SELECT returns', async () => {
  const s = await server();
  const start = await masterStatus(s);
  await s.exec(
    `CREATE DATABASE types; CREATE TABLE types.t (${COLUMNS.map(([n, t]) => `\`${n}\` ${t}`).join(', ')})`,
  );
  for (const r of ROWS) await s.exec(`INSERT INTO types.t VALUES ${r}`);
  await s.exec('UPDATE types.t SET i = i + 1 WHERE id = 1; DELETE FROM types.t WHERE id = 3');
  const end = await masterStatus(s);

  const c = client(s, { file: start.file, pos: start.pos }, { nonBlocking: true });
  const events: RowsEvent[] = [];
  for await (const ev of c.events()) if (ev.kind === 'rows') events.push(ev);
  assert.deepEqual(c.position, { file: end.file, pos: end.pos });
  assert.equal(c.gtidText, end.gtid);
  const inserts = events.filter((e) => e.action === 'insert').flatMap((e) => e.rows.map((r) => r.after!));
  assert.equal(inserts.length, 3);
  const table = events[0].table;
  assert.deepEqual(
    table.columns.map((col) => col.name),
    COLUMNS.map(([n]) => n),
  );
  assert.deepEqual(table.primaryKey, [0]);

  // What SELECT says, with binary values as hex and TIMESTAMPs in UTC (the decoder gives UTC).
  const conn = await s.connect();
  await conn.query("SET time_zone = '+00:00'");
  const exprs = COLUMNS.map(([n, t]) =>
    /BIT/.test(t)
      ? `CAST(\`${n}\` + 0 AS CHAR) AS \`${n}\``
      : /BINARY|BLOB|GEOMETRY|POINT|latin1/.test(t)
        ? `HEX(\`${n}\`) AS \`${n}\``
        : t === 'JSON'
          ? `CONCAT(\`${n}\`) AS \`${n}\``
          : `\`${n}\``,
  );
  const [rows] = (await conn.query(`SELECT ${exprs.join(', ')} FROM types.t ORDER BY id`)) as unknown as [
    Record<string, unknown>[],
  ];
  await conn.end();

  // the final state upstream: row 1 updated, row 2 as inserted (row 3 deleted)
  const update = events.find((e) => e.action === 'update')!;
  const finalRows = [update.rows[0].after!, inserts[1]];
  for (let r = 0; r < rows.length; r++) {
    for (let i = 0; i < COLUMNS.length; i++) {
      const [name, type] = COLUMNS[i];
      let want = rows[r][name];
      let got = normalize(finalRows[r][i]);
      if (typeof want === 'string' && /BINARY|BLOB|GEOMETRY|POINT|latin1/.test(type))
        want = want.toLowerCase();
      if (/BIT/.test(type) && typeof got === 'string') got = BigInt('0x' + got).toString();
      if (typeof want === 'number' && typeof got === 'string') got = Number(got);
      if (type === 'YEAR' && got !== null) got = Number(got);
      assert.deepEqual(got, want, `row ${r + 1}, column ${name} (${type})`);
    }
  }
  // the DELETE carries the whole before image of row 3: the key and NULLs
  const del = events.find((e) => e.action === 'delete')!;
  assert.deepEqual(del.rows[0].before, [3, ...new Array(COLUMNS.length - 1).fill(null)]);
});

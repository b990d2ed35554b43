// The relay's pull thread (see pull.ts): the upstream's events, byte for byte, into the relay file
// the main thread has opened and cut to where the pull starts; each written batch is reported.
import { parentPort, workerData } from 'node:worker_threads';
import { BinlogClient } from '../../binlog/client.js';
import { toWire } from '../../errors.js';
import { RelayDir } from './layout.js';
import type { PullMessage, PullStart } from './pull.js';
import { RelayWriter } from './writer.js';

const start = workerData as PullStart;
const port = parentPort!;
const post = (m: PullMessage) => port.postMessage(m);

async function main(): Promise<void> {
  const client = new BinlogClient(start.client);
  port.on('message', (m) => {
    if (m === 'close') client.close();
  });
  const w = new RelayWriter(new RelayDir(start.dir), start.subDir, (file) => post({ t: 'file', file }));
  try {
    const from = start.client.start;
    if ((await w.openAt(from.file, from.pos)) !== from.pos)
      throw new Error(`the relay file ${from.file} no longer reaches ${from.pos}`);
    for await (const batch of client.rawBatches()) {
      const t0 = performance.now();
      await w.write(batch);
      const c = client.committedPosition;
      post({
        t: 'moved',
        file: w.file,
        size: w.size,
        committed: { file: c.file, pos: c.pos },
        gtid: client.gtidText,
        bytes: batch.bytes.length,
        seconds: (performance.now() - t0) / 1000,
      });
    }
  } finally {
    client.close();
    await w.close();
  }
}

main()
  .then(
    () => post({ t: 'done' }),
    (e: unknown) => post({ t: 'error', error: toWire(e) }),
  )
  .finally(() => port.close());

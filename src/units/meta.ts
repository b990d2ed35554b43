// What the units' checkpoint tables share: forgetting one source's rows (start-task
// --remove-meta), where a missing table or schema means there is nothing to forget.
import { quoteString } from '../mysql/connect.js';
import { ServerError, type PacketConnection } from '../mysql/protocol.js';

export async function forgetSource(c: PacketConnection, table: string, sourceId: string): Promise<void> {
  try {
    await c.exec(`DELETE FROM ${table} WHERE id = ${quoteString(sourceId)}`);
  } catch (e) {
    if (!(e instanceof ServerError && (e.errno === 1146 || e.errno === 1049))) throw e;
  }
}

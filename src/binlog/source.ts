// Where decoded binlog events come from: the upstream (BinlogClient) or the relay log
// (RelayReader). Sync reads either through this interface.
import type { BinlogEvent } from './events.js';
import type { BinlogPosition } from './position.js';

export interface EventSource {
  /** Decoded events in the order of the binlog, a batch at a time; ends when closed. */
  batches(): AsyncGenerator<BinlogEvent[]>;
  /** Ends the stream (a pending read returns). */
  close(): void;
  /** Read from local files (the relay) rather than the upstream (query-status `binlogType`). */
  readonly local?: boolean;
  /** The reader may read again from `pos` on (the relay keeps those files). */
  retainFrom?(pos: BinlogPosition): void;
}

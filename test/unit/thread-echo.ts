// A module for thread.test.ts: answers its workerData with a registry error as plain data.
import { parentPort, workerData } from 'node:worker_threads';
import { DMError, ERR, toWire } from '../../src/errors.js';

const e = new DMError(ERR.relayLayout, {
  message: `echo ${workerData as string}`,
  workaround: 'w',
  cause: new Error('root'),
});
parentPort!.postMessage(toWire(e));

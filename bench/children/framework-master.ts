/**
 * A corral master (framework/) on Redis, for bench/framework.ts.
 * Prints `READY` once constructed, `ELECTED <epoch ms>` each time it wins the election and
 * has rebuilt its picture, and `ASSIGNED <epoch ms> <count>` for the first batch it
 * assigns after each election (the fail-over bench's "next task assigned").
 *
 * argv: <redis url> <namespace> <session timeout ms> <id>
 */
import { createMaster } from '../../framework/index.js';
import { quietLogger } from '../lib/corral.js';

const [url, namespace, timeout, id] = process.argv.slice(2);
const master = createMaster({ connect: { redis: url }, namespace, sessionTimeoutMs: Number(timeout), id, logger: quietLogger });
let fresh = false;
master.on('elected', () => {
  fresh = true;
  console.log(`ELECTED ${Date.now()}`);
});
master.on('assigned', ({ count }) => {
  if (!fresh) return;
  fresh = false;
  console.log(`ASSIGNED ${Date.now()} ${count}`);
});
master.on('error', (err) => console.error('master error', err));
console.log('READY');

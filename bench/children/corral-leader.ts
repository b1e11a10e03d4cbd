/**
 * A contender for leadership with corral's LeaderLatch on Redis, for the fail-over bench.
 * Prints `READY` once it is queued, `ELECTED <epoch ms>` when it becomes leader, then
 * holds leadership until it is killed.
 *
 * argv: <redis url> <namespace> <session timeout ms>
 */
import { LeaderLatch } from '../../recipes/index.js';
import { corralConnect } from '../lib/corral.js';

const [url, namespace, timeout] = process.argv.slice(2);
const zk = await corralConnect('redis', namespace, { sessionTimeoutMs: Number(timeout) }, url);
const latch = new LeaderLatch(zk, '/bench/leader');
await latch.start();
console.log('READY');
await latch.elected();
console.log(`ELECTED ${Date.now()}`);
setInterval(() => undefined, 60_000);

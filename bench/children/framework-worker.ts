/**
 * A corral worker (framework/) on Redis, for bench/framework.ts: its handler does nothing
 * (or sleeps `task ms`) and returns null. Prints `READY` once registered.
 *
 * argv: <redis url> <namespace> <concurrency> <session timeout ms> <task ms>
 */
import { createWorker } from '../../framework/index.js';
import { quietLogger } from '../lib/corral.js';

const [url, namespace, concurrency, timeout, taskMs] = process.argv.slice(2);
const pause = Number(taskMs);
const worker = createWorker({
  connect: { redis: url },
  namespace,
  concurrency: Number(concurrency),
  sessionTimeoutMs: Number(timeout),
  logger: quietLogger,
  handler: pause > 0 ? () => new Promise((r) => setTimeout(() => r(null), pause)) : async () => null,
});
worker.on('error', (err) => console.error('worker error', err));
await worker.ready;
console.log('READY');

/**
 * A BullMQ Worker with a no-op processor, for bench/framework.ts (the peer of
 * framework-worker.ts). Prints `READY` once connected.
 *
 * argv: <redis url> <queue name> <concurrency>
 */
import { Worker } from 'bullmq';

const [url, queue, concurrency] = process.argv.slice(2);
const { hostname, port } = new URL(url);
const worker = new Worker(queue, async () => null, { connection: { host: hostname, port: Number(port || 6379) }, concurrency: Number(concurrency) });
worker.on('error', (err) => console.error('worker error', err));
await worker.waitUntilReady();
console.log('READY');

/**
 * A corral worker for bench/soak.ts: each task sleeps a random 0..<max task ms> and returns
 * its payload. Lines on stdout (the soak parses them): `READY`, `REGISTERED <id>`,
 * `RUN <task>` when a run starts, `DONE <task> <state> <worker id>` once this worker has
 * recorded the task's outcome, `REJECTED <task>` when the record was refused, `EXPIRED`,
 * `ERROR <name> <message>`, and `LOG <message>` for each error its client logs.
 *
 * argv: <redis url> <namespace> <session timeout ms> <concurrency> <max task ms> <name>
 */
import { createWorker } from '../../framework/index.js';
import { lineLogger } from './soak-log.js';

const [url, namespace, timeout, concurrency, maxTaskMs, name] = process.argv.slice(2);
const worker = createWorker({
  connect: { redis: url },
  namespace,
  sessionTimeoutMs: Number(timeout),
  concurrency: Number(concurrency),
  name,
  logger: lineLogger,
  handler: async (payload: unknown, ctx) => {
    console.log(`RUN ${ctx.id}`);
    await new Promise((r) => setTimeout(r, Math.random() * Number(maxTaskMs)));
    return payload;
  },
});
worker.on('registered', (id) => console.log(`REGISTERED ${id}`));
worker.on('completed', ({ id, state }) => console.log(`DONE ${id} ${state} ${worker.id}`));
worker.on('rejected', ({ id }) => console.log(`REJECTED ${id}`));
worker.on('expired', () => console.log('EXPIRED'));
worker.on('error', (err) => console.log(`ERROR ${err.name} ${err.message.replace(/\s+/g, ' ')}`));
await worker.ready;
console.log('READY');

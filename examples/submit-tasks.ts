// Submitter: stores a batch of tasks, waits for every result, and exits non-zero if any
// task failed. Pair it with a master and workers running examples/worker-handler.js:
//
//   export CORRAL_REDIS_URL=redis://127.0.0.1:6379
//   npx corral master &
//   npx corral worker --handler examples/worker-handler.js --concurrency 4 &
//   npx tsx examples/submit-tasks.ts 20
//
// (In your own project import from 'corral' and 'corral/framework'.)
import { connect } from '../core/index.js';
import { createTaskClient } from '../framework/index.js';

const count = Number(process.argv[2] ?? 10);
const zk = await connect(
  { redis: process.env.CORRAL_REDIS_URL ?? 'redis://127.0.0.1:6379' },
  { namespace: process.env.CORRAL_NAMESPACE || 'corral' },
);
try {
  const tasks = createTaskClient(zk);

  // One multi per 500 tasks: once submitMany resolves, every task is stored and will run.
  const ids = await tasks.submitMany(
    Array.from({ length: count }, (_, i) => ({
      payload: { text: `document ${i}`, rounds: 200 },
      options: { attempts: 3, backoff: { type: 'exponential' as const, delay: 100 }, timeoutMs: 10_000 },
    })),
  );
  console.log(`submitted ${ids.length} tasks (${ids[0]} … ${ids[ids.length - 1]})`);

  // One recursive watch on /status follows them all; no polling.
  const statuses = await tasks.waitAll(ids, { timeoutMs: 60_000 });
  let failed = 0;
  for (const s of statuses) {
    if (s.state === 'succeeded') console.log(`${s.id} ${(s.result as { digest: string }).digest.slice(0, 16)}… by ${s.worker}`);
    else {
      failed++;
      console.log(`${s.id} ${s.state}: ${s.error?.message}`);
    }
  }
  console.log(`${statuses.length - failed}/${statuses.length} succeeded`);
  process.exitCode = failed === 0 ? 0 : 1;
} finally {
  await zk.close();
}

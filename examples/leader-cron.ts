// A leader-elected cron job: run this on several machines and the job runs on exactly
// one of them at a time; if that one dies, another takes over within the session timeout.
// Each run is recorded as a sequential znode /cron/runs/run-… holding who ran it and the
// leadership's fencing token, so the history shows one leader at a time.
//
//   CRON_ID=a npx tsx examples/leader-cron.ts &
//   CRON_ID=b npx tsx examples/leader-cron.ts &
//   npx corral ls /cron/runs --redis redis://127.0.0.1:6379
import { hostname } from 'node:os';
import { connect, ensurePath } from '../core/index.js';
import { LeaderSelector } from '../recipes/index.js';

const id = process.env.CRON_ID ?? `${hostname()}-${process.pid}`;
const everyMs = Number(process.env.CRON_EVERY_MS ?? 1000);
const zk = await connect(
  { redis: process.env.CORRAL_REDIS_URL ?? 'redis://127.0.0.1:6379' },
  { namespace: process.env.CORRAL_NAMESPACE || 'corral', sessionTimeoutMs: Number(process.env.CRON_SESSION_MS ?? 3000) },
);
await ensurePath(zk, '/cron/runs');

/** The job itself. Yours would send the nightly report, rotate keys, compact a table… */
async function job(token: number): Promise<void> {
  const path = await zk.create('/cron/runs/run-', JSON.stringify({ id, token, at: Date.now() }), { mode: 'persistent_sequential' });
  console.log(`${id}: ran the job (${path}, fencing token ${token})`);
}

// Each time this process is elected, run the job on schedule until leadership ends: the
// signal aborts on loss and also as soon as the session is in doubt (suspended), so two
// processes never both believe they lead. The selector then rejoins the election.
const selector = new LeaderSelector(zk, '/cron/leader', async ({ token, signal }) => {
  console.log(`${id}: elected leader (fencing token ${token})`);
  while (!signal.aborted) {
    await job(token);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, everyMs);
      signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });
  }
  console.log(`${id}: leadership ended (${(signal.reason as Error)?.message ?? 'resigned'})`);
}, { id });
selector.start();
console.log(`${id}: candidate for /cron/leader`);

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => void selector.close().then(() => zk.close()).then(() => process.exit(0)));
}

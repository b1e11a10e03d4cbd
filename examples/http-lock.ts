// A lock inside an HTTP service: several instances of this service sell tickets from one
// stock kept in a plain file (standing in for any store without transactions: a file
// share, an S3 object, a legacy API). Reading, decrementing and writing the stock is a
// read-modify-write; run unguarded on two instances it oversells. A corral Mutex makes
// it one-at-a-time across every instance, and the lease's fencing token, stored with the
// stock, lets the resource refuse a write from a holder that lost the lock meanwhile
// (a paused process waking up late).
//
//   echo '{"stock":100,"token":0}' > /tmp/stock.json
//   STOCK_FILE=/tmp/stock.json PORT=8081 npx tsx examples/http-lock.ts &
//   STOCK_FILE=/tmp/stock.json PORT=8082 npx tsx examples/http-lock.ts &
//   curl -X POST localhost:8081/buy
import { readFile, rename, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { connect } from '../core/index.js';
import { Mutex } from '../recipes/index.js';

const stockFile = process.env.STOCK_FILE ?? '/tmp/stock.json';
const zk = await connect(
  { redis: process.env.CORRAL_REDIS_URL ?? 'redis://127.0.0.1:6379' },
  { namespace: process.env.CORRAL_NAMESPACE || 'corral', sessionTimeoutMs: 5000 },
);
const mutex = new Mutex(zk, '/locks/ticket-stock');

interface Stock { stock: number; token: number }

/** The guarded resource's side of fencing: never accept a token lower than one already seen. */
async function writeStock(next: Stock): Promise<void> {
  const current = JSON.parse(await readFile(stockFile, 'utf8')) as Stock;
  if (next.token < current.token) throw new Error(`stale fencing token ${next.token} < ${current.token}: write refused`);
  await writeFile(stockFile + '.tmp', JSON.stringify(next));
  await rename(stockFile + '.tmp', stockFile);
}

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/buy') {
    res.writeHead(404).end();
    return;
  }
  // withLock releases the lock however the function ends; the lease's signal aborts if
  // the lock is lost (session expired) while we hold it.
  mutex
    .withLock(async (lease) => {
      const s = JSON.parse(await readFile(stockFile, 'utf8')) as Stock;
      if (s.stock <= 0) return { sold: false, left: 0, token: lease.token };
      lease.signal.throwIfAborted();
      await writeStock({ stock: s.stock - 1, token: lease.token });
      return { sold: true, left: s.stock - 1, token: lease.token };
    }, { timeoutMs: 10_000 })
    .then(
      (r) => res.writeHead(r.sold ? 200 : 409, { 'content-type': 'application/json' }).end(JSON.stringify(r)),
      (err: Error) => res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: err.message })),
    );
});

server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  console.log(`ticket service listening on http://127.0.0.1:${port}`);
});

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    server.close();
    void zk.close().then(() => process.exit(0));
  });
}

import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import type { Client } from '../../core/index.js';
import { spawnTs, type TsProcess } from '../faults/index.js';
import { BACKENDS, REDIS_URL, client, newNamespace, until } from './backends.js';

const FIXTURE = 'test/recipes/fixtures/contender.ts';
const SESSION_MS = 1000;

const procs: TsProcess[] = [];
const open: Client[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop()));
  await Promise.all(open.splice(0).map((c) => c.close()));
});

function acquired(line: string): { token: number; at: number } {
  const [, token, at] = line.split(' ');
  return { token: Number(token), at: Number(at) };
}

/**
 * A guarded resource, as the fencing-token docs describe it: it remembers the highest
 * token it has accepted and rejects any write carrying a lower one.
 */
async function fencedResource(): Promise<{ url: string; accepted: number[]; rejected: number[]; close: () => Promise<void> }> {
  let highest = 0;
  const accepted: number[] = [];
  const rejected: number[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const token = Number(body);
      if (token < highest) {
        rejected.push(token);
        res.statusCode = 409;
      } else {
        highest = token;
        accepted.push(token);
        res.statusCode = 200;
      }
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`, accepted, rejected,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

describe.runIf(BACKENDS.includes('redis'))('Lock and election across OS processes on Redis', () => {
  for (const mode of ['lock', 'elect'] as const) {
    it(`${mode}: when the holder is SIGKILLed the next waiter takes over within session timeout + 250 ms`, async () => {
      const ns = newNamespace();
      const observer = await client('redis', ns);
      open.push(observer);
      const a = await spawnTs(FIXTURE, [REDIS_URL, ns, mode, '/x', String(SESSION_MS)], { ready: 'READY' });
      procs.push(a);
      const la = acquired(await a.waitFor(/^ACQUIRED/, 15_000));
      const b = await spawnTs(FIXTURE, [REDIS_URL, ns, mode, '/x', String(SESSION_MS)], { ready: 'READY' });
      procs.push(b);
      await until(async () => (await observer.getChildren('/x')).children.length === 2, 15_000, 'b queued');
      const killedAt = Date.now();
      await a.kill('SIGKILL');
      const lb = acquired(await b.waitFor(/^ACQUIRED/, 5000));
      const took = lb.at - killedAt;
      console.log(`[recipes] ${mode}: takeover ${took} ms after SIGKILL (session timeout ${SESSION_MS} ms)`);
      expect(took).toBeLessThan(SESSION_MS + 250);
      expect(lb.token).toBeGreaterThan(la.token);
    }, 40_000);
  }

  it('fencing: a SIGSTOPped holder whose session expired wakes with a lower token, and the guarded resource rejects it', async () => {
    const ns = newNamespace();
    const resource = await fencedResource();
    try {
      const observer = await client('redis', ns);
      open.push(observer);
      const a = await spawnTs(FIXTURE, [REDIS_URL, ns, 'lock', '/f', String(SESSION_MS), resource.url], { ready: 'READY' });
      procs.push(a);
      const la = acquired(await a.waitFor(/^ACQUIRED/, 15_000));
      await a.waitFor(/^WRITE \d+ 200/, 5000);
      const b = await spawnTs(FIXTURE, [REDIS_URL, ns, 'lock', '/f', String(SESSION_MS), resource.url], { ready: 'READY' });
      procs.push(b);
      await until(async () => (await observer.getChildren('/f')).children.length === 2, 15_000, 'b queued');
      // Freeze a in the middle of a round of work (after its signal check, before its
      // write): right after it starts a new round, not on an old WORKING line.
      await a.waitFor(/^WORKING/, 5000, a.lines.length);
      await a.kill('SIGSTOP'); // a GC pause / stalled VM: the holder still believes it holds the lock
      const lb = acquired(await b.waitFor(/^ACQUIRED/, 5000));
      expect(lb.token).toBeGreaterThan(la.token);
      await until(() => resource.accepted.includes(lb.token), 3000, 'b writes');
      await a.kill('SIGCONT');
      // It finishes the round it was in: that write carries the stale token and is refused.
      await a.waitFor(new RegExp(`^WRITE ${la.token} 409$`), 5000);
      expect(resource.rejected).toContain(la.token);
      // It learns it lost the lock: its znode's deletion or its session's expiry, whichever reaches it first.
      await a.waitFor(/^LOST (SessionExpiredError|LeaseLostError)/, 5000, 0);
      // Nothing of a's was accepted after b's first write.
      const firstB = resource.accepted.indexOf(lb.token);
      expect(resource.accepted.slice(firstB).every((t) => t === lb.token)).toBe(true);
      console.log(`[recipes] fencing: stale token ${la.token} < new ${lb.token}; resource rejected ${resource.rejected.length} stale write(s)`);
    } finally {
      await resource.close();
    }
  }, 40_000);
});

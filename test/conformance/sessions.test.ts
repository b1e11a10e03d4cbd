import { describe, expect, it } from 'vitest';
import {
  ClientClosedError, ConnectionLossError, SessionExpiredError, isRetryable, op, type SessionState,
} from '../../core/index.js';
import { eventually, nextState, recorder, sleep, useHarness } from './context.js';
import { harnesses } from './harnesses/index.js';
import { expectUnchanged } from './tree-diff.js';

function states(zk: { on(e: 'state', f: (s: SessionState) => void): unknown }): SessionState[] {
  const out: SessionState[] = [];
  zk.on('state', (s) => out.push(s));
  return out;
}

describe.each(harnesses)('sessions — $name', (harness) => {
  const ctx = useHarness(harness);

  it('a new client is connected with its own live session', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    expect(a.state).toBe('connected');
    expect(a.sessionId).toBeTruthy();
    expect(a.sessionId).not.toBe(b.sessionId);
    const live = await harness.liveSessions();
    expect(live.has(a.sessionId) && live.has(b.sessionId)).toBe(true);
    await a.whenConnected(100);
  });

  it('close(): `closed` event, ephemerals gone, session ended, later ops fail with ClientClosedError; twice is fine', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    const seen = states(a);
    await a.create('/e1', '', { mode: 'ephemeral' });
    await a.create('/e2', '', { mode: 'ephemeral_sequential' });
    const gone = recorder();
    await b.exists('/e1', { watch: gone.watcher });
    await b.exists('/e20000000001', { watch: gone.watcher });
    const id = a.sessionId;
    await Promise.all([a.close(), a.close()]);
    await a.close();
    expect(seen).toEqual(['closed']);
    expect(a.state).toBe('closed');
    const [d1, d2] = [await gone.next(), await gone.next()];
    // Both ephemerals go in one write.
    expect(d1.zxid).toBe(d2.zxid);
    expect(await b.exists('/e1')).toBeNull();
    expect((await harness.liveSessions()).has(id)).toBe(false);
    for (const call of [() => a.create('/x'), () => a.getData('/'), () => a.exists('/'), () => a.sync(), () => a.multi([op.check('/')])]) {
      await expect(call()).rejects.toBeInstanceOf(ClientClosedError);
    }
    expect(() => a.watch('/')).toThrow(ClientClosedError);
    await expect(a.whenConnected(100)).rejects.toBeInstanceOf(ClientClosedError);
  });

  it('a call refused while an earlier one is still in flight never becomes an unhandled rejection', async () => {
    const a = await ctx.client();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const inFlight = a.exists('/');
      const closing = a.close();
      const refused = a.exists('/').catch((e: unknown) => e);
      await sleep(50); // past the checkpoints where Node reports unhandled rejections
      expect(await refused).toBeInstanceOf(ClientClosedError);
      await inFlight.catch(() => undefined);
      await closing;
      await sleep(10);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('closing a session without ephemerals writes nothing', async () => {
    const a = await ctx.client();
    await a.create('/kept');
    const b = await ctx.client();
    await expectUnchanged(a, async () => {
      await b.close();
    });
  });

  it('`await using` closes the session', async () => {
    const b = await ctx.client();
    let id = '';
    {
      await using a = await harness.connect();
      id = a.sessionId;
      await a.create('/scoped', '', { mode: 'ephemeral' });
    }
    expect(await b.exists('/scoped')).toBeNull();
    expect((await harness.liveSessions()).has(id)).toBe(false);
  });

  it('heartbeats keep an idle session alive well past its timeout', async () => {
    const a = await ctx.client({ sessionTimeoutMs: 300 });
    const b = await ctx.client();
    await a.create('/idle', '', { mode: 'ephemeral' });
    const seen = states(a);
    await sleep(1000);
    expect(seen).toEqual([]);
    expect(a.state).toBe('connected');
    expect((await b.exists('/idle'))?.ephemeralOwner).toBe(a.sessionId);
  });

  it('a short partition: `suspended`, ops fail fast with ConnectionLossError, then `reconnected` with the same session and ephemerals', async () => {
    const a = await ctx.client({ sessionTimeoutMs: 1500 });
    const b = await ctx.client();
    await a.create('/mine', 'x', { mode: 'ephemeral' });
    const id = a.sessionId;
    const seen = states(a);
    const suspended = nextState(a, 'suspended');
    await harness.partition(a);
    await suspended;
    const t0 = performance.now();
    const err = await a.getData('/mine').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionLossError);
    expect(isRetryable(err)).toBe(true);
    expect(performance.now() - t0).toBeLessThan(200);
    await expect(a.create('/during')).rejects.toBeInstanceOf(ConnectionLossError);
    expect((await b.exists('/mine'))?.ephemeralOwner).toBe(id);
    const back = a.whenConnected(3000);
    await harness.heal(a);
    await back;
    expect(seen).toEqual(['suspended', 'reconnected']);
    expect(a.sessionId).toBe(id);
    expect((await a.getData('/mine')).stat.ephemeralOwner).toBe(id);
    await a.create('/after');
    expect(await b.exists('/during')).toBeNull();
  });

  it('a partition past the timeout: `expired`, ephemerals gone, every later op fails with SessionExpiredError', async () => {
    const a = await ctx.client({ sessionTimeoutMs: 300 });
    const b = await ctx.client();
    await a.create('/eph', '', { mode: 'ephemeral' });
    await a.create('/eph2', '', { mode: 'ephemeral' });
    const gone = recorder();
    await b.exists('/eph', { watch: gone.watcher });
    const stream = a.watch('/', { recursive: true });
    await stream.ready;
    const seen = states(a);
    const expired = nextState(a, 'expired', 5000);
    await harness.partition(a);
    expect(await gone.next(5000)).toMatchObject({ type: 'deleted', path: '/eph' });
    expect(await b.exists('/eph2')).toBeNull();
    await expired;
    expect(seen).toEqual(['suspended', 'expired']);
    await harness.heal(a);
    await sleep(50);
    expect(a.state).toBe('expired');
    for (const call of [() => a.create('/x'), () => a.setData('/', 'x'), () => a.getData('/'), () => a.sync(), () => a.multi([op.create('/y')])]) {
      await expect(call()).rejects.toBeInstanceOf(SessionExpiredError);
    }
    await expect(a.whenConnected(100)).rejects.toBeInstanceOf(SessionExpiredError);
    await expect(stream.next()).rejects.toBeInstanceOf(SessionExpiredError);
    expect((await harness.liveSessions()).has(a.sessionId)).toBe(false);
    expect(await b.exists('/x')).toBeNull();
    await a.close();
    expect(a.state).toBe('closed');
  });

  it('fencing: the backend itself rejects every write of an expired session (a stalled process that wakes up late)', async () => {
    const a = await ctx.client({ sessionTimeoutMs: 300 });
    const b = await ctx.client();
    await b.create('/guarded', 'v0');
    const expired = nextState(a, 'expired', 5000);
    await harness.partition(a);
    await expired;
    await eventually(async () => !(await harness.liveSessions()).has(a.sessionId), 3000, 'session reaped');
    await harness.heal(a);
    // Bypass the client's own state check, as a process that missed its expiry would.
    const be = a.backend;
    await expect(be.create(a.sessionId, '/late', new Uint8Array(0), 'persistent')).rejects.toBeInstanceOf(SessionExpiredError);
    await expect(be.create(a.sessionId, '/late-e', new Uint8Array(0), 'ephemeral')).rejects.toBeInstanceOf(SessionExpiredError);
    await expect(be.setData(a.sessionId, '/guarded', Buffer.from('stale'), -1)).rejects.toBeInstanceOf(SessionExpiredError);
    await expect(be.delete(a.sessionId, '/guarded', -1)).rejects.toBeInstanceOf(SessionExpiredError);
    const m = await be.multi(a.sessionId, [{ type: 'setData', path: '/guarded', data: Buffer.from('stale'), version: -1 }]);
    expect(m.ok).toBe(false);
    if (!m.ok) expect(m.error).toBeInstanceOf(SessionExpiredError);
    await expect(be.touchSession(a.sessionId)).rejects.toBeInstanceOf(SessionExpiredError);
    expect((await b.getData('/guarded')).data.toString()).toBe('v0');
    expect(await b.exists('/late')).toBeNull();
    expect(await b.exists('/late-e')).toBeNull();
  });

  it('a throwing `state` listener neither stops other listeners nor the session machinery', async () => {
    const a = await ctx.client({ sessionTimeoutMs: 1500 });
    a.on('state', () => { throw new Error('listener bug'); });
    const seen = states(a);
    const suspended = nextState(a, 'suspended');
    await harness.partition(a);
    await suspended;
    const back = nextState(a, 'reconnected');
    await harness.heal(a);
    await back;
    expect(seen).toEqual(['suspended', 'reconnected']);
    await a.create('/still-works');
  });

  it('whenConnected waits for a reconnect, and times out with a typed error', async () => {
    const a = await ctx.client({ sessionTimeoutMs: 2000 });
    const suspended = nextState(a, 'suspended');
    await harness.partition(a);
    await suspended;
    await expect(a.whenConnected(50)).rejects.toMatchObject({ name: 'TimeoutError', retryable: true });
    const back = a.whenConnected(3000);
    await harness.heal(a);
    await back;
    expect(['connected', 'reconnected']).toContain(a.state);
    await a.sync();
  });
});

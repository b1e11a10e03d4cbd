import { afterEach, describe, expect, it } from 'vitest';
import { BadArgumentsError, SessionExpiredError, TimeoutError, type Client } from '../../core/index.js';
import { Barrier, DoubleBarrier, GroupMember, SharedCount } from '../../recipes/index.js';
import { BACKENDS, clientMakers, cut, heal, newNamespace, sleep, until } from './backends.js';

const open: Client[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

describe.each(BACKENDS)('Membership, barriers, counter on %s', (kind) => {
  const { zk, faulty } = clientMakers(kind, open);

  it('group membership: members see joins, data changes and leaves', async () => {
    const ns = newNamespace();
    const a = new GroupMember(await zk(ns), '/g', 'a', { data: 'host-a' });
    const seen: string[] = [];
    a.on('joined', (m) => seen.push(`+${m.id}:${m.data.toString()}`));
    a.on('updated', (m) => seen.push(`~${m.id}:${m.data.toString()}`));
    a.on('left', (m) => seen.push(`-${m.id}`));
    await a.join();
    expect([...a.members().keys()]).toEqual(['a']);
    const b = new GroupMember(await zk(ns), '/g', 'b', { data: 'host-b' });
    await b.join();
    expect([...b.members().keys()]).toEqual(['a', 'b']);
    await until(() => seen.includes('+b:host-b'), 2000, 'join seen');
    await b.setData('host-b2');
    await until(() => seen.includes('~b:host-b2'), 2000, 'update seen');
    await b.leave();
    await until(() => seen.includes('-b'), 2000, 'leave seen');
    expect(seen).toEqual(['+a:host-a', '+b:host-b', '~b:host-b2', '-b']);
    expect([...(await GroupMember.members(open[0], '/g')).keys()]).toEqual(['a']);
    await a.leave();
    await a.leave();
  });

  it('group membership: a crashed member leaves when its session expires; its id is not adopted', async () => {
    const ns = newNamespace();
    const watcher = new GroupMember(await zk(ns), '/g2', 'w');
    await watcher.join();
    const crashed = await faulty(ns, 300);
    const c = new GroupMember(crashed, '/g2', 'c');
    await c.join();
    await until(() => watcher.members().has('c'), 2000, 'c joined');
    const left: string[] = [];
    watcher.on('left', (m) => left.push(m.id));
    cut(crashed); // the process "hangs": no heartbeats
    // Its restart (a new session) waits for the old ephemeral rather than adopting it.
    const restarted = new GroupMember(await zk(ns), '/g2', 'c');
    await expect(restarted.join({ timeoutMs: 50 })).rejects.toBeInstanceOf(TimeoutError);
    const t0 = performance.now();
    await restarted.join({ timeoutMs: 2000 });
    expect(performance.now() - t0).toBeLessThan(300 + 250);
    expect(left).toEqual(['c']);
    await until(() => c.membership?.signal.aborted === true, 2000, 'lost');
    expect(c.membership?.signal.reason).toBeInstanceOf(SessionExpiredError);
    await heal(crashed);
    await until(() => watcher.members().has('c'), 2000, 'rejoined');
    expect((await open[0].exists('/g2/c'))?.ephemeralOwner).toBe(open[open.length - 1].sessionId);
  });

  it('barrier: waiters block while it is set and all pass once it is removed', async () => {
    const ns = newNamespace();
    const coord = new Barrier(await zk(ns), '/b/go');
    await coord.set();
    await coord.set();
    const waits = [0, 1, 2].map(async () => {
      await new Barrier(await zk(ns), '/b/go2').wait();
    });
    await Promise.all(waits); // not set: passes at once
    let passed = 0;
    const pending = Promise.all([0, 1, 2].map(async () => new Barrier(await zk(ns), '/b/go').wait({ timeoutMs: 3000 }).then(() => passed++)));
    await sleep(50);
    expect(passed).toBe(0);
    await expect(new Barrier(await zk(ns), '/b/go').wait({ timeoutMs: 30 })).rejects.toBeInstanceOf(TimeoutError);
    await coord.remove();
    await pending;
    expect(passed).toBe(3);
    await coord.remove();
  });

  it('double barrier: nobody enters before N are in, nobody leaves before all have left', async () => {
    const ns = newNamespace();
    const N = 4;
    const log: string[] = [];
    const members = await Promise.all([...Array(N).keys()].map(async (i) => new DoubleBarrier(await zk(ns), '/db', N, { id: `m${i}` })));
    const entering = members.slice(0, N - 1).map((m) => m.enter({ timeoutMs: 5000 }).then(() => log.push(`in:${m.id}`)));
    await sleep(100);
    expect(log).toEqual([]);
    await members[N - 1].enter({ timeoutMs: 5000 });
    await Promise.all(entering);
    expect(log.length).toBe(N - 1);
    const leaving = members.slice(1).map((m) => m.leave({ timeoutMs: 5000 }).then(() => log.push(`out:${m.id}`)));
    await sleep(100);
    expect(log.filter((l) => l.startsWith('out')).length).toBe(0);
    await members[0].leave({ timeoutMs: 5000 });
    await Promise.all(leaving);
    expect(log.filter((l) => l.startsWith('out')).length).toBe(N - 1);
    expect((await open[0].getChildren('/db')).children).toEqual([]);
    // Enter timeout withdraws the member.
    await expect(new DoubleBarrier(open[0], '/db', 2, { id: 'lonely' }).enter({ timeoutMs: 50 })).rejects.toBeInstanceOf(TimeoutError);
    expect((await open[0].getChildren('/db')).children).toEqual([]);
  });

  it('shared counter: concurrent increments are never lost (CAS on version)', async () => {
    const ns = newNamespace();
    const counters = await Promise.all([0, 1, 2, 3].map(async () => new SharedCount(await zk(ns), '/cnt/hits', 100)));
    await Promise.all(counters.flatMap((c) => [...Array(10).keys()].map(() => c.increment())));
    expect((await counters[0].get()).value).toBe(140);
    const { value, version } = await counters[1].get();
    expect(await counters[1].trySet(value + 1, version)).toBe(true);
    expect(await counters[2].trySet(0, version)).toBe(false); // stale version
    expect((await counters[3].get()).value).toBe(141);
    const changes: number[] = [];
    counters[0].on('changed', (v) => changes.push(v.value));
    await counters[0].get();
    await counters[1].set(7);
    await until(() => changes.includes(7), 2000, 'change seen');
    await expect(counters[0].increment(0.5)).rejects.toBeInstanceOf(BadArgumentsError);
  });

  it('rejects bad arguments', async () => {
    const c = await zk(newNamespace());
    expect(() => new GroupMember(c, '/g', '')).toThrow(BadArgumentsError);
    expect(() => new GroupMember(c, '/g', 'a/b')).toThrow(BadArgumentsError);
    expect(() => new DoubleBarrier(c, '/d', 0)).toThrow(BadArgumentsError);
    expect(() => new DoubleBarrier(c, '/d', 2, { id: '_ready' })).toThrow(BadArgumentsError);
    expect(() => new Barrier(c, '')).toThrow(BadArgumentsError);
    expect(() => new SharedCount(c, '/c', 1.5)).toThrow(BadArgumentsError);
    expect(await c.exists('/g')).toBeNull();
  });
});

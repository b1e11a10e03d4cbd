import { describe, expect, it } from 'vitest';
import { NoNodeError, op, type WatchEvent } from '../../core/index.js';
import { recorder, sleep, useHarness } from './context.js';
import { harnesses } from './harnesses/index.js';

describe.each(harnesses)('ordering guarantees — $name', (harness) => {
  const ctx = useHarness(harness);

  it('a data watch event is delivered before the read that reflects its change', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await b.create('/o', '0');
    for (let i = 1; i <= 40; i++) {
      let fired = false;
      await a.getData('/o', { watch: () => (fired = true) });
      await b.setData('/o', String(i));
      const { data } = await a.getData('/o');
      expect(data.toString()).toBe(String(i));
      expect(fired, `round ${i}: read saw the new data before the watch fired`).toBe(true);
    }
  });

  it('a child watch event is delivered before the getChildren / exists that reflects it', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await b.create('/kids');
    for (let i = 0; i < 20; i++) {
      let fired = 0;
      await a.getChildren('/kids', { watch: () => fired++ });
      await a.exists(`/kids/k${i}`, { watch: () => fired++ });
      await b.create(`/kids/k${i}`);
      const stat = await a.exists(`/kids/k${i}`);
      expect(stat).not.toBeNull();
      expect(fired).toBe(2);
    }
  });

  it('when a read races a write, a read that shows the write always comes after its event', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await b.create('/race', '0');
    for (let i = 1; i <= 40; i++) {
      const log: string[] = [];
      await a.getData('/race', { watch: () => log.push('event') });
      const write = b.setData('/race', String(i));
      const reads = Array.from({ length: 4 }, () => a.getData('/race').then((r) => log.push(`read ${r.data}`)));
      await Promise.all([write, ...reads]);
      const firstNew = log.indexOf(`read ${i}`);
      if (firstNew >= 0) expect(log.indexOf('event'), log.join(',')).toBeGreaterThanOrEqual(0);
      if (firstNew >= 0) expect(log.indexOf('event'), log.join(',')).toBeLessThan(firstNew);
      await a.sync();
    }
  });

  it('a persistent watch has its event queued before the read that reflects the change returns', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await b.create('/pw', '0');
    const w = a.watch('/pw');
    await w.ready;
    for (let i = 1; i <= 20; i++) {
      await b.setData('/pw', String(i));
      expect((await a.getData('/pw')).data.toString()).toBe(String(i));
      const first = await Promise.race([w.next(), Promise.resolve('nothing yet' as const)]);
      expect(first).not.toBe('nothing yet');
      expect((first as IteratorResult<WatchEvent>).value).toMatchObject({ type: 'dataChanged', path: '/pw' });
    }
    w.close();
  });

  it("a client's own operations complete in the order it issued them, failures included", async () => {
    const a = await ctx.client();
    await a.create('/seq');
    const done: number[] = [];
    const calls: Array<Promise<unknown>> = [];
    for (let i = 0; i < 60; i++) {
      const p = (() => {
        switch (i % 6) {
          case 0: return a.create(`/seq/n${i}`, 'x'.repeat(i * 100));
          case 1: return a.getData('/seq/missing');
          case 2: return a.setData('/seq', String(i));
          case 3: return a.getChildren('/seq');
          case 4: return a.multi([op.create(`/seq/m${i}`), op.check('/seq')]);
          default: return a.sync();
        }
      })();
      calls.push(p.then(() => done.push(i), (err) => { if (!(err instanceof NoNodeError)) throw err; done.push(i); }));
    }
    await Promise.all(calls);
    expect(done).toEqual(Array.from({ length: 60 }, (_, i) => i));
    // …and took effect in that order: the last setData is what is stored.
    expect((await a.getData('/seq')).data.toString()).toBe('56');
  });

  it('single system image: every client sees the same writes in the same zxid order', async () => {
    const writers = await Promise.all([ctx.client(), ctx.client(), ctx.client()]);
    const watchers = await Promise.all([ctx.client(), ctx.client()]);
    await writers[0].create('/ssi');
    const streams = watchers.map((w) => w.watch('/ssi', { recursive: true }));
    await Promise.all(streams.map((s) => s.ready));
    await Promise.all(writers.map(async (w, n) => {
      for (let i = 0; i < 15; i++) {
        await w.create(`/ssi/w${n}-${i}`);
        if (i % 3 === 0) await w.setData('/ssi', `${n}:${i}`);
      }
    }));
    const total = 3 * 15 + 3 * 5;
    const seen = await Promise.all(streams.map(async (s) => {
      const out: string[] = [];
      for await (const ev of s) {
        out.push(`${ev.zxid} ${ev.type} ${ev.path}`);
        if (out.length === total) break;
      }
      return out;
    }));
    expect(seen[0]).toHaveLength(total);
    expect(seen[1]).toEqual(seen[0]);
    const zxids = seen[0].map((l) => Number(l.split(' ')[0]));
    expect([...zxids].sort((x, y) => x - y)).toEqual(zxids);
    expect(new Set(zxids).size).toBe(total);
  });

  it('a watch armed while writes stream in fires for the first write after its read, never one the read reflects', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await b.create('/stream', '0');
    let stop = false;
    const writer = (async () => {
      for (let i = 1; !stop; i++) await b.setData('/stream', String(i));
    })();
    try {
      for (let round = 0; round < 25; round++) {
        const seen = recorder();
        const { data, stat } = await a.getData('/stream', { watch: seen.watcher });
        const ev = await seen.next(3000);
        expect(ev.type).toBe('dataChanged');
        expect(ev.zxid, `round ${round}: read showed ${data} at mzxid ${stat.mzxid}`).toBeGreaterThan(stat.mzxid);
        const after = await a.getData('/stream');
        expect(after.stat.mzxid).toBeGreaterThanOrEqual(ev.zxid);
      }
    } finally {
      stop = true;
      await writer;
    }
  });

  it('sync() makes every write acknowledged before it visible to this client', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    for (let i = 0; i < 10; i++) {
      await a.create(`/s${i}`, String(i));
      await b.sync(`/s${i}`);
      expect((await b.getData(`/s${i}`)).data.toString()).toBe(String(i));
    }
  });

  it('a watch fires exactly once even when reads and writes interleave heavily', async () => {
    const a = await ctx.client();
    const b = await ctx.client();
    await b.create('/hot', '0');
    const seen = recorder();
    await a.getData('/hot', { watch: seen.watcher });
    await Promise.all(Array.from({ length: 20 }, (_, i) => b.setData('/hot', String(i))));
    await a.sync();
    await sleep(20);
    expect(seen.events).toHaveLength(1);
  });

  it('FIFO client order: ops issued without waiting execute in the order issued, reads and writes alike', async () => {
    const a = await ctx.client();
    await a.create('/fifo', 'v0');
    for (let i = 1; i <= 30; i++) {
      // A read issued before a write never sees it; one issued after always does, and a
      // read that sets a watch (a round trip to declare its interest first) keeps its place.
      const watched = i % 3 === 0;
      const before = a.getData('/fifo', watched ? { watch: () => undefined } : undefined);
      const existsBefore = a.exists(`/fifo/c${i}`, watched ? { watch: true } : undefined);
      const kidsBefore = a.getChildren('/fifo', watched ? { watch: true } : undefined);
      const write = a.setData('/fifo', `v${i}`);
      const create = a.create(`/fifo/c${i}`);
      const after = a.getData('/fifo');
      const existsAfter = a.exists(`/fifo/c${i}`);
      const [b, eb, kb, w, , af, ea] = await Promise.all([before, existsBefore, kidsBefore, write, create, after, existsAfter]);
      expect(b.data.toString(), `round ${i}`).toBe(`v${i - 1}`);
      expect(eb, `round ${i}`).toBeNull();
      expect(kb.children, `round ${i}`).toHaveLength(i - 1);
      expect(af.data.toString(), `round ${i}`).toBe(`v${i}`);
      expect(af.stat.mzxid).toBe(w.mzxid);
      expect(ea, `round ${i}`).not.toBeNull();
    }
  });
});

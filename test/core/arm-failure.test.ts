import { describe, expect, it } from 'vitest';
import { connect, ConnectionLossError, MemoryBackend, memoryStore } from '../../core/index.js';
import { nextState, recorder } from '../conformance/context.js';
import { quietLogger } from '../conformance/logger.js';
import { testNamespace } from '../namespace.js';

/** A memory backend whose next event flush fails, as a PING on a dropping link would. */
class FailingFlush extends MemoryBackend {
  failNext = false;

  override async flushEvents(zxid: number): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new ConnectionLossError('flush lost (test)');
    }
    return super.flushEvents(zxid);
  }
}

describe('a read that armed its watch, then failed', () => {
  it('keeps the watch armed: it still fires on the next change', async () => {
    const namespace = testNamespace('ns');
    const backend = new FailingFlush(memoryStore(namespace));
    const a = await connect({ backend }, { namespace, logger: quietLogger, sessionTimeoutMs: 2000 });
    const b = await connect({ backend: 'memory' }, { namespace, logger: quietLogger });
    await a.create('/other'); // a watch of its own, so a's reads flush events
    await a.getData('/other', { watch: () => undefined });
    await b.create('/w', 'v0'); // a write a has not seen: its next read flushes
    const seen = recorder();
    backend.failNext = true;
    const back = nextState(a, 'reconnected');
    await expect(a.getData('/w', { watch: seen.watcher })).rejects.toBeInstanceOf(ConnectionLossError);
    await back;
    await b.setData('/w', 'v1');
    expect(await seen.next()).toMatchObject({ type: 'dataChanged', path: '/w' });
    await a.close();
    await b.close();
  });
});

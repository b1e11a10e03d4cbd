import { describe, expect, it } from 'vitest';
import { connect, MemoryBackend, memoryStore, type StoreRolledBackError } from '../../core/index.js';
import { recorder, sleep } from '../conformance/context.js';
import { quietLogger } from '../conformance/logger.js';
import { testNamespace } from '../namespace.js';

/** A memory backend whose heartbeat replies can be held back after the store answered them. */
class HeldBeats extends MemoryBackend {
  hold: Promise<void> | null = null;
  beatAnswered: (() => void) | null = null;

  override async touchSession(sessionId: string, seenZxid?: number): Promise<{ zxid: number }> {
    const r = await super.touchSession(sessionId, seenZxid);
    if (this.hold) {
      this.beatAnswered?.();
      await this.hold;
    }
    return r;
  }
}

describe('store rollback detection', () => {
  it('an event that overtakes a heartbeat reply is not taken for a store that went back in time', async () => {
    const namespace = testNamespace('ns');
    const backend = new HeldBeats(memoryStore(namespace));
    const a = await connect({ backend }, { namespace, logger: quietLogger, sessionTimeoutMs: 600 });
    const b = await connect({ backend: 'memory' }, { namespace, logger: quietLogger });
    const rolledBack: StoreRolledBackError[] = [];
    a.on('rolledBack', (e) => rolledBack.push(e));
    await b.create('/x', 'v0');
    const seen = recorder();
    await a.getData('/x', { watch: seen.watcher });

    // The store answers a's next beat with its zxid now; the reply reaches a only after the
    // event of a later write did (events travel apart from replies, as on Redis).
    let release!: () => void;
    backend.hold = new Promise<void>((r) => (release = r));
    await new Promise<void>((r) => (backend.beatAnswered = r));
    await b.setData('/x', 'v1');
    await seen.next();
    release();
    backend.hold = null;
    await sleep(400); // this beat's reply and the next beats
    expect(a.state).toBe('connected');
    expect(rolledBack).toEqual([]);
    await a.close();
    await b.close();
  });
});

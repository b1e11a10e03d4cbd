import { describe, expect, it } from 'vitest';
import { connect } from '../../core/index.js';
import { quietLogger } from '../conformance/logger.js';
import { testNamespace } from '../namespace.js';

describe('a session kept busy', () => {
  it('a caller that never yields to the event loop keeps its session (heartbeats ride on its calls)', async () => {
    // On the embedded store a loop of awaited calls completes in microtasks only, so no
    // timer (the heartbeat's included) runs until it ends.
    const zk = await connect({ backend: 'memory' }, { namespace: testNamespace('ns'), sessionTimeoutMs: 300, logger: quietLogger });
    const states: string[] = [];
    zk.on('state', (s) => states.push(s));
    await zk.create('/x', 'a');
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < 1200) {
      await zk.setData('/x', String(n++));
      await zk.getData('/x');
    }
    expect(states).toEqual([]);
    expect(zk.state).toBe('connected');
    expect((await zk.getData('/x')).data.toString()).toBe(String(n - 1));
    await zk.close();
  });
});

import { connect, MemoryBackend, memoryStore, type Client } from '../../../core/index.js';
import type { BackendHarness } from '../harness.js';
import { LaggedBackend } from '../lagged-backend.js';
import { quietLogger } from '../logger.js';
import { testNamespace } from '../../namespace.js';

/** The memory store behind a simulated network (see LaggedBackend): replies overtake events. */
export function laggedHarness(): BackendHarness {
  let namespace = '';
  const backendOf = (zk: Client): LaggedBackend => {
    if (!(zk.backend instanceof LaggedBackend)) throw new Error('not a lagged client');
    return zk.backend;
  };
  return {
    name: 'memory-lagged',
    async setup() {},
    newCase() {
      namespace = testNamespace('ns');
    },
    connect(opts = {}) {
      if (!namespace) throw new Error('call newCase() first');
      const backend = new LaggedBackend(new MemoryBackend(memoryStore(namespace)));
      return connect({ backend }, { namespace, logger: quietLogger, ...opts });
    },
    async partition(zk) {
      backendOf(zk).cut();
    },
    async heal(zk) {
      backendOf(zk).heal();
    },
    async liveSessions() {
      return new Set(memoryStore(namespace).liveSessions());
    },
    async teardown() {},
  };
}

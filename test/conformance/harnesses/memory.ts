import { connect, MemoryBackend, memoryStore, type Client } from '../../../core/index.js';
import type { BackendHarness } from '../harness.js';
import { quietLogger } from '../logger.js';
import { testNamespace } from '../../namespace.js';

/** The embedded backend: partitions are the connection's own `cut()` / `heal()`. */
export function memoryHarness(): BackendHarness {
  let namespace = '';
  const backendOf = (zk: Client): MemoryBackend => {
    if (!(zk.backend instanceof MemoryBackend)) throw new Error('not a memory client');
    return zk.backend;
  };
  return {
    name: 'memory',
    async setup() {},
    newCase() {
      namespace = testNamespace('ns');
    },
    connect(opts = {}) {
      if (!namespace) throw new Error('call newCase() first');
      return connect({ backend: 'memory' }, { namespace, logger: quietLogger, ...opts });
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

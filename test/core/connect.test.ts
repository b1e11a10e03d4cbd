import { describe, expect, it } from 'vitest';
import {
  BadArgumentsError, connect, ConnectionLossError, CorralError, DataTooLargeError, errorFromCode, isRetryable,
  MemoryBackend, memoryStore, NoNodeError, SessionExpiredError, SystemError,
} from '../../core/index.js';
import { sleep } from '../conformance/context.js';
import { quietLogger } from '../conformance/logger.js';
import { testNamespace } from '../namespace.js';

const ns = () => testNamespace('ns');

describe('connect() options', () => {
  it.each([
    ['namespace empty', {}, { namespace: '' }, /namespace/],
    ['namespace with a slash', {}, { namespace: 'a/b' }, /namespace/],
    ['namespace with braces (a Redis hash tag)', {}, { namespace: '{x}' }, /namespace/],
    ['namespace too long', {}, { namespace: 'x'.repeat(101) }, /namespace/],
    ['namespace not a string', {}, { namespace: 5 }, /namespace/],
    ['sessionTimeoutMs below 100', {}, { sessionTimeoutMs: 50 }, /sessionTimeoutMs.*≥ 100/],
    ['sessionTimeoutMs fractional', {}, { sessionTimeoutMs: 500.5 }, /sessionTimeoutMs/],
    ['sessionTimeoutMs string', {}, { sessionTimeoutMs: '1000' }, /sessionTimeoutMs/],
    ['maxDataBytes 0', {}, { maxDataBytes: 0 }, /maxDataBytes/],
    ['options not an object', {}, 'fast', /connect options/],
    ['unknown backend', { backend: 'etcd' }, {}, /Unknown backend "etcd"/],
    ['target not an object', 'memory', {}, /connect target/],
  ])('%s → BadArgumentsError naming the option', async (_name, target, options, message) => {
    const err = await connect(target as never, options as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadArgumentsError);
    expect((err as Error).message).toMatch(message);
  });

  it('namespaces are separate trees; clients of one namespace share one', async () => {
    const [n1, n2] = [ns(), ns()];
    const a = await connect({ backend: 'memory' }, { namespace: n1, logger: quietLogger });
    const a2 = await connect({ backend: 'memory' }, { namespace: n1, logger: quietLogger });
    const b = await connect({ backend: 'memory' }, { namespace: n2, logger: quietLogger });
    await a.create('/only-in-1', 'x');
    expect(await b.exists('/only-in-1')).toBeNull();
    expect((await a2.getData('/only-in-1')).data.toString()).toBe('x');
    await Promise.all([a.close(), a2.close(), b.close()]);
  });

  it('maxDataBytes is per client', async () => {
    const namespace = ns();
    const small = await connect({ backend: 'memory' }, { namespace, maxDataBytes: 4, logger: quietLogger });
    await expect(small.create('/x', '12345')).rejects.toBeInstanceOf(DataTooLargeError);
    await small.create('/x', '1234');
    await small.close();
  });

  it('heartbeats go at about a third of the session timeout', async () => {
    let beats = 0;
    class Counting extends MemoryBackend {
      override touchSession(id: string, seen?: number) {
        beats++;
        return super.touchSession(id, seen);
      }
    }
    const zk = await connect({ backend: new Counting(memoryStore(ns())) }, { sessionTimeoutMs: 300, logger: quietLogger });
    await sleep(1000);
    await zk.close();
    // 1000 ms / 100 ms per beat: about 10 (timers drift late, never early).
    expect(beats).toBeGreaterThanOrEqual(7);
    expect(beats).toBeLessThanOrEqual(11);
  });

  it('a backend that cannot start a session fails connect() and is closed', async () => {
    let closed = false;
    class Broken extends MemoryBackend {
      override async createSession(): Promise<never> {
        throw new ConnectionLossError('no route');
      }
      override async close() {
        closed = true;
        await super.close();
      }
    }
    await expect(connect({ backend: new Broken(memoryStore(ns())) }, { logger: quietLogger })).rejects.toBeInstanceOf(ConnectionLossError);
    expect(closed).toBe(true);
  });
});

describe('errors', () => {
  it('carry stable codes, the path, and whether a retry may succeed', () => {
    const e = new NoNodeError('/a');
    expect(e).toBeInstanceOf(CorralError);
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ name: 'NoNodeError', code: -101, path: '/a', retryable: false, message: 'No node: /a' });
    expect(isRetryable(new ConnectionLossError())).toBe(true);
    expect(isRetryable(new SessionExpiredError())).toBe(false);
    expect(isRetryable(new Error('x'))).toBe(false);
  });

  it('errorFromCode rebuilds the class for every code a backend may send', () => {
    for (const code of [-101, -110, -103, -111, -108, -112, -4, -7, -8, -2, -1001, -1002]) {
      const e = errorFromCode(code, '/p');
      expect(e.code).toBe(code);
      expect(e.path).toBe('/p');
      expect(e).not.toBeInstanceOf(SystemError);
    }
    expect(errorFromCode(-999, '/p')).toBeInstanceOf(SystemError);
  });
});

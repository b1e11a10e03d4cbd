import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect, deleteRecursive, ensurePath, InvalidPathError, type Client } from '../../core/index.js';
import { quietLogger } from '../conformance/logger.js';
import { testNamespace } from '../namespace.js';

describe('ensurePath / deleteRecursive', () => {
  let zk: Client;
  beforeEach(async () => {
    zk = await connect({ backend: 'memory' }, { namespace: testNamespace('ns'), logger: quietLogger });
  });
  afterEach(() => zk.close());

  it('ensurePath creates missing ancestors and leaves existing znodes alone', async () => {
    await zk.create('/a', 'keep');
    await ensurePath(zk, '/a/b/c');
    expect((await zk.getData('/a')).data.toString()).toBe('keep');
    expect(await zk.exists('/a/b/c')).not.toBeNull();
    await ensurePath(zk, '/a/b/c');
    await ensurePath(zk, '/');
    await expect(ensurePath(zk, 'a/b')).rejects.toBeInstanceOf(InvalidPathError);
  });

  it('ensurePath tolerates a concurrent creator', async () => {
    await Promise.all(Array.from({ length: 5 }, () => ensurePath(zk, '/x/y/z')));
    expect(await zk.exists('/x/y/z')).not.toBeNull();
  });

  it('deleteRecursive removes a subtree, not its siblings; a missing path is fine', async () => {
    await ensurePath(zk, '/t/a/b');
    await ensurePath(zk, '/t/c');
    await ensurePath(zk, '/tt');
    await deleteRecursive(zk, '/t');
    expect(await zk.exists('/t')).toBeNull();
    expect(await zk.exists('/tt')).not.toBeNull();
    await deleteRecursive(zk, '/t');
    await deleteRecursive(zk, '/');
    expect((await zk.getChildren('/')).children).toEqual([]);
  });
});

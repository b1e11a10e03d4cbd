import type { CheckOp, CreateMode, Data, DeleteOp, GetChildrenOp, GetDataOp, SetDataOp } from './types.js';

/**
 * Builders for `multi` ops (create, delete, setData, check) and for `multiRead` ops
 * (getData, getChildren), as ZooKeeper's `Op`. Data is encoded and checked when `multi` runs.
 *
 * @example
 * await zk.multi([op.create('/jobs/a', 'x'), op.delete('/queue/a', 3)]);
 * const [a, kids] = await zk.multiRead([op.getData('/jobs/a'), op.getChildren('/jobs')]);
 */
export const op = {
  create(path: string, data?: Data, options: { mode?: CreateMode; ttlMs?: number } = {}) {
    return { type: 'create' as const, path, data: data ?? new Uint8Array(0), mode: options.mode ?? 'persistent', ttlMs: options.ttlMs };
  },
  delete(path: string, version = -1): DeleteOp {
    return { type: 'delete', path, version };
  },
  setData(path: string, data: Data, version = -1): Omit<SetDataOp, 'data'> & { data: Data } {
    return { type: 'setData', path, data, version };
  },
  check(path: string, version = -1): CheckOp {
    return { type: 'check', path, version };
  },
  getData(path: string): GetDataOp {
    return { type: 'getData', path };
  },
  getChildren(path: string): GetChildrenOp {
    return { type: 'getChildren', path };
  },
};

type WriteBuilders = Omit<typeof op, 'getData' | 'getChildren'>;
/** What `multi` accepts: the write builders' output (data may still be a string). */
export type OpInput = ReturnType<WriteBuilders[keyof WriteBuilders]>;

/**
 * corral/recipes — coordination recipes built only on the public client API, so they run
 * on every backend. Apache Curator is the reference; each recipe watches only what it
 * needs (no herd effect), reports connection trouble (`suspended` = in doubt, `expired`
 * = lost, through events and an AbortSignal), takes timeouts and AbortSignals, and hands
 * out fencing tokens (czxids) with every grant.
 */
export { LeaseLostError } from './errors.js';
export { Lease, type LeaseEvents } from './lease.js';
export type { WaitOptions } from './internal/args.js';
export { LeaderLatch, getLeader, type Leadership, type LeaderLatchEvents } from './leader-latch.js';
export { LeaderSelector, runAsLeader, type LeaderSelectorEvents } from './leader-selector.js';
export { Mutex, withLock, type MutexOptions } from './mutex.js';
export { ReadWriteLock } from './read-write-lock.js';
export { Semaphore } from './semaphore.js';
export { MultiLock, type MultiLease } from './multi-lock.js';
export { GroupMember, type GroupMemberEvents } from './group-member.js';
export { DistributedQueue, PriorityQueue, DelayQueue, type QueueItem } from './queue.js';
export { Barrier } from './barrier.js';
export { DoubleBarrier } from './double-barrier.js';
export { SharedCount, type VersionedValue } from './shared-count.js';
export { TreeCache, ChildrenCache, NodeCache, type CachedNode, type TreeCacheEvents } from './tree-cache.js';

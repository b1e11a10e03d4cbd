import { ZkPeer, ZK_NO_NODE, isZkError } from './zk-client.js';

/**
 * ZooKeeper's own lock recipe (the "Locks" section of the ZooKeeper recipes page), on
 * node-zookeeper-client, as a user would write it:
 *
 * 1. create `<dir>/lock-` EPHEMERAL_SEQUENTIAL;
 * 2. getChildren(dir) (no watch); if ours has the lowest sequence number, we hold the lock;
 * 3. otherwise exists(predecessor, watch) on the next-lower znode only (no herd effect);
 *    if it is already gone go back to 2, else wait for its watch event, then go back to 2;
 * 4. release = delete our znode.
 *
 * It is the same recipe corral's Mutex runs (minus corral's protected-mode name and
 * ownership checks), so the comparison is of the stores, not of the algorithms.
 * Leader election is the same queue with the head as leader.
 */
export class ZkMutex {
  private mine: string | null = null;

  constructor(private readonly zk: ZkPeer, readonly dir: string) {}

  /** Waits for the lock; resolves with our znode's path. `onQueued` runs once our znode exists. */
  async acquire(onQueued?: () => void): Promise<string> {
    if (this.mine) throw new Error(`ZkMutex ${this.dir}: already held`);
    const path = await this.zk.create(`${this.dir}/lock-`, null, 'ephemeral_sequential');
    onQueued?.();
    const name = path.slice(this.dir.length + 1);
    for (;;) {
      const contenders = (await this.zk.getChildren(this.dir)).filter((c) => c.startsWith('lock-')).sort(bySequence);
      const i = contenders.indexOf(name);
      if (i < 0) throw new Error(`ZkMutex ${this.dir}: our znode ${path} vanished (session expired?)`);
      if (i === 0) {
        this.mine = path;
        return path;
      }
      const predecessor = `${this.dir}/${contenders[i - 1]}`;
      let wake!: () => void;
      const changed = new Promise<void>((resolve) => (wake = resolve));
      const stat = await this.zk.exists(predecessor, () => wake());
      // Gone between getChildren and exists: no watch was left armed on a missing node's
      // deletion, so look again at once. Otherwise the watch fires on its delete.
      if (stat) await changed;
    }
  }

  async release(): Promise<void> {
    const path = this.mine;
    if (!path) throw new Error(`ZkMutex ${this.dir}: not held`);
    this.mine = null;
    try {
      await this.zk.remove(path);
    } catch (err) {
      if (!isZkError(err, ZK_NO_NODE)) throw err;
    }
  }
}

/** Orders `lock-0000000012` names by their sequence suffix (the suffix is what ZooKeeper orders). */
function bySequence(a: string, b: string): number {
  return Number(a.slice(-10)) - Number(b.slice(-10));
}

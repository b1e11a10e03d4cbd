import zookeeper, { type Client, type Event, type Stat, type ZkError } from 'node-zookeeper-client';

export { type Event as ZkEvent, type Stat as ZkStat, type ZkError };
export const ZK_NO_NODE = zookeeper.Exception.NO_NODE;
export const ZK_NODE_EXISTS = zookeeper.Exception.NODE_EXISTS;

/**
 * node-zookeeper-client behind promises, with the same call shapes the corral benchmarks use,
 * so both sides of a comparison run the same code around their client.
 */
export class ZkPeer {
  private constructor(readonly raw: Client) {}

  /**
   * Opens a session and resolves once it is connected.
   * @example const zk = await ZkPeer.connect('127.0.0.1:2181', 1000);
   */
  static connect(connectString: string, sessionTimeoutMs = 10_000): Promise<ZkPeer> {
    const raw = zookeeper.createClient(connectString, { sessionTimeout: sessionTimeoutMs, spinDelay: 100, retries: 0 });
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => { raw.close(); reject(new Error(`ZooKeeper ${connectString}: no session within 10 s`)); }, 10_000);
      raw.once('connected', () => { clearTimeout(t); resolve(new ZkPeer(raw)); });
      raw.connect();
    });
  }

  create(path: string, data: Buffer | null, mode: 'persistent' | 'persistent_sequential' | 'ephemeral' | 'ephemeral_sequential' = 'persistent'): Promise<string> {
    const m = { persistent: 0, ephemeral: 1, persistent_sequential: 2, ephemeral_sequential: 3 }[mode];
    return new Promise((resolve, reject) => this.raw.create(path, data, m, (e, p) => (e ? reject(e) : resolve(p))));
  }

  /** Creates the path's missing ancestors and the path itself (persistent, no data). */
  mkdirp(path: string): Promise<void> {
    return new Promise((resolve, reject) => this.raw.mkdirp(path, (e) => (e ? reject(e) : resolve())));
  }

  remove(path: string, version = -1): Promise<void> {
    return new Promise((resolve, reject) => this.raw.remove(path, version, (e) => (e ? reject(e) : resolve())));
  }

  setData(path: string, data: Buffer, version = -1): Promise<Stat> {
    return new Promise((resolve, reject) => this.raw.setData(path, data, version, (e, s) => (e ? reject(e) : resolve(s))));
  }

  getData(path: string, watcher?: (ev: Event) => void): Promise<{ data: Buffer; stat: Stat }> {
    return new Promise((resolve, reject) => this.raw.getData(path, watcher, (e, data, stat) => (e ? reject(e) : resolve({ data, stat }))));
  }

  exists(path: string, watcher?: (ev: Event) => void): Promise<Stat | null> {
    return new Promise((resolve, reject) => this.raw.exists(path, watcher, (e, s) => (e ? reject(e) : resolve(s))));
  }

  getChildren(path: string, watcher?: (ev: Event) => void): Promise<string[]> {
    return new Promise((resolve, reject) => this.raw.getChildren(path, watcher, (e, c) => (e ? reject(e) : resolve(c))));
  }

  /** Closes the session (its ephemerals go) and waits for the socket to finish. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, 2000);
      this.raw.once('disconnected', () => { clearTimeout(t); resolve(); });
      this.raw.close();
    });
  }
}

export function isZkError(err: unknown, code: number): boolean {
  return typeof err === 'object' && err !== null && (err as ZkError).code === code;
}

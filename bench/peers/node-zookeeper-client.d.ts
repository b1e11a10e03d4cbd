// Just enough of node-zookeeper-client's API (it ships no types) for the benchmarks.
declare module 'node-zookeeper-client' {
  import { EventEmitter } from 'node:events';

  export interface Stat {
    czxid: Buffer;
    mzxid: Buffer;
    version: number;
    ephemeralOwner: Buffer;
    numChildren: number;
  }
  export interface Event {
    type: number;
    name: string;
    path: string;
    getType(): number;
    getName(): string;
    getPath(): string;
  }
  export type Watcher = (event: Event) => void;
  export interface ZkError extends Error {
    code: number;
    name: string;
  }
  type Cb<T> = (error: ZkError | null, result: T, stat: Stat) => void;

  export interface Client extends EventEmitter {
    connect(): void;
    close(): void;
    getSessionId(): Buffer;
    getSessionTimeout(): number;
    getState(): { name: string; code: number };
    create(path: string, data: Buffer | null, mode: number, callback: (error: ZkError | null, path: string) => void): void;
    remove(path: string, version: number, callback: (error: ZkError | null) => void): void;
    setData(path: string, data: Buffer | null, version: number, callback: (error: ZkError | null, stat: Stat) => void): void;
    getData(path: string, watcher: Watcher | undefined, callback: Cb<Buffer>): void;
    exists(path: string, watcher: Watcher | undefined, callback: (error: ZkError | null, stat: Stat | null) => void): void;
    getChildren(path: string, watcher: Watcher | undefined, callback: (error: ZkError | null, children: string[], stat: Stat) => void): void;
    mkdirp(path: string, callback: (error: ZkError | null, path: string) => void): void;
  }

  export function createClient(connectString: string, options?: { sessionTimeout?: number; spinDelay?: number; retries?: number }): Client;

  export const CreateMode: { PERSISTENT: 0; EPHEMERAL: 1; PERSISTENT_SEQUENTIAL: 2; EPHEMERAL_SEQUENTIAL: 3 };
  export const Exception: { NO_NODE: -101; NODE_EXISTS: -110; BAD_VERSION: -103; NOT_EMPTY: -111; SESSION_EXPIRED: -112; CONNECTION_LOSS: -4 };
  export const Event: { NODE_CREATED: 1; NODE_DELETED: 2; NODE_DATA_CHANGED: 3; NODE_CHILDREN_CHANGED: 4 };

  const zookeeper: {
    createClient: typeof createClient;
    CreateMode: typeof CreateMode;
    Exception: typeof Exception;
    Event: typeof Event;
  };
  export default zookeeper;
}

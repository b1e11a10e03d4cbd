import { MemoryStore } from './store.js';

export { MemoryStore } from './store.js';
export { MemoryBackend } from './connection.js';

/** The embedded stores of this process, one per namespace, shared by every client in it. */
const stores = new Map<string, MemoryStore>();

/** The process-wide memory store of a namespace, created on first use. */
export function memoryStore(namespace: string): MemoryStore {
  let s = stores.get(namespace);
  if (!s) stores.set(namespace, (s = new MemoryStore()));
  return s;
}

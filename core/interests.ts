import type { Backend, InterestKind } from './backend.js';

/**
 * Reference counts of what this client's watches need from the backend, so the backend
 * sees one `setInterest(on)` per (path, kind) however many watches share it, and one
 * `off` when the last goes. Ends of interest are sent lazily and never awaited by users.
 */
export class Interests {
  private readonly counts = new Map<string, { path: string; kind: InterestKind; n: number; ready: Promise<void> }>();

  constructor(private readonly backend: Backend, private readonly onError: (err: unknown) => void) {}

  /** Adds one reference; resolves once the backend will deliver matching events. */
  acquire(path: string, kind: InterestKind): Promise<void> {
    const key = `${kind}\0${path}`;
    const entry = this.counts.get(key);
    if (entry) {
      entry.n++;
      return entry.ready;
    }
    const ready = this.backend.setInterest(path, kind, true);
    const e = { path, kind, n: 1, ready };
    this.counts.set(key, e);
    ready.catch(() => {
      // A failed subscription must not stay cached as "ready".
      if (this.counts.get(key) === e) this.counts.delete(key);
    });
    return ready;
  }

  release(path: string, kind: InterestKind): void {
    const key = `${kind}\0${path}`;
    const entry = this.counts.get(key);
    if (!entry) return;
    if (--entry.n > 0) return;
    this.counts.delete(key);
    this.backend.setInterest(path, kind, false).catch(this.onError);
  }

  /** Every (path, kind) currently held, for re-arming after a reconnect. */
  held(): Array<{ path: string; kind: InterestKind }> {
    return [...this.counts.values()].map(({ path, kind }) => ({ path, kind }));
  }

  get size(): number {
    return this.counts.size;
  }

  clear(): void {
    this.counts.clear();
  }
}

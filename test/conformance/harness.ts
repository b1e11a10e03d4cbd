import type { Client } from '../../core/index.js';

/**
 * What the conformance suite needs from a backend. One file per backend under
 * `harnesses/` implements it; `harnesses/index.ts` lists them. Every case of the suite
 * runs once per harness, so both backends are held to the very same rules.
 *
 * A harness may be used by several case files in one worker process, one case at a time.
 */
export interface BackendHarness {
  /** `memory`, `redis`, …: shown in the test names. */
  readonly name: string;
  /** Once per case file, before any case (start servers, proxies…). */
  setup(): Promise<void>;
  /** Starts a fresh namespace: every client of the next case shares it, no other case sees it. */
  newCase(): void;
  /**
   * A new client (its own session and connection) on the current case's namespace.
   * `partition`/`heal` must work on every client it returns.
   */
  connect(opts?: { sessionTimeoutMs?: number; maxDataBytes?: number }): Promise<Client>;
  /** Cuts the link between this client and the store (both ways) until `heal`. */
  partition(zk: Client): Promise<void>;
  /** Restores the link cut by `partition`. */
  heal(zk: Client): Promise<void>;
  /** Ids of the sessions the store counts as live right now (current namespace). */
  liveSessions(): Promise<Set<string>>;
  /** Once per case file, after every case (stop what setup started). */
  teardown(): Promise<void>;
}

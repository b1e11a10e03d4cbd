/**
 * The safety net behind every fault helper: whatever a test forgets to stop (or cannot,
 * because it failed half-way) is killed when the process exits, so no redis-server or
 * child process outlives the test run. Handlers must be synchronous (`exit` allows no
 * awaiting): SIGKILL a pid, remove a temp dir.
 */
const handlers = new Set<() => void>();
let installed = false;

/** Registers a synchronous last-resort cleanup; returns a function that unregisters it. */
export function track(handler: () => void): () => void {
  if (!installed) {
    installed = true;
    process.once('exit', runAll);
    // Ctrl-C or a runner's SIGTERM skip 'exit' unless we exit ourselves.
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => {
        runAll();
        process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
      });
    }
  }
  handlers.add(handler);
  return () => handlers.delete(handler);
}

function runAll(): void {
  for (const h of [...handlers]) {
    handlers.delete(h);
    try {
      h();
    } catch {
      // Best effort: one failed cleanup must not skip the others.
    }
  }
}

/**
 * The `corral` command's entry point (bin/corral.js runs it). Everything lives in
 * runCli(); this file only binds it to the process: signals, streams, exit code.
 */
import { runCli } from './cli.js';
import { processIo } from './io.js';

const stop = new AbortController();
let signals = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    // First Ctrl-C: stop gracefully (drain, resign, close sessions). Second: leave now.
    if (++signals > 1) process.exit(130);
    stop.abort(sig);
  });
}

// The process lives until its command is done: on the embedded store nothing else (no
// socket, heartbeat timers are unref'd) would keep the event loop up while a command waits.
const keepAlive = setInterval(() => undefined, 1 << 30);
const code = await runCli(process.argv.slice(2), processIo(), { stop: stop.signal });
clearInterval(keepAlive);
// Let stdout drain, then exit even if a client library still holds a socket open.
process.stdout.write('', () => process.exit(code));

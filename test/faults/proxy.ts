import net from 'node:net';
import { track } from './cleanup.js';

/** Options of {@link startProxy}. */
export interface ProxyOptions {
  /** Port of the server behind the proxy (e.g. a private redis-server). */
  targetPort: number;
  /** Host of that server. Default `127.0.0.1`. */
  targetHost?: string;
  /** Port the proxy listens on. Default: a free one. */
  listenPort?: number;
}

/** A live TCP proxy: point one client at `port` and break its link at will. */
export interface Proxy {
  /** Where clients connect (on 127.0.0.1). */
  readonly port: number;
  /** `redis://127.0.0.1:<port>`, for convenience. */
  readonly url: string;
  /** Live client connections going through the proxy. */
  readonly connections: number;
  /** Counters, for tests that report what they injected. */
  readonly stats: { accepted: number; refused: number; cuts: number; blocks: number; dropped: number; bytes: number };
  /**
   * Destroys every live connection (the client sees a reset) and refuses new ones until
   * {@link heal}: a link that is plainly down.
   */
  cut(): void;
  /**
   * Stops forwarding in both directions but keeps the sockets open: what a client sees
   * when the network partitions silently or the server is SIGSTOP'd. Bytes sent meanwhile
   * are held (TCP would retransmit them) and delivered on {@link unblock}; new
   * connections are accepted but go nowhere until then.
   */
  block(): void;
  /** Ends a {@link block}: held bytes flow again, in order. */
  unblock(): void;
  /** Delays every chunk by `ms` in each direction, keeping order. 0 turns it off. */
  setDelay(ms: number): void;
  /**
   * With probability `p` each forwarded chunk resets its connection instead. A TCP stream
   * cannot lose bytes silently (it retransmits), so a lossy link shows up to the
   * application as delay plus resets; this models the resets.
   */
  setDropRate(p: number): void;
  /** Back to a perfect link: undoes cut, block, delay and drop rate. */
  heal(): void;
  /** Closes the proxy and every connection through it. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

interface Pipe {
  client: net.Socket;
  server: net.Socket;
  /** Chunks waiting for a block to end or a delay to pass, per direction. */
  held: { up: Held[]; down: Held[] };
  timer: { up: NodeJS.Timeout | null; down: NodeJS.Timeout | null };
}

interface Held { chunk: Buffer; due: number }

/**
 * Starts a real TCP proxy (node:net) in front of `targetHost:targetPort`. Use one proxy
 * per client under test, so a fault hits exactly that client's link.
 *
 * @example
 * const redis = await startRedis();
 * const proxy = await startProxy({ targetPort: redis.port });
 * const zk = await connect({ redis: proxy.url }, { namespace, sessionTimeoutMs: 600 });
 * proxy.block();            // silent partition: zk goes `suspended`, later `expired`
 * proxy.heal();
 * await proxy.close();
 */
export async function startProxy(options: ProxyOptions): Promise<Proxy> {
  const targetPort = options.targetPort;
  const targetHost = options.targetHost ?? '127.0.0.1';
  if (!Number.isInteger(targetPort) || targetPort <= 0 || targetPort > 65535) {
    throw new TypeError(`Expected \`targetPort\` to be a TCP port, got ${String(targetPort)}`);
  }
  const pipes = new Set<Pipe>();
  const stats = { accepted: 0, refused: 0, cuts: 0, blocks: 0, dropped: 0, bytes: 0 };
  let isCut = false;
  let blocked = false;
  let delayMs = 0;
  let dropRate = 0;
  let closed: Promise<void> | null = null;

  const destroy = (p: Pipe): void => {
    if (!pipes.delete(p)) return;
    if (p.timer.up) clearTimeout(p.timer.up);
    if (p.timer.down) clearTimeout(p.timer.down);
    // resetAndDestroy sends an RST, so the client learns at once (as on a refused link).
    reset(p.client);
    reset(p.server);
  };

  // Forwards what is due, in order; reschedules itself for chunks still delayed.
  const pump = (p: Pipe, dir: 'up' | 'down'): void => {
    p.timer[dir] = null;
    if (!pipes.has(p) || blocked) return;
    const to = dir === 'up' ? p.server : p.client;
    const q = p.held[dir];
    const now = Date.now();
    while (q.length > 0 && q[0].due <= now) {
      const { chunk } = q.shift()!;
      if (dropRate > 0 && Math.random() < dropRate) {
        stats.dropped++;
        destroy(p);
        return;
      }
      stats.bytes += chunk.length;
      to.write(chunk);
    }
    if (q.length > 0) p.timer[dir] = setTimeout(() => pump(p, dir), Math.max(0, q[0].due - now));
  };

  const forward = (p: Pipe, dir: 'up' | 'down', chunk: Buffer): void => {
    p.held[dir].push({ chunk, due: Date.now() + delayMs });
    if (blocked || p.timer[dir]) return;
    if (delayMs === 0 && p.held[dir].length === 1) pump(p, dir);
    else p.timer[dir] = setTimeout(() => pump(p, dir), delayMs);
  };

  const server = net.createServer({ pauseOnConnect: false }, (client) => {
    if (isCut || closed) {
      stats.refused++;
      reset(client);
      return;
    }
    stats.accepted++;
    const upstream = net.connect({ port: targetPort, host: targetHost });
    const p: Pipe = { client, server: upstream, held: { up: [], down: [] }, timer: { up: null, down: null } };
    pipes.add(p);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('data', (c: Buffer) => forward(p, 'up', c));
    upstream.on('data', (c: Buffer) => forward(p, 'down', c));
    for (const s of [client, upstream]) {
      s.on('error', () => destroy(p));
      s.on('close', () => destroy(p));
    }
  });
  server.on('error', () => undefined);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listenPort ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;

  const unblockAll = (): void => {
    blocked = false;
    for (const p of pipes) {
      pump(p, 'up');
      pump(p, 'down');
    }
  };

  const close = (): Promise<void> => {
    closed ??= (async () => {
      untrack();
      for (const p of [...pipes]) destroy(p);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    })();
    return closed;
  };
  const untrack = track(() => {
    for (const p of [...pipes]) destroy(p);
    server.close();
  });

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get connections() { return pipes.size; },
    stats,
    cut() {
      isCut = true;
      stats.cuts++;
      for (const p of [...pipes]) destroy(p);
    },
    block() {
      if (!blocked) stats.blocks++;
      blocked = true;
      for (const p of pipes) {
        for (const dir of ['up', 'down'] as const) {
          if (p.timer[dir]) clearTimeout(p.timer[dir]!);
          p.timer[dir] = null;
        }
      }
    },
    unblock: unblockAll,
    setDelay(ms: number) {
      if (!(ms >= 0)) throw new TypeError(`Expected delay to be a number ≥ 0, got ${ms}`);
      delayMs = ms;
    },
    setDropRate(p: number) {
      if (!(p >= 0 && p <= 1)) throw new TypeError(`Expected drop rate to be a probability in [0, 1], got ${p}`);
      dropRate = p;
    },
    heal() {
      isCut = false;
      delayMs = 0;
      dropRate = 0;
      // Chunks held by a delay are due now.
      for (const p of pipes) for (const dir of ['up', 'down'] as const) for (const h of p.held[dir]) h.due = 0;
      unblockAll();
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

function reset(s: net.Socket): void {
  if (s.destroyed) return;
  // resetAndDestroy needs a connected TCP handle; fall back to a plain destroy.
  try {
    s.resetAndDestroy();
  } catch {
    s.destroy();
  }
}

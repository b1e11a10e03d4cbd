import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { track } from '../../test/faults/cleanup.js';
import { freePort, waitForPort } from '../lib/ports.js';

/** Debian's zookeeper package: the jar's manifest carries the rest of the classpath. */
const ZOOKEEPER_JAR = process.env.ZOOKEEPER_JAR ?? '/usr/share/java/zookeeper.jar';

export interface ZooKeeperServer {
  port: number;
  /** `127.0.0.1:<port>`, for node-zookeeper-client. */
  connectString: string;
  /** The server's tick; its smallest session timeout is 2 × tickTime. */
  tickTime: number;
  minSessionTimeoutMs: number;
  stop(): Promise<void>;
}

export interface ZooKeeperOptions {
  /** Default 500 ms, so the smallest session timeout is 1 s, like corral's fail-over runs. */
  tickTime?: number;
  /**
   * fsync the transaction log on every write (ZooKeeper's default). Default false: the Redis
   * the benchmarks use has no persistence either, so neither side pays for a disk.
   */
  forceSync?: boolean;
}

export function zookeeperAvailable(): boolean {
  return existsSync(ZOOKEEPER_JAR) && existsSync('/usr/bin/java');
}

/**
 * Starts a private standalone ZooKeeper 3.8 on a free loopback port with a temp dataDir,
 * and resolves once it answers `ruok`.
 *
 * @example
 * const zk = await startZooKeeper();
 * try { … zookeeper.createClient(zk.connectString) … } finally { await zk.stop(); }
 */
export async function startZooKeeper(options: ZooKeeperOptions = {}): Promise<ZooKeeperServer> {
  if (!zookeeperAvailable()) throw new Error(`ZooKeeper not found (${ZOOKEEPER_JAR}); run bench/setup.sh`);
  const tickTime = options.tickTime ?? 500;
  const dir = await mkdtemp(join(tmpdir(), 'corral-bench-zk-'));
  const port = await freePort();
  const cfg = join(dir, 'zoo.cfg');
  await writeFile(cfg, [
    `tickTime=${tickTime}`,
    `dataDir=${join(dir, 'data')}`,
    `clientPort=${port}`,
    'clientPortAddress=127.0.0.1',
    `forceSync=${options.forceSync ? 'yes' : 'no'}`,
    'maxClientCnxns=0',
    'admin.enableServer=false',
    '4lw.commands.whitelist=ruok,srvr,mntr',
    'globalOutstandingLimit=100000',
    '',
  ].join('\n'));
  const child = spawn('java', [
    '-Xms256m', '-Xmx512m', '-XX:+UseParallelGC',
    '-Dzookeeper.jmx.log4j.disable=true',
    '-cp', ZOOKEEPER_JAR,
    'org.apache.zookeeper.server.ZooKeeperServerMain', cfg,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => { stderr = (stderr + b.toString()).slice(-4000); });
  // Killed with the bench even if it crashes or is interrupted before stop().
  const untrack = track(() => {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    untrack();
    resolve();
  }));
  try {
    await Promise.race([
      waitForRuok(port, 30_000),
      exited.then(() => { throw new Error(`ZooKeeper exited during start-up: ${stderr}`); }),
    ]);
  } catch (err) {
    await stopChild(child, exited);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    connectString: `127.0.0.1:${port}`,
    tickTime,
    minSessionTimeoutMs: 2 * tickTime,
    async stop() {
      await stopChild(child, exited);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitForRuok(port: number, timeoutMs: number): Promise<void> {
  await waitForPort(port, timeoutMs);
  const { connect } = await import('node:net');
  const until = Date.now() + timeoutMs;
  for (;;) {
    const answer = await new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1', () => s.write('ruok'));
      let got = '';
      // A server still starting can accept the connection and never answer: give up on
      // this probe (and try again) rather than wait for ever.
      const t = setTimeout(() => s.destroy(), 1000);
      s.on('data', (b) => (got += b.toString()));
      s.on('close', () => {
        clearTimeout(t);
        resolve(got);
      });
      s.on('error', () => resolve(''));
    });
    if (answer === 'imok') return;
    if (Date.now() > until) throw new Error(`ZooKeeper on ${port} did not answer ruok`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(t);
}

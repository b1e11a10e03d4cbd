/**
 * Fault-injection harness for corral's tests: real TCP links that can be cut or frozen,
 * private redis-servers that can be killed and restarted (AOF, ACL, replicas, Sentinel),
 * real child processes that can be SIGKILLed or SIGSTOPped, and a linearizability checker
 * for the histories those tests record. Everything started here is killed when the test
 * process exits, even if a test failed before its own cleanup.
 *
 * @example
 * import { startRedis, startProxy, spawnTs } from '../faults/index.js';
 * await using redis = await startRedis({ aof: 'everysec' });
 * await using proxy = await startProxy({ targetPort: redis.port });
 * const zk = await connect({ redis: proxy.url }, { namespace: testNamespace('ns'), sessionTimeoutMs: 600 });
 * proxy.block();   // zk is partitioned, its session will expire
 */
export { startProxy, type Proxy, type ProxyOptions } from './proxy.js';
export {
  startRedis, startSentinel, waitForReplication, freePort, respCommand,
  type RedisServer, type RedisServerOptions, type RedisUser, type Sentinel, type RespValue,
} from './redis-server.js';
export { spawnTs, REPO_ROOT, type SpawnOptions, type TsProcess } from './processes.js';
export { track } from './cleanup.js';
export {
  checkLinearizable, History, registerModel, ticketModel,
  type Operation, type Model, type CheckResult, type RegisterInput, type RegisterOutput, type RegisterState,
} from './linearizability.js';

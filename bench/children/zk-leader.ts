/**
 * A contender for leadership on ZooKeeper (the lock recipe: lowest ephemeral sequential
 * znode leads, each contender watches its predecessor), for the fail-over bench.
 * Prints `READY` once its session is open, `ELECTED <epoch ms>` when it becomes leader.
 *
 * argv: <connect string> <session timeout ms>
 */
import { ZkPeer } from '../peers/zk-client.js';
import { ZkMutex } from '../peers/zk-lock.js';

const [connectString, timeout] = process.argv.slice(2);
const zk = await ZkPeer.connect(connectString, Number(timeout));
await zk.mkdirp('/bench/leader');
await new ZkMutex(zk, '/bench/leader').acquire(() => console.log(`READY ${zk.raw.getSessionTimeout()}`));
console.log(`ELECTED ${Date.now()}`);
setInterval(() => undefined, 60_000);

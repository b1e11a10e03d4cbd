/**
 * A corral master for bench/soak.ts. Lines on stdout (the soak parses them):
 * `READY`, `ELECTED <id>`, `DEPOSED`, `RECLAIMED <worker> <tasks>`, `ERROR <name> <message>`,
 * and `LOG <message>` for each error its client logs.
 *
 * argv: <redis url> <namespace> <session timeout ms> <id>
 */
import { createMaster } from '../../framework/index.js';
import { lineLogger } from './soak-log.js';

const [url, namespace, timeout, id] = process.argv.slice(2);
const master = createMaster({ connect: { redis: url }, namespace, sessionTimeoutMs: Number(timeout), id, logger: lineLogger });
master.on('elected', ({ id: me }) => console.log(`ELECTED ${me}`));
master.on('deposed', () => console.log('DEPOSED'));
master.on('reclaimed', ({ worker, tasks }) => console.log(`RECLAIMED ${worker} ${tasks}`));
master.on('error', (err) => console.log(`ERROR ${err.name} ${err.message.replace(/\s+/g, ' ')}`));
console.log('READY');

// Quickstart: znodes, a watch, and an ephemeral znode that vanishes when its session closes.
// Run it with `npx tsx examples/quickstart.ts` (in your own project: import from 'corral').
import { connect } from '../core/index.js';

// Two sessions on the embedded backend: same process, same znode tree, zero set-up.
const admin = await connect();
const worker = await connect();

// A persistent znode holding some data.
await admin.create('/app', 'config v1');
const { data, stat } = await admin.getData('/app');
console.log(`znode /app = "${data}" (version ${stat.version})`);

// A one-shot watch: it fires once, on the next change, before any read that shows it.
await admin.getData('/app', { watch: (ev) => console.log(`watch: ${ev.type} ${ev.path}`) });
await worker.setData('/app', 'config v2');
console.log(`znode /app = "${(await admin.getData('/app')).data}"`);

// An ephemeral znode lives exactly as long as the session that created it.
await worker.create('/app/worker-1', 'busy', { mode: 'ephemeral' });
console.log('children of /app:', (await admin.getChildren('/app')).children);
await admin.exists('/app/worker-1', { watch: (ev) => console.log(`watch: ${ev.type} ${ev.path}`) });
await worker.close(); // the session ends, so its ephemeral znodes go
console.log('children of /app after the worker closed:', (await admin.getChildren('/app')).children);

await admin.close();

/**
 * corral/core — the znode service: connect(), the client, errors, paths and types.
 */
export { connect, type ConnectOptions, type ConnectTarget } from './connect.js';
export { Client, type ClientEvents, type MultiFailure, type OneShotOptions, type WatchOption } from './client.js';
export { op, type OpInput } from './ops.js';
export { WatchStream } from './watch-stream.js';
export * from './errors.js';
export * from './types.js';
export { validatePath, parentOf, nameOf, joinPath, isWithin, sequenceSuffix } from './path.js';
export { ensurePath, deleteRecursive } from './helpers.js';
export type { Backend, BackendEvent, HistoryLost, InterestKind, MultiReply, ChildrenPage } from './backend.js';
export { MemoryStore, MemoryBackend, memoryStore } from './memory/index.js';
export type { Logger } from './logger.js';

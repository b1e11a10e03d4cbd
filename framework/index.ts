/**
 * corral/framework — the master–worker task system on /master /workers /tasks /assign /status.
 *
 * @example
 * import { connect } from 'corral';
 * import { createMaster, createWorker, createTaskClient } from 'corral/framework';
 * const target = { redis: 'redis://127.0.0.1:6379' };
 * const master = createMaster({ connect: target, namespace: 'jobs' });
 * const worker = createWorker({ connect: target, namespace: 'jobs', concurrency: 4, handler: async (p) => p.n * 2 });
 * const tasks = createTaskClient(await connect(target, { namespace: 'jobs' }));
 * console.log(await tasks.result(await tasks.submit({ n: 21 }))); // 42
 */
export { createMaster, Master, type MasterOptions, type MasterEvents } from './master.js';
export { createWorker, Worker, type WorkerOptions, type WorkerEvents, type TaskHandler, type TaskContext } from './worker.js';
export { createTaskClient, TaskClient, type TaskInfo, type WorkerSummary, type WaitOptions, type SubmitItem } from './client.js';
export type { TaskOptions, Backoff, Retention } from './options.js';
export type { StatusRecord, TaskState, FinalState, TaskError, TaskRecord } from './task.js';
export type { ConnectionOptions, ClientFactory } from './session.js';
export { TaskFailedError, TaskCancelledError, NoSuchTaskError } from './errors.js';
export { currentMaster } from './election.js';
export * as paths from './paths.js';

/**
 * The framework's tree (DESIGN §5), in one place so no file builds paths by hand:
 *
 * ```
 * /master                   ephemeral; data = the master's id (who is master now)
 * /election/latch-…         the leader-election recipe's znodes (backups wait here)
 * /workers/<id>             ephemeral; data = host, capacity, labels
 * /tasks/task-<seq>         persistent sequential; data = the task (payload + options)
 * /assign/<worker>/<task>   persistent; created atomically with deleting /tasks/<task>
 * /status/<task>            result record; created atomically with deleting the assignment
 * /cancel/<task>            a cancellation request for a task that is already assigned
 * /keys/<key>               idempotency key -> task id
 * ```
 */
export const MASTER = '/master';
export const ELECTION = '/election';
export const WORKERS = '/workers';
export const TASKS = '/tasks';
export const ASSIGN = '/assign';
export const STATUS = '/status';
export const CANCEL = '/cancel';
export const KEYS = '/keys';

/** Folders every role makes sure exist before using the tree. */
export const FOLDERS = [WORKERS, TASKS, ASSIGN, STATUS, CANCEL, KEYS, ELECTION] as const;

/** Prefix of sequential task names (`task-0000000042`). */
export const TASK_PREFIX = 'task-';

const TASK_ID = /^task-\d{10,}$/;

/** True for a well-formed task id (`task-` and the sequence number). */
export function isTaskId(id: unknown): id is string {
  return typeof id === 'string' && TASK_ID.test(id);
}

export const workerPath = (worker: string) => `${WORKERS}/${worker}`;
export const taskPath = (task: string) => `${TASKS}/${task}`;
export const assignDir = (worker: string) => `${ASSIGN}/${worker}`;
export const assignPath = (worker: string, task: string) => `${ASSIGN}/${worker}/${task}`;
export const statusPath = (task: string) => `${STATUS}/${task}`;
export const cancelPath = (task: string) => `${CANCEL}/${task}`;
export const keyPath = (key: string) => `${KEYS}/${key}`;

/** The last segment of a path. */
export function leaf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** For `/assign/<w>/<t>`: `[w, t]`; for anything else null. */
export function splitAssignment(path: string): [string, string] | null {
  if (!path.startsWith(ASSIGN + '/')) return null;
  const from = ASSIGN.length + 1;
  const slash = path.indexOf('/', from);
  if (slash === -1 || path.indexOf('/', slash + 1) !== -1) return null;
  return [path.slice(from, slash), path.slice(slash + 1)];
}

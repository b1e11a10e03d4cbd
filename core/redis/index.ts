import type { Backend } from '../backend.js';
import { BadArgumentsError } from '../errors.js';
import type { Logger } from '../logger.js';

/** Placeholder until the Redis backend lands (issue 3): says so plainly instead of failing obscurely. */
export async function createRedisBackend(_target: { redis: unknown }, _namespace: string, _logger: Logger): Promise<Backend> {
  throw new BadArgumentsError('The Redis backend is not built yet');
}

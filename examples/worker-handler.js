// A task handler for `corral worker --handler examples/worker-handler.js`.
//
// A task's payload is { text, rounds? }: the handler hashes the text `rounds` times
// (CPU work standing in for yours), reports progress as it goes, and returns the digest.
// Throwing fails the attempt (it is retried if the task was submitted with --attempts);
// ctx.signal fires when the task is cancelled or timed out, so long work should check it.
import { createHash } from 'node:crypto';

/**
 * @param {{ text: string, rounds?: number }} payload
 * @param {{ id: string, attempt: number, signal: AbortSignal, progress(v: unknown): Promise<void> }} ctx
 */
export default async function hashText(payload, ctx) {
  if (typeof payload?.text !== 'string') throw new TypeError('expected a payload like {"text": "hello", "rounds": 1000}');
  const rounds = payload.rounds ?? 1000;
  let digest = payload.text;
  for (let i = 1; i <= rounds; i++) {
    ctx.signal.throwIfAborted();
    digest = createHash('sha256').update(digest).digest('hex');
    // Report progress in tenths, and yield so cancellation and other tasks get a turn.
    if (i % Math.max(1, Math.floor(rounds / 10)) === 0) {
      await ctx.progress(Math.round((i / rounds) * 100));
      await new Promise((r) => setImmediate(r));
    }
  }
  return { digest, rounds, attempt: ctx.attempt };
}

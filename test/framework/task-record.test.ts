import { describe, expect, it } from 'vitest';
import { BadArgumentsError } from '../../core/index.js';
import { normalizeOptions } from '../../framework/options.js';
import { decodeTask, encodeTask, type TaskRecord } from '../../framework/task.js';

function record(options?: Parameters<typeof normalizeOptions>[0], extra: Partial<TaskRecord> = {}): TaskRecord {
  return { payload: { n: 1 }, opts: normalizeOptions(options).opts, attempts: 0, stalls: 0, notBefore: 0, submittedAt: 1_700_000_000_000, ...extra };
}

describe('task records', () => {
  it('store a task without options as its payload and submit time only, and read back whole', () => {
    const rec = record();
    const bytes = encodeTask(rec, 'task');
    expect(JSON.parse(bytes.toString('utf8'))).toEqual({ payload: { n: 1 }, submittedAt: 1_700_000_000_000 });
    expect(decodeTask(bytes)).toEqual(rec);
  });

  it('keep every option and counter that differs from its default', () => {
    const rec = record(
      { attempts: 3, backoff: { type: 'exponential', delay: 50 }, timeoutMs: 900, priority: -4, labels: ['gpu'], removeOnComplete: true, idempotencyKey: 'k1' },
      { attempts: 2, stalls: 1, notBefore: 1_700_000_000_500, lastError: { name: 'Error', message: 'boom' }, progress: 0.5 },
    );
    const stored = JSON.parse(encodeTask(rec, 'task').toString('utf8'));
    expect(stored.opts).toEqual({
      attempts: 3, backoff: rec.opts.backoff, timeoutMs: 900, priority: -4, labels: ['gpu'], removeOnComplete: rec.opts.removeOnComplete, idempotencyKey: 'k1',
    });
    expect(stored).not.toHaveProperty('opts.removeOnFail');
    expect(decodeTask(encodeTask(rec, 'task'))).toEqual(rec);
    // Only the backoff's maxDelay differing still keeps the backoff.
    const capped = record({ backoff: { type: 'fixed', delay: 0, maxDelay: 10 } });
    expect(decodeTask(encodeTask(capped, 'task')).opts.backoff).toEqual({ type: 'fixed', delay: 0, maxDelay: 10 });
  });

  it('read the complete form earlier versions wrote, with or without a submit time', () => {
    const rec = record({ priority: 7 }, { attempts: 1 });
    expect(decodeTask(Buffer.from(JSON.stringify(rec)))).toEqual(rec);
    const { submittedAt: _, ...early } = rec;
    expect(decodeTask(Buffer.from(JSON.stringify(early)))).toEqual({ ...rec, submittedAt: 0 });
  });

  it('reject what is not a task record with BadArgumentsError', () => {
    for (const bad of ['not json', '[]', 'null', '{}', '{"payload":1}', '{"payload":1,"opts":7}', '{"payload":1,"opts":{"priority":"high"}}',
      '{"payload":1,"attempts":"2"}', '{"payload":1,"opts":{"labels":"a"}}', '{"payload":1,"notBefore":null}']) {
      expect(() => decodeTask(Buffer.from(bad)), bad).toThrow(BadArgumentsError);
    }
  });
});

// Retries with exponential backoff: the delays, which errors are retried, when retrying stops, and
// the typed KafkaError the client throws.
import { describe, expect, it } from 'vitest';
import { GodelError } from '../../../ts/errors.js';
import { isRetriableError, KafkaError, networkError, throwIfError } from '../../../ts/client/errors.js';
import { backoffDelayMs, DEFAULT_RETRY, retryPolicy, withRetry } from '../../../ts/client/retry.js';

describe('backoff', () => {
  it('grows by the multiplier from the initial delay up to the max, jittered within ±jitter', () => {
    const policy = retryPolicy({ initialRetryTimeMs: 100, maxRetryTimeMs: 1000, multiplier: 2, jitter: 0.2 });
    const middle = (): number => 0.5; // no jitter
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffDelayMs(policy, n, middle))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelayMs(policy, 1, () => 0)).toBe(160); // -20%
    expect(backoffDelayMs(policy, 1, () => 0.999999)).toBe(240); // +20%
    expect(backoffDelayMs(policy, 10, () => 0.999999)).toBe(1000); // never past the max
  });

  it('refuses nonsense options with CONFIG_INVALID', () => {
    for (const bad of [{ retries: -1 }, { retries: 1.5 }, { multiplier: 0.5 }, { jitter: 2 }, { initialRetryTimeMs: 500, maxRetryTimeMs: 100 }]) {
      expect(() => retryPolicy(bad)).toThrow(GodelError);
    }
    expect(retryPolicy({})).toEqual(DEFAULT_RETRY);
    expect(retryPolicy({ retries: undefined })).toEqual(DEFAULT_RETRY);
  });
});

describe('withRetry', () => {
  const fast = retryPolicy({ retries: 3, initialRetryTimeMs: 10, maxRetryTimeMs: 100, jitter: 0 });

  it('retries retriable KafkaErrors with growing delays, then succeeds', async () => {
    const slept: number[] = [];
    let calls = 0;
    const value = await withRetry(fast, async (attempt) => {
      calls++;
      if (attempt < 2) throw new KafkaError(6, undefined, { topic: 't', partition: 0 }); // NOT_LEADER_OR_FOLLOWER
      return 'done';
    }, { sleep: async (ms) => void slept.push(ms) });
    expect(value).toBe('done');
    expect(calls).toBe(3);
    expect(slept).toEqual([10, 20]);
  });

  it('gives up after `retries` retries and throws the last error', async () => {
    let calls = 0;
    const err = await withRetry(fast, async () => {
      calls++;
      throw networkError(`attempt ${calls}`);
    }, { sleep: async () => undefined }).catch((e: unknown) => e);
    expect(calls).toBe(4);
    expect(err).toBeInstanceOf(KafkaError);
    expect((err as KafkaError).message).toContain('attempt 4');
  });

  it('throws a non-retriable error at once', async () => {
    let calls = 0;
    const err = await withRetry(fast, async () => {
      calls++;
      throw new KafkaError(36, undefined, { topic: 'orders' }); // TOPIC_ALREADY_EXISTS
    }, { sleep: async () => undefined }).catch((e: unknown) => e);
    expect(calls).toBe(1);
    expect(err).toMatchObject({ type: 'TOPIC_ALREADY_EXISTS', code: 36, retriable: false, topic: 'orders' });
    let plain = 0;
    await expect(withRetry(fast, async () => {
      plain++;
      throw new Error('a bug');
    }, { sleep: async () => undefined })).rejects.toThrow('a bug');
    expect(plain).toBe(1);
  });

  it('stops when aborted, and reports each retry', async () => {
    const seen: number[] = [];
    let aborted = false;
    let calls = 0;
    await expect(withRetry(fast, async () => {
      calls++;
      throw new KafkaError(15); // COORDINATOR_NOT_AVAILABLE
    }, {
      sleep: async () => undefined,
      onRetry: (_err, attempt) => {
        seen.push(attempt);
        aborted = true;
      },
      aborted: () => aborted,
    })).rejects.toMatchObject({ type: 'COORDINATOR_NOT_AVAILABLE' });
    expect(calls).toBe(2);
    expect(seen).toEqual([0]);
  });

  it('waits for real between attempts when no sleep is injected', async () => {
    const started = Date.now();
    let calls = 0;
    await withRetry(retryPolicy({ retries: 2, initialRetryTimeMs: 30, jitter: 0 }), async () => {
      if (++calls < 3) throw new KafkaError(7); // REQUEST_TIMED_OUT
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(30 + 60 - 5);
  });
});

describe('KafkaError', () => {
  it('carries Kafka\'s name, code, retriable flag, topic and partition', () => {
    const err = new KafkaError(6, undefined, { topic: 'orders', partition: 2, brokerMessage: 'moved' });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('KafkaError');
    expect(err).toMatchObject({ type: 'NOT_LEADER_OR_FOLLOWER', code: 6, retriable: true, topic: 'orders', partition: 2, brokerMessage: 'moved' });
    expect(err.message).toBe('NOT_LEADER_OR_FOLLOWER (orders-2): moved');
    expect(new KafkaError(3, undefined, { topic: 'x' }).message).toContain('UNKNOWN_TOPIC_OR_PARTITION (x): ');
    expect(new KafkaError(999).type).toBe('UNKNOWN_ERROR_CODE(999)');
    expect(new KafkaError(45, undefined, { retriable: true }).retriable).toBe(true);
  });

  it('sorts errors into retriable and final', () => {
    for (const code of [5, 6, 7, 13, 14, 15, 16]) expect(isRetriableError(new KafkaError(code))).toBe(true);
    for (const code of [1, 10, 22, 25, 27, 36, 87]) expect(isRetriableError(new KafkaError(code))).toBe(false);
    expect(isRetriableError(new Error('x'))).toBe(false);
    expect(() => throwIfError(0)).not.toThrow();
    expect(() => throwIfError(29, { topic: 't' })).toThrow(/TOPIC_AUTHORIZATION_FAILED \(t\)/);
  });
});

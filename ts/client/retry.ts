// Retries with exponential backoff and jitter, for retriable errors only (KafkaError.retriable:
// NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE, COORDINATOR_*, REQUEST_TIMED_OUT, network
// failures …). A non-retriable error, or the last attempt's error, is thrown as it is.
//
// The delay before retry n (n = 0 for the first retry) is
//   min(maxRetryTimeMs, initialRetryTimeMs * multiplier^n) * (1 + jitter * r), r uniform in [-1, 1).

import { GodelError } from '../errors.js';
import { isRetriableError } from './errors.js';

export interface RetryOptions {
  /** Retries after the first attempt (default 5); 0 disables retrying. */
  retries?: number;
  /** Delay before the first retry (default 100 ms). */
  initialRetryTimeMs?: number;
  /** Upper bound of a single delay (default 30 s). */
  maxRetryTimeMs?: number;
  /** Growth per retry (default 2). */
  multiplier?: number;
  /** Randomization of each delay, 0..1 (default 0.2). */
  jitter?: number;
}

export interface RetryPolicy {
  readonly retries: number;
  readonly initialRetryTimeMs: number;
  readonly maxRetryTimeMs: number;
  readonly multiplier: number;
  readonly jitter: number;
}

export const DEFAULT_RETRY: RetryPolicy = Object.freeze({
  retries: 5,
  initialRetryTimeMs: 100,
  maxRetryTimeMs: 30_000,
  multiplier: 2,
  jitter: 0.2,
});

/** Fills defaults and checks ranges; throws GodelError('CONFIG_INVALID') on a bad option. */
export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...stripUndefined(options) };
  const bad = (what: string): never => {
    throw new GodelError('CONFIG_INVALID', `retry.${what}`);
  };
  if (!Number.isInteger(policy.retries) || policy.retries < 0) bad(`retries must be an integer >= 0, got ${policy.retries}`);
  if (!(policy.initialRetryTimeMs >= 0)) bad(`initialRetryTimeMs must be >= 0, got ${policy.initialRetryTimeMs}`);
  if (!(policy.maxRetryTimeMs >= policy.initialRetryTimeMs)) bad(`maxRetryTimeMs must be >= initialRetryTimeMs, got ${policy.maxRetryTimeMs}`);
  if (!(policy.multiplier >= 1)) bad(`multiplier must be >= 1, got ${policy.multiplier}`);
  if (!(policy.jitter >= 0 && policy.jitter <= 1)) bad(`jitter must be within 0..1, got ${policy.jitter}`);
  return policy;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** The delay before retry `attempt` (0-based); `random` returns a number in [0, 1). */
export function backoffDelayMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxRetryTimeMs, policy.initialRetryTimeMs * policy.multiplier ** attempt);
  const factor = 1 + policy.jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(Math.min(policy.maxRetryTimeMs, base * factor)));
}

export interface RetryHooks {
  /** Called before each retry with the error that caused it and the delay chosen. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void | Promise<void>;
  /** Whether an error is retriable (default: a retriable KafkaError). */
  isRetriable?: (err: unknown) => boolean;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Stops retrying when it returns true (a closing client). */
  aborted?: () => boolean;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs `fn(attempt)` until it succeeds, retrying retriable errors up to `policy.retries` times with
 * backoff. The error of the last attempt (or the first non-retriable one) is thrown.
 */
export async function withRetry<T>(policy: RetryPolicy, fn: (attempt: number) => Promise<T>, hooks: RetryHooks = {}): Promise<T> {
  const retriable = hooks.isRetriable ?? isRetriableError;
  const wait = hooks.sleep ?? sleep;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= policy.retries || !retriable(err) || hooks.aborted?.() === true) throw err;
      const delayMs = backoffDelayMs(policy, attempt, hooks.random);
      await hooks.onRetry?.(err, attempt, delayMs);
      await wait(delayMs);
    }
  }
}

// The client's typed errors. Every failure a broker reports, and every network failure, reaches the
// user as a KafkaError: Kafka's error name (`type`), code and retriable flag, and the topic and
// partition it concerns when there is one. Misuse of the client itself (bad options, a closed
// producer) is a GodelError with the project's closed set of codes.
import { errorName, isRetriable, kafkaError } from '../protocol/error-codes.js';

export interface KafkaErrorOptions {
  topic?: string;
  partition?: number;
  /** The broker's error message, when the response carried one. */
  brokerMessage?: string | null;
  cause?: unknown;
  /** Overrides Kafka's retriable flag (e.g. an OUT_OF_ORDER_SEQUENCE_NUMBER caused by an earlier failed batch). */
  retriable?: boolean;
}

export class KafkaError extends Error {
  /** Kafka's name for the error: 'NOT_LEADER_OR_FOLLOWER', 'NETWORK_EXCEPTION' … */
  readonly type: string;
  /** Kafka's error code (13 NETWORK_EXCEPTION, 7 REQUEST_TIMED_OUT for client-side failures). */
  readonly code: number;
  /** Whether the operation may succeed if retried. */
  readonly retriable: boolean;
  readonly topic: string | undefined;
  readonly partition: number | undefined;
  readonly brokerMessage: string | null;

  constructor(code: number, message?: string, options: KafkaErrorOptions = {}) {
    const type = errorName(code);
    const where = options.topic === undefined ? '' : options.partition === undefined ? ` (${options.topic})` : ` (${options.topic}-${options.partition})`;
    const text = message ?? options.brokerMessage ?? kafkaError(code)?.message ?? 'Unknown error';
    super(`${type}${where}: ${text}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KafkaError';
    this.type = type;
    this.code = code;
    this.retriable = options.retriable ?? isRetriable(code);
    this.topic = options.topic;
    this.partition = options.partition;
    this.brokerMessage = options.brokerMessage ?? null;
  }
}

/** NETWORK_EXCEPTION: the connection failed or closed before the response came. Retriable. */
export const NETWORK_EXCEPTION = 13;
/** REQUEST_TIMED_OUT: no response within the request timeout. Retriable. */
export const REQUEST_TIMED_OUT = 7;

export function networkError(message: string, cause?: unknown): KafkaError {
  return new KafkaError(NETWORK_EXCEPTION, message, { cause });
}

export function isKafkaError(err: unknown, type?: string): err is KafkaError {
  return err instanceof KafkaError && (type === undefined || err.type === type);
}

/** Whether `err` is worth retrying: a retriable KafkaError. Anything else is final. */
export function isRetriableError(err: unknown): boolean {
  return err instanceof KafkaError && err.retriable;
}

/** Throws a KafkaError when `code` is not 0. */
export function throwIfError(code: number, options?: KafkaErrorOptions): void {
  if (code !== 0) throw new KafkaError(code, undefined, options);
}

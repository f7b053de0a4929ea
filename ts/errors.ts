// Gödel's own errors: one class with a closed set of codes. Kafka error codes are not thrown
// across handlers; they travel as values in responses (see protocol/error-codes.ts).

export type GodelErrorCode =
  | 'CONFIG_INVALID'
  | 'CORRUPT_MESSAGE'
  | 'INVALID_RECORD'
  | 'MESSAGE_TOO_LARGE'
  | 'INVALID_TIMESTAMP'
  | 'OFFSET_OUT_OF_RANGE'
  | 'STORAGE_ERROR'
  | 'LOG_OFFLINE'
  | 'QUEUE_FULL'
  | 'CLOSED'
  | 'CORRUPT_INDEX'
  | 'PROTOCOL_ERROR'
  | 'ENGINE_UNAVAILABLE'
  | 'TOPIC_ALREADY_EXISTS'
  | 'UNKNOWN_TOPIC_OR_PARTITION'
  | 'OUT_OF_ORDER_SEQUENCE_NUMBER'
  | 'INVALID_PRODUCER_EPOCH';

export class GodelError extends Error {
  readonly code: GodelErrorCode;

  constructor(code: GodelErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GodelError';
    this.code = code;
  }
}

export function isGodelError(err: unknown, code?: GodelErrorCode): err is GodelError {
  return err instanceof GodelError && (code === undefined || err.code === code);
}

// The Kafka wire protocol: primitives, generated message codecs, headers, api keys, error codes.

export * from './reader.js';
export * from './writer.js';
export * from './api-keys.js';
export * from './error-codes.js';
export * from './headers.js';
export * from './generated/index.js';

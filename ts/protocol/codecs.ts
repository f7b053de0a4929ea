// The codecs of every api we speak: the generated ones (generated/index.ts) plus the few written by
// hand because their Kafka spec files are not in the spec directory (HAND_WRITTEN_API_KEYS in
// api-keys.ts; today DescribeLogDirs, describe-log-dirs.ts, and OffsetDelete, offset-delete.ts).
// The broker, the client and the header-version rule look codecs up here.

import {
  decodeDescribeLogDirsRequest,
  decodeDescribeLogDirsResponse,
  DESCRIBE_LOG_DIRS_FLEXIBLE_FROM,
  DESCRIBE_LOG_DIRS_MAX_VERSION,
  DESCRIBE_LOG_DIRS_MIN_VERSION,
  encodeDescribeLogDirsRequest,
  encodeDescribeLogDirsResponse,
  type DescribeLogDirsRequest,
  type DescribeLogDirsResponse,
} from './describe-log-dirs.js';
import { API_CODECS, apiCodec, type ApiCodec, type ApiMessages } from './generated/index.js';
import {
  decodeOffsetDeleteRequest,
  decodeOffsetDeleteResponse,
  encodeOffsetDeleteRequest,
  encodeOffsetDeleteResponse,
  OFFSET_DELETE_MAX_VERSION,
  OFFSET_DELETE_MIN_VERSION,
  type OffsetDeleteRequest,
  type OffsetDeleteResponse,
} from './offset-delete.js';

/** Request and response types by api key, generated and hand-written. */
export interface ProtocolMessages extends ApiMessages {
  35: { request: DescribeLogDirsRequest; response: DescribeLogDirsResponse };
  47: { request: OffsetDeleteRequest; response: OffsetDeleteResponse };
}

export type ProtocolApiKey = keyof ProtocolMessages;

type HandWrittenKey = Exclude<ProtocolApiKey, keyof ApiMessages>;

export const HAND_WRITTEN_CODECS: { readonly [K in HandWrittenKey]: ApiCodec<ProtocolMessages[K]['request'], ProtocolMessages[K]['response']> } = {
  35: {
    apiKey: 35, name: 'DescribeLogDirs', minVersion: DESCRIBE_LOG_DIRS_MIN_VERSION, maxVersion: DESCRIBE_LOG_DIRS_MAX_VERSION,
    request: { flexibleFrom: DESCRIBE_LOG_DIRS_FLEXIBLE_FROM, encode: encodeDescribeLogDirsRequest, decode: decodeDescribeLogDirsRequest },
    response: { flexibleFrom: DESCRIBE_LOG_DIRS_FLEXIBLE_FROM, encode: encodeDescribeLogDirsResponse, decode: decodeDescribeLogDirsResponse },
  },
  47: {
    apiKey: 47, name: 'OffsetDelete', minVersion: OFFSET_DELETE_MIN_VERSION, maxVersion: OFFSET_DELETE_MAX_VERSION,
    request: { flexibleFrom: null, encode: encodeOffsetDeleteRequest, decode: decodeOffsetDeleteRequest },
    response: { flexibleFrom: null, encode: encodeOffsetDeleteResponse, decode: decodeOffsetDeleteResponse },
  },
};

/** Every codec by api key. */
export const PROTOCOL_CODECS: { readonly [K in ProtocolApiKey]: ApiCodec<ProtocolMessages[K]['request'], ProtocolMessages[K]['response']> } = {
  ...API_CODECS,
  ...HAND_WRITTEN_CODECS,
};

const HAND_WRITTEN_BY_KEY: ReadonlyMap<number, ApiCodec<unknown, unknown>> = new Map(
  Object.values(HAND_WRITTEN_CODECS).map((c: ApiCodec<unknown, unknown>) => [c.apiKey, c]),
);

/** The codecs for an api key (generated or hand-written), or undefined for an api we do not speak. */
export function protocolCodec(apiKey: number): ApiCodec<unknown, unknown> | undefined {
  return apiCodec(apiKey) ?? HAND_WRITTEN_BY_KEY.get(apiKey);
}

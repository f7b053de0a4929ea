// The Kafka APIs Gödel speaks, with the version range we advertise for each: ONE table.
//
// scripts/generate-protocol.ts generates codecs for exactly these ranges, the broker's handler
// registry registers handlers within them and ApiVersions is built from that registry.
// Ranges follow ../shared/kafka-protocol/CLIENTS.md ("Suggested", extended where the codec is
// complete): never raise a minimum, real clients (librdkafka's feature checks, kafka-python's
// probe) depend on the old versions. Every range lies within the spec file's validVersions; the
// generator fails if one does not.
//
// Notes on the extended ranges:
// - Metadata 10+ and Fetch 13+ carry topic ids: @platformatic/kafka uses them up to 12 / 17 and
//   needs a real, unique UUID per topic there (a zero UUID makes its consumer confuse topics).
// - Produce starts at 0 although no client we know sends v0-2 to a broker that has v3+:
//   librdkafka before 2.11.1 only compresses with gzip, snappy or lz4 when the broker's Produce
//   range includes v0 (librdkafka #4948), so Debian's kcat and confluent-kafka would otherwise send
//   every batch uncompressed. Old message formats (magic 0/1) are refused per partition.
// - OffsetDelete (47): its spec is not in the spec directory (and spec data may not be added to
//   this repo), so its codec is written by hand in offset-delete.ts (HAND_WRITTEN_API_KEYS below;
//   the generator skips these keys). Kafka 3.9 to 4.4 define only v0, not flexible.
// - DescribeLogDirs (35): the same (describe-log-dirs.ts). 0-4 as in Kafka 3.9 (4.0 dropped v0,
//   added v5 for cordoned log dirs; its clients send v4 to us).

export const API_TABLE = [
  { apiKey: 0, name: 'Produce', minVersion: 0, maxVersion: 11 },
  { apiKey: 1, name: 'Fetch', minVersion: 4, maxVersion: 17 },
  { apiKey: 2, name: 'ListOffsets', minVersion: 0, maxVersion: 7 },
  { apiKey: 3, name: 'Metadata', minVersion: 0, maxVersion: 12 },
  { apiKey: 8, name: 'OffsetCommit', minVersion: 0, maxVersion: 9 },
  { apiKey: 9, name: 'OffsetFetch', minVersion: 0, maxVersion: 9 },
  { apiKey: 10, name: 'FindCoordinator', minVersion: 0, maxVersion: 4 },
  { apiKey: 11, name: 'JoinGroup', minVersion: 0, maxVersion: 9 },
  { apiKey: 12, name: 'Heartbeat', minVersion: 0, maxVersion: 4 },
  { apiKey: 13, name: 'LeaveGroup', minVersion: 0, maxVersion: 5 },
  { apiKey: 14, name: 'SyncGroup', minVersion: 0, maxVersion: 5 },
  { apiKey: 15, name: 'DescribeGroups', minVersion: 0, maxVersion: 5 },
  { apiKey: 16, name: 'ListGroups', minVersion: 0, maxVersion: 5 },
  { apiKey: 17, name: 'SaslHandshake', minVersion: 0, maxVersion: 1 },
  { apiKey: 18, name: 'ApiVersions', minVersion: 0, maxVersion: 3 },
  { apiKey: 19, name: 'CreateTopics', minVersion: 0, maxVersion: 7 },
  { apiKey: 20, name: 'DeleteTopics', minVersion: 0, maxVersion: 6 },
  { apiKey: 21, name: 'DeleteRecords', minVersion: 0, maxVersion: 2 },
  { apiKey: 22, name: 'InitProducerId', minVersion: 0, maxVersion: 5 },
  { apiKey: 23, name: 'OffsetForLeaderEpoch', minVersion: 0, maxVersion: 4 },
  { apiKey: 32, name: 'DescribeConfigs', minVersion: 0, maxVersion: 4 },
  { apiKey: 33, name: 'AlterConfigs', minVersion: 0, maxVersion: 2 },
  { apiKey: 35, name: 'DescribeLogDirs', minVersion: 0, maxVersion: 4 },
  { apiKey: 36, name: 'SaslAuthenticate', minVersion: 0, maxVersion: 2 },
  { apiKey: 37, name: 'CreatePartitions', minVersion: 0, maxVersion: 3 },
  { apiKey: 42, name: 'DeleteGroups', minVersion: 0, maxVersion: 2 },
  { apiKey: 44, name: 'IncrementalAlterConfigs', minVersion: 0, maxVersion: 1 },
  { apiKey: 47, name: 'OffsetDelete', minVersion: 0, maxVersion: 0 },
  { apiKey: 60, name: 'DescribeCluster', minVersion: 0, maxVersion: 1 },
] as const;

export type ApiEntry = (typeof API_TABLE)[number];
export type ApiName = ApiEntry['name'];
export type ApiKeyNumber = ApiEntry['apiKey'];

/** Apis whose codecs are written by hand (ts/protocol/codecs.ts), not generated from a spec. */
export const HAND_WRITTEN_API_KEYS = [35, 47] as const;
export type HandWrittenApiKey = (typeof HAND_WRITTEN_API_KEYS)[number];
/** The table entries whose codecs scripts/generate-protocol.ts generates. */
export type GeneratedApiEntry = Exclude<ApiEntry, { apiKey: HandWrittenApiKey }>;

export function isHandWrittenApi(apiKey: number): apiKey is HandWrittenApiKey {
  return (HAND_WRITTEN_API_KEYS as readonly number[]).includes(apiKey);
}

/** API_TABLE without the hand-written apis: exactly the generated codecs' ranges. */
export const GENERATED_API_TABLE: readonly GeneratedApiEntry[] = API_TABLE.filter((e): e is GeneratedApiEntry => !isHandWrittenApi(e.apiKey));

/** API keys by Kafka name: `ApiKey.Produce === 0`. */
export const ApiKey = Object.freeze(
  Object.fromEntries(API_TABLE.map((e) => [e.name, e.apiKey])),
) as { readonly [N in ApiName]: Extract<ApiEntry, { name: N }>['apiKey'] };

const BY_KEY: ReadonlyMap<number, ApiEntry> = new Map(API_TABLE.map((e) => [e.apiKey, e]));

/** The table entry for an api key, or undefined for an api we do not speak. */
export function apiEntry(apiKey: number): ApiEntry | undefined {
  return BY_KEY.get(apiKey);
}

/** Kafka's name for an api key ("Produce"), or `Unknown(<key>)`. */
export function apiName(apiKey: number): string {
  return BY_KEY.get(apiKey)?.name ?? `Unknown(${apiKey})`;
}

/** Whether we advertise `version` of `apiKey`. */
export function isVersionAdvertised(apiKey: number, version: number): boolean {
  const e = BY_KEY.get(apiKey);
  return e !== undefined && version >= e.minVersion && version <= e.maxVersion;
}

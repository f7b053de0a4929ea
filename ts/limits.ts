// Every limit Gödel enforces, in one place (TigerBeetle style: a limit on everything). Defaults
// that users can change through Kafka config keys are named after those keys; the rest are hard
// bounds that protect the process from bad input and unbounded queues.

/** Largest request frame the broker reads (`socket.request.max.bytes`, Kafka's default). */
export const SOCKET_REQUEST_MAX_BYTES_DEFAULT = 100 * 1024 * 1024;
/** Largest record batch a topic accepts (`message.max.bytes` / `max.message.bytes`). */
export const MESSAGE_MAX_BYTES_DEFAULT = 1024 * 1024 + 12;
/** Hard ceiling for any single batch, whatever the config says (offset index positions are u32). */
export const BATCH_BYTES_MAX = 64 * 1024 * 1024;

/** Segment size (`segment.bytes`): Kafka's default and bounds. */
export const SEGMENT_BYTES_DEFAULT = 1024 * 1024 * 1024;
export const SEGMENT_BYTES_MIN = 14;
/** Positions in an offset index entry are u32, so a segment can never pass 2 GiB. */
export const SEGMENT_BYTES_MAX = 0x7fffffff;
/** Index file size (`segment.index.bytes`); a full index rolls the segment. */
export const SEGMENT_INDEX_BYTES_DEFAULT = 10 * 1024 * 1024;
export const SEGMENT_INDEX_BYTES_MIN = 4;
/** Bytes of log between two index entries (`index.interval.bytes`). */
export const INDEX_INTERVAL_BYTES_DEFAULT = 4096;

/** Appends queued on one partition before new ones are refused (backpressure, not unbounded memory). */
export const PARTITION_APPENDS_QUEUED_MAX = 10_000;
/** Bytes of appends queued on one partition before new ones are refused. */
export const PARTITION_APPEND_BYTES_QUEUED_MAX = 256 * 1024 * 1024;
/** Buffers handed to one writev (the kernel's IOV_MAX is 1024; the engines loop past it anyway). */
export const WRITEV_BUFFERS_MAX = 1024;

/** Largest read served by one PartitionLog.read call. */
export const READ_BYTES_MAX = 64 * 1024 * 1024;
/**
 * Idle read buffers the broker keeps for reuse (read-buffer-pool.ts). A fetch reads into a pooled
 * buffer and gives it back once the response is on the socket, so steady fetching allocates no new
 * memory (fresh buffers per fetch made V8 run a full GC every few dozen fetches).
 */
export const READ_BUFFER_POOL_BYTES_MAX = 32 * 1024 * 1024;
/** Read buffers are pooled in power-of-two sizes from this size… */
export const READ_BUFFER_POOLED_MIN = 16 * 1024;
/** …up to this one; larger reads get a buffer of their own. */
export const READ_BUFFER_POOLED_MAX = 8 * 1024 * 1024;
/**
 * The one buffer all connections read sizes, small requests and the start of large ones into
 * (broker/connection.ts; the client's connections have one of the same size); a larger request's
 * or response's remaining bytes are read straight into its own buffer.
 */
export const READ_SCRATCH_BYTES = 64 * 1024;
/**
 * The tail cache (storage/tail-cache.ts): recent batches kept in memory for fetches at the log end,
 * in chunks of this size from the read-buffer pool (larger appends are not cached)…
 */
export const TAIL_CACHE_CHUNK_BYTES = 256 * 1024;
/** …at most this much per partition… */
export const TAIL_CACHE_PARTITION_BYTES = 1024 * 1024;
/** …and this much in all… */
export const TAIL_CACHE_BYTES_MAX = 64 * 1024 * 1024;
/** …and only while a fetch read the partition's tail within this time. */
export const TAIL_CACHE_IDLE_MS = 5000;
/**
 * Room a `godel serve` process leaves its JS heap to grow into before V8 starts a full GC (see
 * heap-growth.ts): V8 sizes that room from the live heap, and a broker's live heap is
 * small (about 10 MB), so without this it ran several full GCs a second under steady load.
 */
export const HEAP_GROWTH_HEADROOM_BYTES = 64 * 1024 * 1024;
/**
 * Segments one PartitionLog.read may span while it looks past batches that compaction emptied
 * (a read normally stays in one segment; see PartitionLog.readOn).
 */
export const READ_SEGMENTS_MAX = 64;

/** Protocol decoding: no array, string or bytes field may claim more than this many elements. */
export const PROTOCOL_ARRAY_LENGTH_MAX = 1_000_000;

// ---- Protocol codec (ts/protocol) -----------------------------------------------------------------
// PROTOCOL_ARRAY_LENGTH_MAX above bounds array counts; strings are bounded by the protocol (32767
// bytes) and bytes/records fields by the bytes remaining in the frame, itself bounded by
// SOCKET_REQUEST_MAX_BYTES_DEFAULT.

/** A reused protocol Writer keeps at most this much buffer between messages; a bigger one is dropped on reset. */
export const PROTOCOL_WRITER_RETAINED_BYTES_MAX = 1024 * 1024;

/** Long-polling fetches held at once; past this a fetch is answered at once. */
export const DELAYED_FETCHES_MAX = 10_000;
/** A fetch never waits longer than this, whatever max_wait_ms says. */
export const FETCH_MAX_WAIT_MS_MAX = 5 * 60_000;

/** Idempotent producers remembered per partition; the least recently used is forgotten past this. */
export const PRODUCERS_PER_PARTITION_MAX = 10_000;

// ---- Log cleaner (ts/storage/log-cleaner.ts) ------------------------------------------------------
// Broker keys as Kafka names them; the LogManager reads them from the broker config.

/** Memory for the key → offset map of a cleaning (`log.cleaner.dedupe.buffer.size`, Kafka's default). */
export const LOG_CLEANER_DEDUPE_BUFFER_SIZE_DEFAULT = 128 * 1024 * 1024;
/** The smallest map allowed: it must hold at least a few keys, or cleaning never moves forward. */
export const LOG_CLEANER_DEDUPE_BUFFER_SIZE_MIN = 1024;
/** Above this the map's typed arrays could not be allocated in one piece. */
export const LOG_CLEANER_DEDUPE_BUFFER_SIZE_MAX = 2 * 1024 * 1024 * 1024 - 1;
/** How full the map may get before a pass stops adding keys (`log.cleaner.io.buffer.load.factor`). */
export const LOG_CLEANER_DEDUPE_LOAD_FACTOR_DEFAULT = 0.9;
/**
 * Bytes read (and at most written) per step of a cleaning (`log.cleaner.io.buffer.size`): after each
 * step the cleaner yields to the event loop, so produce and fetch never wait behind more than one.
 */
export const LOG_CLEANER_IO_BUFFER_SIZE_DEFAULT = 512 * 1024;
/** Time between looks for a log to clean when there was nothing to do (`log.cleaner.backoff.ms`). */
export const LOG_CLEANER_BACKOFF_MS_DEFAULT = 15_000;
/**
 * Largest uncompressed payload the broker inflates from one compressed batch (checking the keys of a
 * compacted topic at append, and cleaning): a bound on memory against decompression bombs. The
 * client's zstd decoder uses it too, for frames that do not say their size (client/zstd.ts).
 */
export const DECOMPRESSED_BATCH_BYTES_MAX = 64 * 1024 * 1024;

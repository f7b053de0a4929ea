// The storage hot path behind one interface, implemented twice: by the C++ addon (native/) and in
// pure TypeScript (fallback.ts). Both give the same results byte for byte; test/unit/engine runs
// one suite over both. Callers validate arguments with ./validate.ts before they reach an engine.

export type EngineName = 'native' | 'ts';

/** How a segment file is opened. */
export interface OpenSegmentOptions {
  /** Create the file when it does not exist (a new segment); otherwise it must exist. */
  create: boolean;
}

/**
 * One open segment file (`.log`, `.index` or `.timeindex`). Positions are byte offsets in the file.
 * Disk work runs off the event loop (the addon's worker threads, or libuv's pool for the fallback).
 */
export interface SegmentFile {
  readonly path: string;
  /**
   * Writes `buffers` back to back at `position` with one writev (repeated only for short writes).
   * Resolves with the bytes written, which is always the sum of the lengths; rejects with the
   * system error (`code` = 'ENOSPC', 'EIO' …) otherwise, and then some prefix may have been written.
   */
  writev(buffers: readonly Uint8Array[], position: number): Promise<number>;
  /**
   * fdatasync with group commit: a call made while a sync is in flight does not start its own; all
   * such calls are covered by the next single sync, which starts when the current one ends. So a
   * resolved sync() covers every write that completed before sync() was called.
   */
  sync(): Promise<void>;
  /** Reads up to `length` bytes at `position` into `target` at `targetOffset`; resolves with the count (0 at end of file). */
  read(target: Uint8Array, targetOffset: number, length: number, position: number): Promise<number>;
  /** Sets the file's size (used to cut a torn tail or to trim a preallocated index). */
  truncate(size: number): Promise<void>;
  /** The file's current size on disk. */
  size(): Promise<number>;
  /** Closes the descriptor after in-flight operations end; later calls reject. */
  close(): Promise<void>;
  /** How many fdatasync calls reached the disk (to observe group commit). */
  readonly syncCount: number;
}

export interface LogEngine {
  readonly name: EngineName;
  /**
   * CRC32C (Castagnoli) of `data[start, end)`, continuing from `initial` (0 for a fresh CRC), so
   * crc32c(b, crc32c(a)) === crc32c(a ++ b). Returns an unsigned 32-bit integer.
   */
  crc32c(data: Uint8Array, start: number, end: number, initial: number): number;
  /** Opens a segment file for reading and writing. */
  openSegmentFile(path: string, options: OpenSegmentOptions): Promise<SegmentFile>;
  /**
   * Offset index search. `index` holds `entries` 8-byte entries, big-endian as Kafka writes them:
   * relative offset (u32), file position (u32), ascending by relative offset. Returns the slot of
   * the greatest entry whose relative offset is <= `targetRelativeOffset`, or -1 if none.
   */
  searchOffsetIndex(index: Uint8Array, entries: number, targetRelativeOffset: number): number;
  /**
   * Time index search. `index` holds `entries` 12-byte entries, big-endian: timestamp (i64),
   * relative offset (u32), ascending by timestamp. Returns the slot of the greatest entry whose
   * timestamp is <= `targetTimestamp`, or -1 if none.
   */
  searchTimeIndex(index: Uint8Array, entries: number, targetTimestamp: bigint): number;
}

export const OFFSET_INDEX_ENTRY_BYTES = 8;
export const TIME_INDEX_ENTRY_BYTES = 12;

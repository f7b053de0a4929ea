// How far the broker process's JS heap may grow between full GCs. V8 allows the old generation
// to grow by a factor of the live size after each full GC (with a floor of a few MB); a broker's
// live heap is small — about 10 MB of metadata, indexes' bookkeeping and connection state — while
// it moves hundreds of MB/s of short-lived request objects through the young generation. With the
// default factor the remaining room was often no larger than the young generation itself, and V8
// then starts incremental marking again right after each full GC: 4–5 full GCs a second at
// 50 MB/s, ~20% of the broker's CPU and pauses of several ms (bench/RESULTS.md has the
// measurements). Setting V8's heap-growing percentage from the live size after each full GC keeps
// HEAP_GROWTH_HEADROOM_BYTES of room while the heap is small, and leaves V8's own policy in place
// once the live heap is larger than that room.
//
// V8 reads this flag each time it computes a limit, so it can change at run time. It is set by
// processes that own their V8 — `godel serve`, and the benchmark's load generators, whose own
// GC pauses would otherwise be measured as broker latency — never by the library: an application
// embedding a Broker or a client keeps its own policy.
import { constants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { HEAP_GROWTH_HEADROOM_BYTES } from './limits.js';

/** Above this factor (live × 11) the room would stop being "headroom" for a tiny heap. */
const MAX_PERCENT = 1000;

/** The heap-growing percentage that leaves `headroom` bytes above `liveBytes` (0: V8's own policy). */
export function heapGrowingPercent(liveBytes: number, headroom = HEAP_GROWTH_HEADROOM_BYTES): number {
  if (liveBytes >= headroom) return 0;
  // In steps of 50 points, so small changes in the live size do not reset the flag every GC.
  return Math.min(MAX_PERCENT, Math.ceil((headroom / Math.max(liveBytes, 1)) * 2) * 50);
}

/** Starts adjusting the growth after every full GC; returns a function that stops it. */
export function keepHeapHeadroom(): () => void {
  let current = -1;
  const apply = (): void => {
    const percent = heapGrowingPercent(v8.getHeapStatistics().used_heap_size);
    if (percent === current) return;
    current = percent;
    v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
  };
  apply();
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (((entry as { detail?: { kind?: number } }).detail)?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        apply();
        return;
      }
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => observer.disconnect();
}

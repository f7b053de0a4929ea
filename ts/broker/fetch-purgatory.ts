// Long-polling fetches (Kafka's DelayedFetch purgatory): a fetch that found less than min_bytes
// waits until an append to one of its partitions, or max_wait_ms, whichever comes first. Waiters
// are bounded; past the bound a fetch is answered at once with what it has.
import { DELAYED_FETCHES_MAX } from '../limits.js';
import type { PartitionLog } from '../storage/partition-log.js';

interface Waiter {
  logs: PartitionLog[];
  wake: () => void;
  timer: NodeJS.Timeout;
  done: boolean;
}

export class FetchPurgatory {
  private readonly byLog = new Map<PartitionLog, Set<Waiter>>();
  private count = 0;

  get waiting(): number {
    return this.count;
  }

  /**
   * Resolves when one of `logs` gets an append, or after `maxWaitMs`. Resolves at once when the
   * purgatory is full (the fetch then answers with what it has, as if its wait had expired).
   */
  wait(logs: PartitionLog[], maxWaitMs: number): Promise<void> {
    if (this.count >= DELAYED_FETCHES_MAX || logs.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const waiter: Waiter = {
        logs: [...new Set(logs)],
        wake: () => {
          if (waiter.done) return;
          waiter.done = true;
          clearTimeout(waiter.timer);
          this.remove(waiter);
          resolve();
        },
        timer: setTimeout(() => waiter.wake(), maxWaitMs),
        done: false,
      };
      this.count++;
      for (const log of waiter.logs) {
        let set = this.byLog.get(log);
        if (set === undefined) {
          set = new Set();
          this.byLog.set(log, set);
          log.onAppend = () => this.appended(log);
        }
        set.add(waiter);
      }
    });
  }

  private appended(log: PartitionLog): void {
    const set = this.byLog.get(log);
    if (set === undefined) return;
    for (const waiter of [...set]) waiter.wake();
  }

  private remove(waiter: Waiter): void {
    this.count--;
    for (const log of waiter.logs) {
      const set = this.byLog.get(log);
      if (set === undefined) continue;
      set.delete(waiter);
      if (set.size === 0) {
        this.byLog.delete(log);
        log.onAppend = undefined;
      }
    }
  }

  /** Answers every waiting fetch now (shutdown). */
  wakeAll(): void {
    for (const set of [...this.byLog.values()]) for (const waiter of [...set]) waiter.wake();
  }
}

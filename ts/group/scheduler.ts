// Timers for the group coordinator (session timeouts, rebalance and sync deadlines, the initial
// rebalance delay, offset expiry), behind an interface so the state machine can be driven by a
// manual clock in tests: ManualScheduler.advance(ms) moves the clock and fires what is due, in
// deadline order, synchronously.
import { systemClock, type Clock, type ManualClock } from '../clock.js';

export interface TimerHandle {
  cancel(): void;
}

export interface Scheduler {
  nowMs(): number;
  /** Runs `task` once after `delayMs` (0 or less: on a later turn, never synchronously). */
  schedule(delayMs: number, task: () => void): TimerHandle;
}

/** Node timers, unreferenced so they never keep a process alive on their own. */
export class SystemScheduler implements Scheduler {
  constructor(private readonly clock: Clock = systemClock) {}

  nowMs(): number {
    return this.clock.nowMs();
  }

  schedule(delayMs: number, task: () => void): TimerHandle {
    // setTimeout caps at 2^31-1 ms; longer delays are re-armed until due.
    const MAX = 0x7fffffff;
    let timer: NodeJS.Timeout | null = null;
    let cancelled = false;
    const arm = (left: number): void => {
      timer = setTimeout(() => {
        if (cancelled) return;
        if (left > MAX) arm(left - MAX);
        else task();
      }, Math.max(0, Math.min(left, MAX)));
      timer.unref();
    };
    arm(delayMs);
    return {
      cancel: () => {
        cancelled = true;
        if (timer !== null) clearTimeout(timer);
      },
    };
  }
}

interface ManualTimer {
  dueMs: number;
  seq: number;
  task: () => void;
  cancelled: boolean;
}

/** A scheduler over a ManualClock: nothing fires until `advance` (tests). */
export class ManualScheduler implements Scheduler {
  private timers: ManualTimer[] = [];
  private seq = 0;

  constructor(readonly clock: ManualClock) {}

  nowMs(): number {
    return this.clock.nowMs();
  }

  schedule(delayMs: number, task: () => void): TimerHandle {
    const timer: ManualTimer = { dueMs: this.clock.nowMs() + Math.max(0, delayMs), seq: this.seq++, task, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Timers still armed. */
  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Moves the clock by `ms`, firing every timer that falls due, earliest first (ties: oldest). */
  advance(ms: number): void {
    const target = this.clock.nowMs() + ms;
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      let next: ManualTimer | undefined;
      for (const t of this.timers) {
        if (t.dueMs <= target && (next === undefined || t.dueMs < next.dueMs || (t.dueMs === next.dueMs && t.seq < next.seq))) next = t;
      }
      if (next === undefined) break;
      if (next.dueMs > this.clock.nowMs()) this.clock.set(next.dueMs);
      next.cancelled = true;
      next.task();
    }
    this.clock.set(target);
  }
}

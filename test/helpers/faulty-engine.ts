// A LogEngine wrapper for fault-injection tests: it passes every call to a real engine unless a
// rule says to fail it the way the system would (an errno-coded Error: ENOSPC, EIO …), and it can
// hold calls at a gate so a test decides when, and how, each one ends. Rules and gates match the
// operation and, optionally, the file's path. A failing writev may first write a prefix of its
// bytes, as a short write followed by an error does.
import os from 'node:os';
import type { LogEngine, OpenSegmentOptions, SegmentFile } from '../../ts/engine/types.js';

export type FaultOp = 'open' | 'writev' | 'sync' | 'read' | 'truncate' | 'size';

/** Which files a rule or gate applies to: a substring of the path, a pattern, or a predicate. */
export type PathMatch = string | RegExp | ((path: string) => boolean);

export interface FaultRule {
  op: FaultOp;
  /** The errno code of the error thrown (default ENOSPC for writev, EIO otherwise). */
  code?: string;
  match?: PathMatch;
  /** Matching calls let through before the rule starts failing them (default 0). */
  skip?: number;
  /** Calls failed before the rule is spent (default: every one). */
  times?: number;
  /** writev only: bytes of the data written (at the call's position) before the error. */
  partialBytes?: number | ((total: number) => number);
}

export interface FaultHandle {
  /** Calls this rule failed so far. */
  readonly fired: number;
  remove(): void;
}

interface ActiveRule extends FaultRule {
  skipLeft: number;
  timesLeft: number;
  fired: number;
}

/** How a held call ends: it goes on to the real engine, or fails with this errno code. */
export type GateOutcome = 'pass' | { fail: string };

interface HeldCall {
  path: string;
  proceed: (outcome: GateOutcome) => void;
}

/** Holds matching calls until the test releases them, oldest first. */
export class Gate {
  private readonly held: HeldCall[] = [];
  private arrivals = 0;
  private waiters: { count: number; resolve: () => void }[] = [];
  private closed = false;

  constructor(
    readonly op: FaultOp,
    private readonly match: PathMatch | undefined,
  ) {}

  /** Calls that reached the gate so far. */
  get arrived(): number {
    return this.arrivals;
  }

  /** Calls waiting at the gate now. */
  get waiting(): number {
    return this.held.length;
  }

  /** Paths of the calls waiting now, oldest first. */
  waitingPaths(): string[] {
    return this.held.map((h) => h.path);
  }

  matches(op: FaultOp, path: string): boolean {
    return !this.closed && op === this.op && pathMatches(this.match, path);
  }

  /** Parks a call; resolves with how it should end. */
  enter(path: string): Promise<GateOutcome> {
    return new Promise((resolve) => {
      this.held.push({ path, proceed: resolve });
      this.arrivals++;
      this.waiters = this.waiters.filter((w) => {
        if (this.arrivals < w.count) return true;
        w.resolve();
        return false;
      });
    });
  }

  /** Resolves once `count` calls in all have reached the gate; rejects after `timeoutMs`. */
  untilArrived(count: number, timeoutMs = 20_000): Promise<void> {
    if (this.arrivals >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`only ${this.arrivals} of ${count} ${this.op} calls reached the gate within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** Lets the oldest held call end as `outcome`. */
  release(outcome: GateOutcome = 'pass'): void {
    const call = this.held.shift();
    if (call === undefined) throw new Error(`no ${this.op} call is waiting at the gate`);
    call.proceed(outcome);
  }

  /** Lets every held call through and stops holding new ones. */
  open(): void {
    this.closed = true;
    while (this.held.length > 0) this.held.shift()!.proceed('pass');
  }
}

/** An Error shaped like the one Node's fs (and the native engine) gives for a failed system call. */
export function errnoError(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: injected fault, ${syscall} '${path}'`);
  err.code = code;
  const errno = (os.constants.errno as Record<string, number | undefined>)[code];
  if (errno !== undefined) err.errno = -errno;
  err.syscall = syscall;
  err.path = path;
  return err;
}

function pathMatches(match: PathMatch | undefined, path: string): boolean {
  if (match === undefined) return true;
  if (typeof match === 'string') return path.includes(match);
  if (match instanceof RegExp) return match.test(path);
  return match(path);
}

const SYSCALLS: Record<FaultOp, string> = {
  open: 'open', writev: 'writev', sync: 'fdatasync', read: 'read', truncate: 'ftruncate', size: 'fstat',
};

export class FaultyEngine implements LogEngine {
  private rules: ActiveRule[] = [];
  private gates: Gate[] = [];
  /** Paths of the calls that reached the real engine and succeeded, per operation, in order. */
  private readonly succeeded: Record<FaultOp, string[]> = { open: [], writev: [], sync: [], read: [], truncate: [], size: [] };
  private completionWaiters: (() => void)[] = [];
  /** Calls that reached this wrapper, per operation (failed ones included). */
  readonly calls: Record<FaultOp, number> = { open: 0, writev: 0, sync: 0, read: 0, truncate: 0, size: 0 };

  constructor(readonly inner: LogEngine) {}

  get name(): LogEngine['name'] {
    return this.inner.name;
  }

  /** Adds a rule; rules are tried in the order they were added, the first that fires wins. */
  inject(rule: FaultRule): FaultHandle {
    const active: ActiveRule = { ...rule, skipLeft: rule.skip ?? 0, timesLeft: rule.times ?? Infinity, fired: 0 };
    this.rules.push(active);
    return {
      get fired() {
        return active.fired;
      },
      remove: () => {
        this.rules = this.rules.filter((r) => r !== active);
      },
    };
  }

  /** Holds matching calls of `op` until the test releases them (see Gate). */
  gate(op: FaultOp, match?: PathMatch): Gate {
    const gate = new Gate(op, match);
    this.gates.push(gate);
    return gate;
  }

  /** Removes every rule and opens every gate: from now on the engine is healthy. */
  heal(): void {
    this.rules = [];
    for (const gate of this.gates) gate.open();
    this.gates = [];
  }

  /** Successful calls of `op` on matching files so far (calls that reached the real engine and resolved). */
  completed(op: FaultOp, match?: PathMatch): number {
    return this.succeeded[op].filter((p) => pathMatches(match, p)).length;
  }

  /** Resolves once `count` calls of `op` on matching files succeeded; rejects after `timeoutMs`. */
  async untilCompleted(op: FaultOp, match: PathMatch | undefined, count: number, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.completed(op, match) < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`only ${this.completed(op, match)} of ${count} ${op} calls completed within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.completionWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Records a successful call (FaultySegmentFile and openSegmentFile call this). */
  noteSuccess(op: FaultOp, path: string): void {
    this.succeeded[op].push(path);
    const waiters = this.completionWaiters;
    this.completionWaiters = [];
    for (const wake of waiters) wake();
  }

  crc32c(data: Uint8Array, start: number, end: number, initial: number): number {
    return this.inner.crc32c(data, start, end, initial);
  }

  searchOffsetIndex(index: Uint8Array, entries: number, targetRelativeOffset: number): number {
    return this.inner.searchOffsetIndex(index, entries, targetRelativeOffset);
  }

  searchTimeIndex(index: Uint8Array, entries: number, targetTimestamp: bigint): number {
    return this.inner.searchTimeIndex(index, entries, targetTimestamp);
  }

  async openSegmentFile(path: string, options: OpenSegmentOptions): Promise<SegmentFile> {
    await this.intercept('open', path);
    const file = await this.inner.openSegmentFile(path, options);
    this.noteSuccess('open', path);
    return new FaultySegmentFile(this, file);
  }

  /** Counts the call, waits at a gate if one holds it, then throws if a gate or rule says it fails. */
  async intercept(op: FaultOp, path: string): Promise<void> {
    const fault = await this.decide(op, path);
    if (fault !== null) throw errnoError(fault.code, SYSCALLS[op], path);
  }

  /** The fault to inject for this call (after any gate), or null to pass it on. */
  async decide(op: FaultOp, path: string): Promise<{ code: string; partialBytes?: FaultRule['partialBytes'] } | null> {
    this.calls[op]++;
    const gate = this.gates.find((g) => g.matches(op, path));
    if (gate !== undefined) {
      const outcome = await gate.enter(path);
      if (outcome !== 'pass') return { code: outcome.fail };
    }
    for (const rule of this.rules) {
      if (rule.op !== op || !pathMatches(rule.match, path) || rule.timesLeft <= 0) continue;
      if (rule.skipLeft > 0) {
        rule.skipLeft--;
        continue;
      }
      rule.timesLeft--;
      rule.fired++;
      return { code: rule.code ?? (op === 'writev' ? 'ENOSPC' : 'EIO'), partialBytes: rule.partialBytes };
    }
    return null;
  }
}

/** Copies the first `bytes` bytes of `buffers` into as few views as needed. */
function prefixOf(buffers: readonly Uint8Array[], bytes: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let left = bytes;
  for (const b of buffers) {
    if (left <= 0) break;
    out.push(b.length <= left ? b : b.subarray(0, left));
    left -= b.length;
  }
  return out;
}

class FaultySegmentFile implements SegmentFile {
  constructor(
    private readonly engine: FaultyEngine,
    private readonly file: SegmentFile,
  ) {}

  get path(): string {
    return this.file.path;
  }

  get syncCount(): number {
    return this.file.syncCount;
  }

  async writev(buffers: readonly Uint8Array[], position: number): Promise<number> {
    const fault = await this.engine.decide('writev', this.path);
    if (fault === null) return this.passed('writev', await this.file.writev(buffers, position));
    const partial = fault.partialBytes;
    if (partial !== undefined) {
      let total = 0;
      for (const b of buffers) total += b.length;
      const bytes = Math.max(0, Math.min(total, typeof partial === 'number' ? partial : partial(total)));
      if (bytes > 0) await this.file.writev(prefixOf(buffers, bytes), position);
    }
    throw errnoError(fault.code, 'writev', this.path);
  }

  async sync(): Promise<void> {
    await this.engine.intercept('sync', this.path);
    return this.passed('sync', await this.file.sync());
  }

  async read(target: Uint8Array, targetOffset: number, length: number, position: number): Promise<number> {
    await this.engine.intercept('read', this.path);
    return this.passed('read', await this.file.read(target, targetOffset, length, position));
  }

  async truncate(size: number): Promise<void> {
    await this.engine.intercept('truncate', this.path);
    return this.passed('truncate', await this.file.truncate(size));
  }

  async size(): Promise<number> {
    await this.engine.intercept('size', this.path);
    return this.passed('size', await this.file.size());
  }

  private passed<T>(op: FaultOp, result: T): T {
    this.engine.noteSuccess(op, this.path);
    return result;
  }

  close(): Promise<void> {
    return this.file.close();
  }
}

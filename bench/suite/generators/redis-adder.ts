// XADD <key> * v <value> written straight to a socket in RESP, pipelined, with the replies counted
// rather than awaited one by one: the Redis side of peer-latency.ts's Sender and the Node produce
// path. ioredis makes a promise and a command object per XADD and reached 26k XADD/s here against
// redis-benchmark's 300k; this reaches the server's own limit with a Node process.
// Replies are bulk strings (the new entry's ID) or errors; nothing else is expected.
import net from 'node:net';
import type { Sender } from './peer-latency.js';

const CR = 0x0d;
const LF = 0x0a;
const BATCH_BYTES = 256 * 1024;

export class RedisStreamAdder implements Sender {
  private readonly socket: net.Socket;
  private readonly header: Buffer;
  private readonly trailer = Buffer.from('\r\n');
  private sent = 0;
  private answered = 0;
  /** Bytes of a bulk reply's body (plus its CRLF) still to skip, across chunks. */
  private skip = 0;
  /** A reply line split across chunks. */
  private partialLine = '';
  private waiter: { below: number; resolve: () => void } | undefined;
  /** Commands of this tick, copied into one buffer and written in one go on the next. */
  private batch: Buffer = Buffer.alloc(0);
  private batchUsed = 0;
  private flushQueued = false;
  private readonly flush = (): void => {
    this.flushQueued = false;
    this.socket.write(this.batch.subarray(0, this.batchUsed));
    this.batch = Buffer.alloc(0);
    this.batchUsed = 0;
  };
  readonly copiesPayload = true;
  failure: Error | undefined;

  constructor(address: string, key: string, recordBytes: number) {
    const [host, port] = address.split(':');
    const k = Buffer.from(key);
    // Every record has the same size, so one header serves them all.
    this.header = Buffer.concat([
      Buffer.from(`*5\r\n$4\r\nXADD\r\n$${k.length}\r\n`), k,
      Buffer.from(`\r\n$1\r\n*\r\n$1\r\nv\r\n$${recordBytes}\r\n`),
    ]);
    this.socket = net.connect({ host, port: Number(port), noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.fail(err));
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
  }

  /** Queues one XADD (the payload is copied); the tick's commands go out in one write. */
  send(payload: Buffer): void {
    const size = this.header.length + payload.length + this.trailer.length;
    if (this.batchUsed + size > this.batch.length) {
      if (this.batchUsed > 0) this.socket.write(this.batch.subarray(0, this.batchUsed));
      this.batch = Buffer.allocUnsafe(Math.max(BATCH_BYTES, size));
      this.batchUsed = 0;
    }
    this.batchUsed += this.header.copy(this.batch, this.batchUsed);
    this.batchUsed += payload.copy(this.batch, this.batchUsed);
    this.batchUsed += this.trailer.copy(this.batch, this.batchUsed);
    this.sent++;
    if (!this.flushQueued) {
      this.flushQueued = true;
      process.nextTick(this.flush);
    }
  }

  get inFlight(): number {
    return this.sent - this.answered;
  }

  /** Resolves once at most `below` XADDs are unanswered (or on a failure). */
  async waitBelow(below: number): Promise<void> {
    if (this.failure !== undefined || this.inFlight <= below) return;
    await new Promise<void>((resolve) => (this.waiter = { below, resolve }));
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        if (this.skip === 0) this.answer();
        continue;
      }
      const lf = chunk.indexOf(LF, i);
      if (lf < 0) {
        this.partialLine += chunk.toString('latin1', i);
        return;
      }
      const line = this.partialLine + chunk.toString('latin1', i, lf > i && chunk[lf - 1] === CR ? lf - 1 : lf);
      this.partialLine = '';
      i = lf + 1;
      if (line.startsWith('$')) {
        this.skip = Number(line.slice(1)) + 2;
      } else {
        this.fail(new Error(`XADD answered ${line.replace(/\r$/, '')}`));
        this.answer();
      }
    }
  }

  private answer(): void {
    this.answered++;
    if (this.waiter !== undefined && this.inFlight <= this.waiter.below) {
      this.waiter.resolve();
      this.waiter = undefined;
    }
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.waiter?.resolve();
    this.waiter = undefined;
  }
}

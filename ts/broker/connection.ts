// One client connection: framing (int32 size, then the request), in-order responses for
// pipelined requests, a bound on requests in flight (the socket stops being read until responses
// drain), an idle timeout, and a clean close with one log line on anything malformed. Nothing a
// client sends can throw past this file: the rest of the broker keeps serving everyone else.
import type { Socket } from 'node:net';
import { GodelError } from '../errors.js';
import type { Logger } from '../log.js';
import { apiName } from '../protocol/api-keys.js';
import { encodeApiVersionsResponse } from '../protocol/generated/api-versions-response.js';
import { protocolCodec } from '../protocol/codecs.js';
import { decodeRequestHeader, encodeResponseHeader, responseHeaderVersion } from '../protocol/headers.js';
import { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';
import { READ_SCRATCH_BYTES } from '../limits.js';
import { acquireReadBuffer, releaseReadBuffer } from '../storage/read-buffer-pool.js';
import { AFTER_WRITE, NO_RESPONSE, type ApiRegistry, type RequestContext } from './api-registry.js';
import { adopt } from './direct-reads.js';

const API_VERSIONS = 18;
const UNSUPPORTED_VERSION = 35;
const SIZE_BYTES = 4;
/**
 * Where every connection reads when no request body is being gathered: sizes, small requests and
 * the start of large ones. One buffer serves all connections, because each read is consumed in
 * full (copied out) by its callback before the event loop reads again.
 */
const scratch = Buffer.allocUnsafeSlow(READ_SCRATCH_BYTES);

export interface ConnectionOptions {
  id: number;
  registry: ApiRegistry;
  logger: Logger;
  maxFrameBytes: number;
  maxInFlight: number;
  idleTimeoutMs: number;
  onClose: (connection: Connection) => void;
  /** false: read through 'data' events, as when direct reads are unavailable (for tests). */
  directReads?: boolean;
}

interface Slot {
  /**
   * The encoded response frame, null until ready; NO_RESPONSE for requests that get none. A frame
   * is a list of chunks: record batches are written from the buffers they were read into.
   */
  frame: Buffer[] | null | typeof NO_RESPONSE;
  /** The response's AFTER_WRITE hook, called from the write callback of its last chunk. */
  afterWrite?: () => void;
}

export class Connection {
  readonly id: number;
  readonly remoteAddress: string;
  private readonly sizeBuf = Buffer.alloc(SIZE_BYTES);
  private sizeFilled = 0;
  private frame: Buffer | null = null;
  /** The pooled buffer `frame` is a view of. */
  private frameBuffer: Buffer | null = null;
  private frameFilled = 0;
  private readonly slots: Slot[] = [];
  private paused = false;
  private awaitingDrain = false;
  private closed = false;
  private readonly writer = new Writer();

  private readonly socket: Socket;

  /** `accepted` comes from a server with pauseOnConnect (see direct-reads.ts). */
  constructor(accepted: Socket, private readonly options: ConnectionOptions) {
    this.id = options.id;
    const adopted = options.directReads === false ? null
      : adopt(accepted, () => this.nextReadTarget(), (bytes, target) => this.onDirectRead(bytes, target));
    const socket = (this.socket = adopted?.socket ?? accepted);
    this.remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.setNoDelay(true);
    socket.setTimeout(options.idleTimeoutMs);
    if (adopted?.direct !== true) socket.on('data', (chunk: Buffer) => this.onData(chunk, false));
    if (adopted === null) socket.resume();
    socket.on('timeout', () => {
      if (this.slots.length === 0) this.close('idle for connections.max.idle.ms', 'debug');
    });
    socket.on('error', (err) => this.close(`socket error: ${err.message}`, 'debug'));
    socket.on('close', () => this.close('closed by the client', 'debug'));
  }

  get inFlight(): number {
    return this.slots.length;
  }

  /** A request body being gathered is read into directly; everything else into `scratch`. */
  private nextReadTarget(): Buffer {
    return this.frame !== null ? this.frame.subarray(this.frameFilled) : scratch;
  }

  /** `target` is what nextReadTarget() gave: the scratch, or else the rest of `frame`. */
  private onDirectRead(bytes: number, target: Uint8Array): boolean {
    if (target === scratch) {
      this.onData(scratch.subarray(0, bytes), true);
    } else if (this.frame !== null) {
      this.frameFilled += bytes;
      if (this.frameFilled === this.frame.length) this.completeFrame();
    }
    return true;
  }

  /**
   * Frames from `chunk`. A `transient` chunk is overwritten by the next read, so a whole frame in
   * it is copied out before dispatch; otherwise it is dispatched as a view, without copying.
   */
  private onData(chunk: Buffer, transient: boolean): void {
    let pos = 0;
    while (pos < chunk.length && !this.closed) {
      if (this.frame === null) {
        if (this.sizeFilled === 0 && chunk.length - pos >= SIZE_BYTES) {
          const size = chunk.readInt32BE(pos);
          if (!this.acceptSize(size)) return;
          if (chunk.length - pos - SIZE_BYTES >= size) {
            const start = pos + SIZE_BYTES;
            if (transient) {
              const pooled = acquireReadBuffer(size);
              chunk.copy(pooled, 0, start, start + size);
              this.dispatch(pooled.subarray(0, size), pooled);
            } else {
              this.dispatch(chunk.subarray(start, start + size));
            }
            pos += SIZE_BYTES + size;
            continue;
          }
          this.startFrame(size);
          pos += SIZE_BYTES;
          continue;
        }
        const n = Math.min(SIZE_BYTES - this.sizeFilled, chunk.length - pos);
        chunk.copy(this.sizeBuf, this.sizeFilled, pos, pos + n);
        this.sizeFilled += n;
        pos += n;
        if (this.sizeFilled < SIZE_BYTES) return;
        this.sizeFilled = 0;
        const size = this.sizeBuf.readInt32BE(0);
        if (!this.acceptSize(size)) return;
        this.startFrame(size);
        continue;
      }
      const n = Math.min(this.frame.length - this.frameFilled, chunk.length - pos);
      chunk.copy(this.frame, this.frameFilled, pos, pos + n);
      this.frameFilled += n;
      pos += n;
      if (this.frameFilled === this.frame.length) this.completeFrame();
    }
  }

  /**
   * A frame that spans socket reads is gathered into a buffer of its own, from the pool: a fresh
   * one per request is external memory for V8, and 100 MB/s of produce requests made it run
   * full GCs several times a second. The handler may give it back (releaseRequestBuffer).
   */
  private startFrame(size: number): void {
    this.frameBuffer = acquireReadBuffer(size);
    this.frame = this.frameBuffer.subarray(0, size);
    this.frameFilled = 0;
  }

  private completeFrame(): void {
    const frame = this.frame!;
    const pooled = this.frameBuffer;
    this.frame = null;
    this.frameBuffer = null;
    this.dispatch(frame, pooled);
  }

  /** `socket.request.max.bytes` is checked before a byte of the frame is buffered. */
  private acceptSize(size: number): boolean {
    if (size < 8 || size > this.options.maxFrameBytes) {
      this.close(size > this.options.maxFrameBytes
        ? `request of ${size} bytes exceeds socket.request.max.bytes ${this.options.maxFrameBytes}`
        : `impossible request size ${size}`);
      return false;
    }
    return true;
  }

  private dispatch(frame: Buffer, pooled: Buffer | null = null): void {
    let ctx: RequestContext;
    const reader = new Reader(frame);
    try {
      const header = decodeRequestHeader(reader);
      ctx = {
        apiKey: header.apiKey, apiVersion: header.apiVersion, correlationId: header.correlationId,
        clientId: header.clientId, connectionId: this.id, remoteAddress: this.remoteAddress,
      };
      if (pooled !== null) {
        let released = false;
        ctx.releaseRequestBuffer = () => {
          if (released) return;
          released = true;
          releaseReadBuffer(pooled);
        };
      }
    } catch (err) {
      this.close(`malformed request header: ${(err as Error).message}`);
      return;
    }
    const handler = this.options.registry.get(ctx.apiKey);
    if (ctx.apiKey === API_VERSIONS && handler !== undefined && ctx.apiVersion > handler.maxVersion) {
      // KIP-511: a newer ApiVersions than ours gets a v0 answer with UNSUPPORTED_VERSION and the
      // full list, so the client can retry with a version we speak.
      this.respondWith({ frame: this.unsupportedApiVersions(ctx.correlationId) });
      return;
    }
    if (handler === undefined) {
      this.close(`unsupported api key ${ctx.apiKey} (${apiName(ctx.apiKey)})`);
      return;
    }
    if (ctx.apiVersion < handler.minVersion || ctx.apiVersion > handler.maxVersion) {
      this.close(`unsupported version ${ctx.apiVersion} of ${apiName(ctx.apiKey)} (we serve ${handler.minVersion}-${handler.maxVersion})`);
      return;
    }
    let request: unknown;
    try {
      request = protocolCodec(ctx.apiKey)!.request.decode(reader, ctx.apiVersion);
    } catch (err) {
      this.close(`malformed ${apiName(ctx.apiKey)} v${ctx.apiVersion} request: ${(err as Error).message}`);
      return;
    }
    const slot: Slot = { frame: null };
    this.slots.push(slot);
    this.updateFlow();
    let result: unknown;
    try {
      result = handler.handle(request, ctx);
    } catch (err) {
      this.handlerFailed(ctx, err);
      return;
    }
    if (result instanceof Promise) {
      result.then((response) => this.complete(slot, ctx, response), (err: unknown) => this.handlerFailed(ctx, err));
    } else {
      this.complete(slot, ctx, result);
    }
  }

  private complete(slot: Slot, ctx: RequestContext, response: unknown): void {
    if (this.closed) {
      (response as { [AFTER_WRITE]?: () => void } | undefined)?.[AFTER_WRITE]?.();
      return;
    }
    if (response === NO_RESPONSE) {
      slot.frame = NO_RESPONSE;
    } else {
      try {
        slot.frame = this.encodeResponse(ctx, response);
        slot.afterWrite = (response as { [AFTER_WRITE]?: () => void })[AFTER_WRITE];
      } catch (err) {
        this.handlerFailed(ctx, err);
        return;
      }
    }
    this.flush();
  }

  private encodeResponse(ctx: RequestContext, response: unknown): Buffer[] {
    const w = this.writer.reset();
    const sizeAt = w.reserveInt32();
    encodeResponseHeader(w, ctx.correlationId, responseHeaderVersion(ctx.apiKey, ctx.apiVersion));
    protocolCodec(ctx.apiKey)!.response.encode(w, response, ctx.apiVersion);
    w.int32At(sizeAt, w.length - SIZE_BYTES);
    return w.finishChunks();
  }

  private unsupportedApiVersions(correlationId: number): Buffer[] {
    const w = this.writer.reset();
    const sizeAt = w.reserveInt32();
    encodeResponseHeader(w, correlationId, 0);
    encodeApiVersionsResponse(w, {
      errorCode: UNSUPPORTED_VERSION, apiKeys: this.options.registry.versions(), throttleTimeMs: 0,
      supportedFeatures: [], finalizedFeaturesEpoch: -1n, finalizedFeatures: [], zkMigrationReady: false,
    }, 0);
    w.int32At(sizeAt, w.length - SIZE_BYTES);
    return w.finishChunks();
  }

  private respondWith(slot: Slot): void {
    this.slots.push(slot);
    this.flush();
  }

  /** A handler bug must not take the broker down: log it and drop this connection only. */
  private handlerFailed(ctx: RequestContext, err: unknown): void {
    const message = err instanceof GodelError ? err.message : String((err as Error)?.stack ?? err);
    this.options.logger.error({ conn: this.id, remote: this.remoteAddress, api: apiName(ctx.apiKey), version: ctx.apiVersion, err: message }, 'request handler failed');
    this.close(`${apiName(ctx.apiKey)} handler failed`);
  }

  /** Writes ready responses in request order. */
  private flush(): void {
    if (this.slots.length === 0 || this.slots[0]!.frame === null) return;
    this.socket.cork();
    while (this.slots.length > 0 && this.slots[0]!.frame !== null) {
      const slot = this.slots.shift()!;
      const frame = slot.frame;
      if (frame !== NO_RESPONSE && frame !== null && !this.closed) {
        const last = frame.length - 1;
        // Write callbacks run in order, also with an error when the socket is destroyed first.
        for (let i = 0; i < last; i++) this.socket.write(frame[i]!);
        this.socket.write(frame[last]!, slot.afterWrite);
      } else {
        slot.afterWrite?.();
      }
    }
    this.socket.uncork();
    this.updateFlow();
  }

  /**
   * Reads stop while too many requests are in flight or the client is not reading its responses;
   * they resume when both drain. Memory per connection stays bounded either way.
   */
  private updateFlow(): void {
    if (this.closed) return;
    const congested = this.slots.length >= this.options.maxInFlight || this.socket.writableNeedDrain;
    if (congested && this.socket.writableNeedDrain && !this.awaitingDrain) {
      this.awaitingDrain = true;
      this.socket.once('drain', () => {
        this.awaitingDrain = false;
        this.updateFlow();
      });
    }
    if (congested && !this.paused) {
      this.paused = true;
      this.socket.pause();
    } else if (!congested && this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  close(reason: string, level: 'warn' | 'debug' = 'warn'): void {
    if (this.closed) return;
    this.closed = true;
    this.options.logger[level]({ conn: this.id, remote: this.remoteAddress, reason }, 'connection closed');
    this.socket.destroy();
    this.options.onClose(this);
  }
}

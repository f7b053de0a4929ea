// One TCP connection to one broker: request pipelining with correlation ids, a limit on requests in
// flight (the rest wait their turn in order), a timeout per request, and reconnection with
// exponential backoff. The first request on a new socket is ApiVersions; every later request is
// sent at the highest version both sides speak (see CLIENT_VERSION_MAX for the client's own caps).
//
// Responses arrive in request order (Kafka answers one connection in order). A request that times
// out closes the connection, as the Java client does: its late response could otherwise be taken
// for the next one. A failed or closed socket fails the requests in flight with NETWORK_EXCEPTION
// (retriable); requests not yet written stay queued and go out on the next socket.
//
// Frames: a response frame that lies inside one socket chunk is a view of it (no copy); one that
// spans chunks is assembled once into a buffer of its size.

import net from 'node:net';
import type { Logger } from 'pino';
import { GodelError } from '../errors.js';
import { READ_SCRATCH_BYTES } from '../limits.js';
import { silentLogger } from '../log.js';
import { apiName } from '../protocol/api-keys.js';
import { PROTOCOL_CODECS as API_CODECS, type ProtocolMessages as ApiMessages } from '../protocol/codecs.js';
import { encodeRequestHeader, decodeResponseHeader, responseHeaderVersion, type ApiKeyWithCodec } from '../protocol/headers.js';
import { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';
import { GODEL_VERSION } from '../version.js';
import { KafkaError, NETWORK_EXCEPTION, REQUEST_TIMED_OUT, networkError } from './errors.js';

const UNSUPPORTED_VERSION = 35;
/**
 * Where every connection of this process reads sizes and small responses (net.connect's onread):
 * each read is consumed in full — its frames copied out — before the event loop reads again, and
 * the rest of a larger response is read straight into that response's own buffer. Node's default
 * allocates a buffer per read, reallocates it to the bytes read and copies them, and the frame was
 * then copied once more here.
 */
const readScratch = Buffer.allocUnsafeSlow(READ_SCRATCH_BYTES);
const API_VERSIONS = 18;

/** A frame lying whole in `chunk`: a view, or a copy when the chunk is the scratch (reused). */
function whole(chunk: Buffer, pos: number, size: number, transient: boolean): Buffer {
  const view = chunk.subarray(pos, pos + size);
  return transient ? Buffer.from(view) : view;
}

/**
 * The highest version the client sends of each api, below what the codecs support: past these the
 * messages need topic ids (Fetch 13+) or belong to KIP-848 groups (OffsetCommit 9, OffsetFetch 8+),
 * which the client does not use.
 */
export const CLIENT_VERSION_MAX: Partial<Record<ApiKeyWithCodec, number>> = {
  1: 12, // Fetch
  8: 8, // OffsetCommit
  9: 7, // OffsetFetch
};

/** The lowest version the client sends: ListOffsets v0 answers with an offset array. */
export const CLIENT_VERSION_MIN: Partial<Record<ApiKeyWithCodec, number>> = {
  2: 1, // ListOffsets
};

export interface ConnectionOptions {
  host: string;
  port: number;
  clientId?: string;
  /** Time to open the socket and finish the ApiVersions handshake (default 10 s). */
  connectTimeoutMs?: number;
  /** Default time to wait for a response (default 30 s). */
  requestTimeoutMs?: number;
  /** Requests written and not yet answered (default 100; a producer uses 5). */
  maxInFlightRequests?: number;
  /** Delay before reconnecting after a failure, doubled per failure up to the max (100 ms, 10 s). */
  reconnectBackoffMs?: number;
  reconnectBackoffMaxMs?: number;
  /** Largest response frame accepted (default 512 MiB). */
  maxResponseBytes?: number;
  logger?: Logger;
}

export interface RequestOptions {
  /** Overrides the connection's request timeout (a long-polling fetch adds its max wait). */
  timeoutMs?: number;
  /** The broker sends no response (Produce with acks=0): resolves once written. */
  noResponse?: boolean;
}

interface Pending {
  correlationId: number;
  apiKey: ApiKeyWithCodec;
  version: number;
  chunks: Buffer[] | null;
  noResponse: boolean;
  timeoutMs: number;
  deadline: number;
  resolve: (body: unknown) => void;
  reject: (err: Error) => void;
  /** Builds the request for the negotiated version (called when it is written). */
  encode: (w: Writer, version: number) => void;
}

type State = 'idle' | 'connecting' | 'ready' | 'closed';

const CLIENT_SOFTWARE_NAME = 'godel-client';

export class Connection {
  readonly host: string;
  readonly port: number;
  private readonly clientId: string;
  private readonly connectTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly maxInFlight: number;
  private readonly backoffMs: number;
  private readonly backoffMaxMs: number;
  private readonly maxResponseBytes: number;
  private readonly logger: Logger;

  private state: State = 'idle';
  private socket: net.Socket | null = null;
  private connecting: Promise<void> | null = null;
  private failures = 0;
  private lastFailureAt = 0;
  private nextCorrelationId = 1;
  private versions = new Map<number, { min: number; max: number }>();
  private readonly writer = new Writer(64 * 1024);
  /** Written, awaiting their response, in order. */
  private readonly inFlight: Pending[] = [];
  private inFlightHead = 0;
  /** Not yet written (in-flight limit, or no socket yet). */
  private readonly waiting: Pending[] = [];
  private waitingHead = 0;
  private timeoutTimer: NodeJS.Timeout | null = null;

  // frame assembly
  private sizeBytes = Buffer.allocUnsafe(4);
  private sizeHave = 0;
  private frame: Buffer | null = null;
  private frameHave = 0;

  constructor(options: ConnectionOptions) {
    this.host = options.host;
    this.port = options.port;
    this.clientId = options.clientId ?? 'godel';
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.maxInFlight = options.maxInFlightRequests ?? 100;
    this.backoffMs = options.reconnectBackoffMs ?? 100;
    this.backoffMaxMs = options.reconnectBackoffMaxMs ?? 10_000;
    this.maxResponseBytes = options.maxResponseBytes ?? 512 * 1024 * 1024;
    this.logger = options.logger ?? silentLogger;
    if (!(this.maxInFlight >= 1)) throw new GodelError('CONFIG_INVALID', `maxInFlightRequests must be >= 1, got ${this.maxInFlight}`);
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  get isReady(): boolean {
    return this.state === 'ready';
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Requests written and not yet answered. */
  get inFlightCount(): number {
    return this.inFlight.length - this.inFlightHead;
  }

  /** Requests queued behind the in-flight limit. */
  get waitingCount(): number {
    return this.waiting.length - this.waitingHead;
  }

  /** Opens the socket and negotiates versions; shared by concurrent callers. */
  connect(): Promise<void> {
    if (this.state === 'closed') return Promise.reject(new GodelError('CLOSED', `connection to ${this.address} is closed`));
    if (this.state === 'ready') return Promise.resolve();
    this.connecting ??= this.open().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async open(): Promise<void> {
    this.state = 'connecting';
    if (this.failures > 0) {
      const delay = Math.min(this.backoffMaxMs, this.backoffMs * 2 ** (this.failures - 1)) * (0.8 + Math.random() * 0.4);
      const wait = this.lastFailureAt + delay - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (this.isClosed) throw new GodelError('CLOSED', `connection to ${this.address} is closed`);
    }
    try {
      const socket = await this.openSocket();
      if (this.isClosed) {
        socket.destroy();
        throw new GodelError('CLOSED', `connection to ${this.address} is closed`);
      }
      this.attach(socket);
      await this.handshake();
      this.failures = 0;
      this.state = 'ready';
      this.pump();
    } catch (err) {
      this.failures++;
      this.lastFailureAt = Date.now();
      const failure = err instanceof KafkaError || err instanceof GodelError ? err : networkError(`cannot connect to ${this.address}: ${(err as Error).message}`, err);
      this.teardown(failure, true);
      throw failure;
    }
  }

  private openSocket(): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      // Set once net.connect returns: the read target is first asked for inside it.
      const ref: { socket?: net.Socket } = {};
      const opened = (ref.socket = net.connect({
        host: this.host, port: this.port,
        onread: {
          buffer: () => this.nextReadTarget(ref.socket),
          callback: (bytes, target) => {
            this.onRead(ref.socket!, bytes, target);
            return true;
          },
        },
      }));
      const timer = setTimeout(() => {
        opened.destroy();
        reject(networkError(`connecting to ${this.address} timed out after ${this.connectTimeoutMs} ms`));
      }, this.connectTimeoutMs);
      opened.once('connect', () => {
        clearTimeout(timer);
        opened.removeAllListeners('error');
        resolve(opened);
      });
      opened.once('error', (err) => {
        clearTimeout(timer);
        reject(networkError(`cannot connect to ${this.address}: ${err.message}`, err));
      });
    });
  }

  /** A response being gathered on the current socket is read into directly; else the scratch. */
  private nextReadTarget(socket: net.Socket | undefined): Buffer {
    return socket !== undefined && this.socket === socket && this.frame !== null ? this.frame.subarray(this.frameHave) : readScratch;
  }

  /** `target` is what nextReadTarget() gave: the scratch, or else the rest of this socket's `frame`. */
  private onRead(socket: net.Socket, bytes: number, target: Uint8Array): void {
    if (target === readScratch) {
      this.onData(socket, readScratch.subarray(0, bytes), true);
    } else if (this.socket === socket && this.frame !== null) {
      this.frameHave += bytes;
      if (this.frameHave === this.frame.length) {
        const frame = this.frame;
        this.frame = null;
        this.deliver(frame);
      }
    }
  }

  private attach(socket: net.Socket): void {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    this.socket = socket;
    this.sizeHave = 0;
    this.frame = null;
    this.frameHave = 0;
    socket.on('error', (err) => {
      if (this.socket === socket) this.onSocketGone(networkError(`connection to ${this.address} failed: ${err.message}`, err));
    });
    socket.on('close', () => {
      if (this.socket === socket) this.onSocketGone(networkError(`connection to ${this.address} closed`));
    });
  }

  /** ApiVersions v3, falling back to v0 when the broker does not speak v3. */
  private async handshake(): Promise<void> {
    const timeoutMs = this.connectTimeoutMs;
    let response = await this.send(API_VERSIONS, 3, (w, v) => API_CODECS[18].request.encode(w, { clientSoftwareName: CLIENT_SOFTWARE_NAME, clientSoftwareVersion: GODEL_VERSION }, v), { timeoutMs }) as ApiMessages[18]['response'];
    if (response.errorCode === UNSUPPORTED_VERSION) {
      const broker = response.apiKeys.find((k) => k.apiKey === API_VERSIONS);
      const version = Math.min(broker?.maxVersion ?? 0, 2);
      response = await this.send(API_VERSIONS, version, (w, v) => API_CODECS[18].request.encode(w, { clientSoftwareName: CLIENT_SOFTWARE_NAME, clientSoftwareVersion: GODEL_VERSION }, v), { timeoutMs }) as ApiMessages[18]['response'];
    }
    if (response.errorCode !== 0) throw new KafkaError(response.errorCode, `ApiVersions to ${this.address} failed`);
    this.versions = new Map(response.apiKeys.map((k) => [k.apiKey, { min: k.minVersion, max: k.maxVersion }]));
  }

  /** The version to send `apiKey` at, or a KafkaError(UNSUPPORTED_VERSION) when there is none. */
  versionFor(apiKey: ApiKeyWithCodec): number {
    const codec = API_CODECS[apiKey];
    const broker = this.versions.get(apiKey);
    const ourMax = Math.min(codec.maxVersion, CLIENT_VERSION_MAX[apiKey] ?? codec.maxVersion);
    const ourMin = Math.max(codec.minVersion, CLIENT_VERSION_MIN[apiKey] ?? codec.minVersion);
    if (broker === undefined) throw new KafkaError(UNSUPPORTED_VERSION, `broker ${this.address} does not support ${apiName(apiKey)}`);
    const version = Math.min(ourMax, broker.max);
    if (version < ourMin || version < broker.min) {
      throw new KafkaError(UNSUPPORTED_VERSION, `broker ${this.address} supports ${apiName(apiKey)} ${broker.min}-${broker.max}, the client ${ourMin}-${ourMax}`);
    }
    return version;
  }

  /** Whether the broker supports `apiKey` at all (after connect()). */
  supports(apiKey: ApiKeyWithCodec): boolean {
    try {
      this.versionFor(apiKey);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Sends a request, built by `build(version)` for the negotiated version, and resolves with the
   * decoded response body. Connects first when needed.
   */
  async request<K extends ApiKeyWithCodec>(
    apiKey: K,
    build: (version: number) => ApiMessages[K]['request'],
    options: RequestOptions = {},
  ): Promise<ApiMessages[K]['response']> {
    if (this.state !== 'ready') await this.connect();
    const version = this.versionFor(apiKey);
    const codec = API_CODECS[apiKey];
    const body = build(version);
    return this.send(apiKey, version, (w, v) => codec.request.encode(w, body, v), options) as Promise<ApiMessages[K]['response']>;
  }

  /** Queues one request (the handshake uses it before the connection is ready). */
  private send(apiKey: ApiKeyWithCodec, version: number, encode: (w: Writer, version: number) => void, options: RequestOptions): Promise<unknown> {
    if (this.state === 'closed') return Promise.reject(new GodelError('CLOSED', `connection to ${this.address} is closed`));
    return new Promise((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
      const pending: Pending = {
        correlationId: 0, apiKey, version, chunks: null, noResponse: options.noResponse === true,
        timeoutMs, deadline: 0, resolve, reject, encode,
      };
      if (apiKey === API_VERSIONS && this.state === 'connecting') {
        // The handshake goes first, ahead of anything queued.
        this.write(pending);
        return;
      }
      this.waiting.push(pending);
      this.pump();
    });
  }

  /** Writes waiting requests while the in-flight limit allows. */
  private pump(): void {
    if (this.state !== 'ready') {
      if (this.state === 'idle' && this.waitingCount > 0) this.connect().catch(() => undefined);
      return;
    }
    let corked = false;
    while (this.waitingHead < this.waiting.length && this.inFlightCount < this.maxInFlight) {
      const pending = this.waiting[this.waitingHead]!;
      this.waiting[this.waitingHead++] = undefined as unknown as Pending;
      if (!corked) {
        this.socket!.cork();
        corked = true;
      }
      this.write(pending);
    }
    if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
      this.waiting.splice(0, this.waitingHead);
      this.waitingHead = 0;
    }
    if (corked) this.socket!.uncork();
  }

  private write(pending: Pending): void {
    const socket = this.socket!;
    pending.correlationId = this.nextCorrelationId;
    this.nextCorrelationId = (this.nextCorrelationId + 1) & 0x7fffffff || 1;
    const w = this.writer.reset();
    let chunks: Buffer[];
    try {
      const sizeAt = w.reserveInt32();
      encodeRequestHeader(w, { apiKey: pending.apiKey, apiVersion: pending.version, correlationId: pending.correlationId, clientId: this.clientId });
      pending.encode(w, pending.version);
      w.int32At(sizeAt, w.length - 4);
      chunks = w.finishChunks();
    } catch (err) {
      pending.reject(err as Error);
      return;
    }
    if (pending.noResponse) {
      for (let i = 0; i < chunks.length - 1; i++) socket.write(chunks[i]!);
      socket.write(chunks[chunks.length - 1]!, (err) => {
        if (err) pending.reject(networkError(`writing to ${this.address} failed: ${err.message}`, err));
        else pending.resolve(undefined);
      });
      return;
    }
    pending.deadline = Date.now() + pending.timeoutMs;
    this.inFlight.push(pending);
    for (const chunk of chunks) socket.write(chunk);
    this.armTimeouts();
  }

  private armTimeouts(): void {
    if (this.timeoutTimer !== null) return;
    this.timeoutTimer = setInterval(() => this.checkTimeouts(), 100);
    this.timeoutTimer.unref();
  }

  private checkTimeouts(): void {
    if (this.inFlightCount === 0) {
      clearInterval(this.timeoutTimer!);
      this.timeoutTimer = null;
      return;
    }
    const now = Date.now();
    for (let i = this.inFlightHead; i < this.inFlight.length; i++) {
      const p = this.inFlight[i]!;
      if (p.deadline <= now) {
        const err = new KafkaError(REQUEST_TIMED_OUT, `${apiName(p.apiKey)} v${p.version} to ${this.address} got no response within ${p.timeoutMs} ms`);
        this.logger.warn({ broker: this.address, api: apiName(p.apiKey) }, 'request timed out; closing the connection');
        // The timed-out request gets the timeout; the rest of the connection's requests a network error.
        this.inFlight.splice(i, 1);
        p.reject(err);
        this.onSocketGone(networkError(`connection to ${this.address} closed after a request timed out`));
        return;
      }
    }
  }

  /**
   * Frames from `chunk`. A `transient` chunk (the shared scratch) is overwritten by the next read:
   * a whole frame in it is copied out, since responses hand out views of their frame (values).
   */
  private onData(socket: net.Socket, chunk: Buffer, transient: boolean): void {
    if (this.socket !== socket) return;
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      if (this.frame === null) {
        // Read the size, possibly across chunks.
        if (this.sizeHave === 0 && end - pos >= 4) {
          const size = chunk.readInt32BE(pos);
          pos += 4;
          if (!this.startFrame(size)) return;
          if (end - pos >= size) {
            // Fast path: the whole frame lies in this chunk.
            const frame = whole(chunk, pos, size, transient);
            pos += size;
            this.frame = null;
            if (!this.deliver(frame)) return;
            continue;
          }
        } else {
          while (this.sizeHave < 4 && pos < end) this.sizeBytes[this.sizeHave++] = chunk[pos++]!;
          if (this.sizeHave < 4) return;
          this.sizeHave = 0;
          if (!this.startFrame(this.sizeBytes.readInt32BE(0))) return;
          const size = this.sizeBytes.readInt32BE(0);
          if (end - pos >= size) {
            const frame = whole(chunk, pos, size, transient);
            pos += size;
            this.frame = null;
            if (!this.deliver(frame)) return;
            continue;
          }
        }
        this.frame = Buffer.allocUnsafe(this.frameSize);
        this.frameHave = 0;
      }
      const take = Math.min(end - pos, this.frame.length - this.frameHave);
      chunk.copy(this.frame, this.frameHave, pos, pos + take);
      this.frameHave += take;
      pos += take;
      if (this.frameHave === this.frame.length) {
        const frame = this.frame;
        this.frame = null;
        if (!this.deliver(frame)) return;
      }
    }
  }

  private frameSize = 0;

  private startFrame(size: number): boolean {
    if (size < 4 || size > this.maxResponseBytes) {
      this.onSocketGone(new KafkaError(NETWORK_EXCEPTION, `broker ${this.address} sent a frame of ${size} bytes (limit ${this.maxResponseBytes})`));
      return false;
    }
    this.frameSize = size;
    return true;
  }

  /** Matches a frame to the oldest request in flight; false when the connection was torn down. */
  private deliver(frame: Buffer): boolean {
    const pending = this.inFlight[this.inFlightHead];
    if (pending === undefined) {
      this.onSocketGone(networkError(`broker ${this.address} sent a response nobody asked for`));
      return false;
    }
    this.inFlight[this.inFlightHead++] = undefined as unknown as Pending;
    if (this.inFlightHead > 256 && this.inFlightHead * 2 > this.inFlight.length) {
      this.inFlight.splice(0, this.inFlightHead);
      this.inFlightHead = 0;
    }
    let body: unknown;
    try {
      const r = new Reader(frame);
      const header = decodeResponseHeader(r, responseHeaderVersion(pending.apiKey, pending.version));
      if (header.correlationId !== pending.correlationId) {
        const err = networkError(`broker ${this.address} answered correlation id ${header.correlationId}, expected ${pending.correlationId}`);
        pending.reject(err);
        this.onSocketGone(err);
        return false;
      }
      body = API_CODECS[pending.apiKey].response.decode(r, pending.version);
    } catch (err) {
      pending.reject(new KafkaError(NETWORK_EXCEPTION, `cannot decode ${apiName(pending.apiKey)} v${pending.version} response from ${this.address}: ${(err as Error).message}`, { cause: err, retriable: false }));
      this.pump();
      return true;
    }
    pending.resolve(body);
    this.pump();
    return true;
  }

  /** The socket failed or closed: fail what is in flight, keep what waits, reconnect if needed. */
  private onSocketGone(err: Error): void {
    if (this.state === 'closed') return;
    const wasConnecting = this.state === 'connecting';
    this.failures = Math.max(this.failures, 1);
    this.lastFailureAt = Date.now();
    this.teardown(err, false);
    if (!wasConnecting) {
      this.state = 'idle';
      if (this.waitingCount > 0) this.connect().catch(() => undefined);
    }
  }

  /** Destroys the socket and fails the requests in flight (and the waiting ones when `all`). */
  private teardown(err: Error, all: boolean): void {
    const socket = this.socket;
    this.socket = null;
    socket?.destroy();
    this.frame = null;
    this.sizeHave = 0;
    if (this.timeoutTimer !== null) {
      clearInterval(this.timeoutTimer);
      this.timeoutTimer = null;
    }
    const inFlight = this.inFlight.splice(this.inFlightHead);
    this.inFlight.length = 0;
    this.inFlightHead = 0;
    for (const p of inFlight) p.reject(err);
    if (all) {
      const waiting = this.waiting.splice(this.waitingHead);
      this.waiting.length = 0;
      this.waitingHead = 0;
      for (const p of waiting) p.reject(err);
    }
    if (this.state !== 'closed') this.state = 'idle';
  }

  /** Closes the connection: requests in flight and waiting fail with GodelError('CLOSED'). */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.teardown(new GodelError('CLOSED', `connection to ${this.address} closed by the client`), true);
    this.state = 'closed';
  }

  /** Drops the socket as if the network failed (tests, and callers that saw a protocol error). */
  destroySocket(reason = 'destroyed by the client'): void {
    if (this.socket !== null) this.onSocketGone(networkError(`connection to ${this.address} ${reason}`));
  }
}

// One handler per API key, each registered with the version range it serves (franz-go's kfake
// style). Registering a key twice, or a range we do not advertise in protocol/api-keys.ts, fails
// loudly at start. ApiVersions answers from this registry, so what we advertise is what we serve.
import { apiEntry } from '../protocol/api-keys.js';
import type { ProtocolApiKey, ProtocolMessages } from '../protocol/codecs.js';

export interface RequestContext {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
  connectionId: number;
  remoteAddress: string;
  /**
   * Set when the request's frame is a pooled buffer: a handler that knows no view of the request
   * (a records field, a bytes field) is used any more may call it once, so the buffer is reused.
   * Not calling it is always safe (the buffer is garbage-collected).
   */
  releaseRequestBuffer?: () => void;
}

/** Returned by a handler that must not answer (Produce with acks=0). */
export const NO_RESPONSE = Symbol('no response');

/**
 * A response may carry a function under this key: the connection calls it once the response is
 * written to the socket (or dropped with the connection), e.g. to reuse the buffers it referenced.
 */
export const AFTER_WRITE = Symbol('after write');

export type HandlerResult<R> = R | typeof NO_RESPONSE | Promise<R | typeof NO_RESPONSE>;

export interface ApiHandler<K extends ProtocolApiKey> {
  readonly apiKey: K;
  readonly minVersion: number;
  readonly maxVersion: number;
  handle(request: ProtocolMessages[K]['request'], ctx: RequestContext): HandlerResult<ProtocolMessages[K]['response']>;
}

// The registry holds handlers of every key; each is typed where it is written.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyHandler = ApiHandler<any>;

export class ApiRegistry {
  private readonly handlers = new Map<number, AnyHandler>();

  register<K extends ProtocolApiKey>(handler: ApiHandler<K>): void {
    const entry = apiEntry(handler.apiKey);
    if (entry === undefined) throw new Error(`api key ${handler.apiKey} is not in the advertised table`);
    if (this.handlers.has(handler.apiKey)) throw new Error(`a handler for ${entry.name} is already registered`);
    if (handler.minVersion < entry.minVersion || handler.maxVersion > entry.maxVersion || handler.minVersion > handler.maxVersion) {
      throw new Error(`${entry.name} handler range ${handler.minVersion}-${handler.maxVersion} is outside the codec range ${entry.minVersion}-${entry.maxVersion}`);
    }
    this.handlers.set(handler.apiKey, handler);
  }

  get(apiKey: number): AnyHandler | undefined {
    return this.handlers.get(apiKey);
  }

  /** Every registered key with its range, ascending by key (the ApiVersions response). */
  versions(): { apiKey: number; minVersion: number; maxVersion: number }[] {
    return [...this.handlers.values()]
      .map((h) => ({ apiKey: h.apiKey as number, minVersion: h.minVersion, maxVersion: h.maxVersion }))
      .sort((a, b) => a.apiKey - b.apiKey);
  }
}

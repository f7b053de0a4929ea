// A scripted fake broker for client unit tests: a plain TCP server speaking the project's codecs.
// It reads requests as they come (so tests can count what is in flight), answers them in order as
// Kafka does, answers ApiVersions itself, and can cut its response frames anywhere.
import net from 'node:net';
import { API_TABLE } from '../../../ts/protocol/api-keys.js';
import { PROTOCOL_CODECS as API_CODECS } from '../../../ts/protocol/codecs.js';
import { decodeRequestHeader, encodeResponseFrame, type ApiKeyWithCodec } from '../../../ts/protocol/headers.js';
import { Reader } from '../../../ts/protocol/reader.js';
import { Writer } from '../../../ts/protocol/writer.js';

export interface Received {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  socket: net.Socket;
  body: unknown;
}

export type Answer = (req: Received) => unknown | null | Promise<unknown | null>;

/** A TCP server that answers Kafka requests as scripted; `null` means no answer. */
export class FakeBroker {
  readonly received: Received[] = [];
  readonly sockets: net.Socket[] = [];
  connections = 0;
  /** How response bytes are cut into writes (default: one write per frame). */
  chunking: ((frame: Buffer) => Buffer[]) | null = null;
  apiVersions: Array<{ apiKey: number; minVersion: number; maxVersion: number }> = API_TABLE.map((e) => ({ apiKey: e.apiKey, minVersion: e.minVersion, maxVersion: e.maxVersion }));
  answer: Answer = () => null;
  private readonly server: net.Server;

  constructor() {
    this.server = net.createServer((socket) => {
      this.connections++;
      this.sockets.push(socket);
      let buffered = Buffer.alloc(0);
      let queue = Promise.resolve();
      socket.on('error', () => undefined);
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
          const frame = buffered.subarray(4, 4 + buffered.readInt32BE(0));
          buffered = buffered.subarray(4 + frame.length);
          // Read at once, answer in order, like Kafka.
          const answer = this.handle(socket, frame);
          queue = queue.then(async () => this.write(socket, await answer));
        }
      });
    });
  }

  private write(socket: net.Socket, out: Buffer | null): void {
    if (out === null || socket.destroyed) return;
    for (const piece of this.chunking?.(out) ?? [out]) socket.write(piece);
  }

  private async handle(socket: net.Socket, frame: Buffer): Promise<Buffer | null> {
    const r = new Reader(frame);
    const header = decodeRequestHeader(r);
    const codec = API_CODECS[header.apiKey as ApiKeyWithCodec];
    let body: unknown = null;
    if (header.apiKey === 18) {
      // ApiVersions: answered here (v0 body with error 35 for a version above 3).
      body = header.apiVersion > 3
        ? { errorCode: 35, apiKeys: this.apiVersions, throttleTimeMs: 0, supportedFeatures: [], finalizedFeaturesEpoch: -1n, finalizedFeatures: [], zkMigrationReady: false }
        : { errorCode: 0, apiKeys: this.apiVersions, throttleTimeMs: 0, supportedFeatures: [], finalizedFeaturesEpoch: -1n, finalizedFeatures: [], zkMigrationReady: false };
    } else {
      const req: Received = { ...header, socket, body: codec.request.decode(r, header.apiVersion) };
      this.received.push(req);
      body = await this.answer(req);
      if (body === null) return null;
    }
    return encodeResponseFrame(new Writer(), header.apiKey as ApiKeyWithCodec, header.apiKey === 18 && header.apiVersion > 3 ? 0 : header.apiVersion, header.correlationId, body as never);
  }

  port = 0;

  listen(): Promise<number> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => {
      this.port = (this.server.address() as net.AddressInfo).port;
      resolve(this.port);
    }));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

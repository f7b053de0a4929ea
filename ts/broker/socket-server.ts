// The listener: accepts connections up to `max.connections` and hands each to a Connection.
import net from 'node:net';
import type { Logger } from '../log.js';
import type { ApiRegistry } from './api-registry.js';
import type { BrokerConfig, HostPort } from './broker-config.js';
import { Connection } from './connection.js';

export class SocketServer {
  private readonly server: net.Server;
  private readonly connections = new Set<Connection>();
  private nextId = 1;

  constructor(private readonly config: BrokerConfig, private readonly registry: ApiRegistry, private readonly logger: Logger) {
    // Paused: a Connection moves the socket's handle into one that reads where it says (direct-reads.ts).
    this.server = net.createServer({ pauseOnConnect: true }, (socket) => this.accept(socket));
    this.server.maxConnections = config.maxConnections;
    this.server.on('drop', (data) => {
      this.logger.warn({ remote: `${data?.remoteAddress}:${data?.remotePort}`, max: config.maxConnections }, 'refused a connection: max.connections reached');
    });
  }

  listen(): Promise<HostPort> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen({ host: this.config.listen.host, port: this.config.listen.port }, () => {
        this.server.off('error', onError);
        const address = this.server.address() as net.AddressInfo;
        resolve({ host: address.address, port: address.port });
      });
    });
  }

  private accept(socket: net.Socket): void {
    const connection = new Connection(socket, {
      id: this.nextId++,
      registry: this.registry,
      logger: this.logger,
      maxFrameBytes: this.config.socketRequestMaxBytes,
      maxInFlight: this.config.queuedMaxRequestsPerConnection,
      idleTimeoutMs: this.config.connectionsMaxIdleMs,
      onClose: (c) => this.connections.delete(c),
    });
    this.connections.add(connection);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Stops accepting, lets in-flight requests answer for up to `graceMs`, then closes the rest. */
  async close(graceMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && [...this.connections].some((c) => c.inFlight > 0)) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    for (const connection of [...this.connections]) connection.close('broker shutting down', 'debug');
    await closed;
  }
}

// JetStream publishing the fast way for the Node client, as nats.go's PublishAsync does: plain
// publishes whose reply subject is one inbox this connection subscribes to, so every PubAck comes
// back as a message there and is counted. js.publish() instead makes a request per message (a
// promise, a timer and an inbox entry each) and was 8x slower here (7k against 56k msgs/s).
// JetStream answers in publish order on one connection; any non-PubAck reply is a failure.
import { createInbox, type NatsConnection } from '@nats-io/transport-node';

/** The first bytes of a PubAck: {"stream":… (an error reply starts {"error":…). */
const PUB_ACK_PREFIX = Buffer.from('{"stream"');

export class JetStreamPublisher {
  private readonly inbox = createInbox();
  private sent = 0;
  private acked = 0;
  private waiter: { below: number; resolve: () => void } | undefined;
  failure: Error | undefined;

  constructor(private readonly nc: NatsConnection, private readonly subject: string) {
    nc.subscribe(this.inbox, {
      callback: (err, m) => {
        if (err) this.fail(err);
        else if (m.data.length < PUB_ACK_PREFIX.length || Buffer.compare(PUB_ACK_PREFIX, m.data.subarray(0, PUB_ACK_PREFIX.length)) !== 0) {
          this.fail(new Error(`JetStream refused a publish: ${m.headers?.code ?? ''} ${m.headers?.description ?? ''} ${m.string()}`));
        }
        this.acked++;
        if (this.waiter !== undefined && this.inFlight <= this.waiter.below) {
          this.waiter.resolve();
          this.waiter = undefined;
        }
      },
    });
  }

  /** Publishes one message; its PubAck is counted when it arrives. */
  publish(payload: Uint8Array): void {
    this.sent++;
    this.nc.publish(this.subject, payload, { reply: this.inbox });
  }

  get inFlight(): number {
    return this.sent - this.acked;
  }

  /** Resolves once at most `below` publishes are unacknowledged (or on a failure). */
  async waitBelow(below: number): Promise<void> {
    if (this.failure !== undefined || this.inFlight <= below) return;
    await new Promise<void>((resolve) => (this.waiter = { below, resolve }));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.waiter?.resolve();
    this.waiter = undefined;
  }
}

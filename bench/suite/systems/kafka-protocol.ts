// What the suite needs of any Kafka-protocol server (Apache Kafka, Gödel): a readiness probe (one
// ApiVersions v0 request on a raw connection, answered without error) and topic creation through
// Gödel's admin client, which works against both.
import net from 'node:net';
import { Godel } from '../../../ts/client/index.js';

const API_VERSIONS = 18;
const PROBE_TIMEOUT_MS = 2_000;

/** Whether the server at host:port answers ApiVersions v0 with error code 0. */
export function apiVersionsOk(address: string): Promise<boolean> {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at);
  const port = Number(address.slice(at + 1));
  return new Promise((resolve) => {
    const clientId = Buffer.from('godel-bench');
    const request = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length);
    let o = request.writeInt32BE(request.length - 4, 0);
    o = request.writeInt16BE(API_VERSIONS, o);
    o = request.writeInt16BE(0, o);
    o = request.writeInt32BE(1, o);
    o = request.writeInt16BE(clientId.length, o);
    clientId.copy(request, o);
    let received = Buffer.alloc(0);
    const socket = net.connect({ host, port });
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), PROBE_TIMEOUT_MS);
    socket.on('error', () => finish(false));
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      // size(4) correlation id(4) error code(2)
      if (received.length >= 10) finish(received.readInt32BE(4) === 1 && received.readInt16BE(8) === 0);
    });
  });
}

/** Creates `name` with `partitions` partitions (replication factor 1) and waits for its leaders. */
export async function createKafkaTopic(address: string, name: string, partitions: number): Promise<void> {
  const admin = new Godel({ brokers: [address], clientId: 'godel-bench-admin' }).admin();
  try {
    await admin.createTopics({ topics: [{ topic: name, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/** Deletes `name`; errors are ignored (a leftover topic only costs disk). */
export async function deleteKafkaTopic(address: string, name: string): Promise<void> {
  const admin = new Godel({ brokers: [address], clientId: 'godel-bench-admin' }).admin();
  try {
    await admin.deleteTopics({ topics: [name] });
  } catch {
    // ignored
  } finally {
    await admin.disconnect();
  }
}

// A consumer-group member for the group integration tests, with KafkaJS or @platformatic/kafka
// behind one small interface: it reports every record it processes and its assignments, commits
// after processing, and leaves the group on stop(). Used in-process, or as a child process (run
// this file: `node --import tsx test/helpers/group-consumer.ts`, options as JSON in argv[2]) that
// reports over IPC, so a test can kill -9 it and let the broker's session timeout find out.
import { Consumer, stringDeserializers, type Message } from '@platformatic/kafka';
import { Kafka, logLevel, type Consumer as KafkaJsConsumer } from 'kafkajs';

export type ClientLibrary = 'kafkajs' | 'platformatic';

export interface GroupConsumerOptions {
  library: ClientLibrary;
  /** host:port to bootstrap from. */
  broker: string;
  groupId: string;
  topic: string;
  /** Names the member in reports (and is its client id). */
  name: string;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
}

export interface ConsumedRecord {
  consumer: string;
  partition: number;
  offset: number;
  value: string;
}

export interface GroupConsumerEvents {
  onRecord(record: ConsumedRecord): void | Promise<void>;
  onAssigned(consumer: string, partitions: number[]): void;
}

export interface RunningConsumer {
  readonly name: string;
  /** Leaves the group (LeaveGroup) and closes the client. */
  stop(): Promise<void>;
}

export async function startGroupConsumer(options: GroupConsumerOptions, events: GroupConsumerEvents): Promise<RunningConsumer> {
  return options.library === 'kafkajs' ? startKafkaJs(options, events) : startPlatformatic(options, events);
}

async function startKafkaJs(options: GroupConsumerOptions, events: GroupConsumerEvents): Promise<RunningConsumer> {
  const kafka = new Kafka({ clientId: options.name, brokers: [options.broker], logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } });
  const consumer: KafkaJsConsumer = kafka.consumer({
    groupId: options.groupId, sessionTimeout: options.sessionTimeoutMs, heartbeatInterval: options.heartbeatIntervalMs,
    rebalanceTimeout: options.rebalanceTimeoutMs, maxWaitTimeInMs: 200, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 },
  });
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    events.onAssigned(options.name, [...(e.payload.memberAssignment[options.topic] ?? [])].sort((a, b) => a - b));
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [options.topic], fromBeginning: true });
  await consumer.run({
    // Offsets are committed by KafkaJS after each batch, once every record of it was processed.
    eachMessage: async ({ partition, message }) => {
      await events.onRecord({ consumer: options.name, partition, offset: Number(message.offset), value: message.value?.toString() ?? '' });
    },
  });
  return { name: options.name, stop: () => consumer.disconnect() };
}

async function startPlatformatic(options: GroupConsumerOptions, events: GroupConsumerEvents): Promise<RunningConsumer> {
  const consumer = new Consumer({
    clientId: options.name, groupId: options.groupId, bootstrapBrokers: [options.broker], deserializers: stringDeserializers,
    sessionTimeout: options.sessionTimeoutMs, heartbeatInterval: options.heartbeatIntervalMs, rebalanceTimeout: options.rebalanceTimeoutMs,
    maxWaitTime: 200, retries: 20, retryDelay: 200,
  });
  consumer.on('consumer:group:join', (e: { assignments?: { topic: string; partitions: number[] }[] | null }) => {
    const mine = (e.assignments ?? []).filter((a) => a.topic === options.topic).flatMap((a) => a.partitions);
    events.onAssigned(options.name, [...mine].sort((a, b) => a - b));
  });
  const stream = await consumer.consume({ topics: [options.topic], mode: 'committed', fallbackMode: 'earliest', autocommit: false });
  // One record at a time, committed once processed (autocommit would commit on fetch).
  let chain = Promise.resolve();
  stream.on('data', (m: Message<string, string, string, string>) => {
    chain = chain.then(async () => {
      await events.onRecord({ consumer: options.name, partition: m.partition, offset: Number(m.offset), value: m.value });
      await m.commit();
    }).catch(() => undefined);
  });
  return {
    name: options.name,
    stop: async () => {
      await stream.close();
      await chain;
      await consumer.close(true);
    },
  };
}

/** Child-process mode: options in argv[2]; records and assignments go to the parent over IPC. */
async function runChild(): Promise<void> {
  const options = JSON.parse(process.argv[2]!) as GroupConsumerOptions;
  const send = (message: unknown): Promise<void> => new Promise((resolve) => {
    process.send!(message, () => resolve());
  });
  const running = await startGroupConsumer(options, {
    // Reported before the record counts as processed, so a kill loses no report of a commit.
    onRecord: (record) => send({ type: 'record', record }),
    onAssigned: (consumer, partitions) => void send({ type: 'assigned', consumer, partitions }),
  });
  process.on('message', (m: { type?: string }) => {
    if (m.type === 'stop') void running.stop().finally(() => process.exit(0));
  });
  process.on('disconnect', () => process.exit(0));
  await send({ type: 'started' });
}

if (process.argv[1] !== undefined && /group-consumer\.ts$/.test(process.argv[1]) && process.send !== undefined) {
  runChild().catch((err: unknown) => {
    process.stderr.write(`group consumer failed: ${String((err as Error)?.stack ?? err)}\n`);
    process.exit(1);
  });
}

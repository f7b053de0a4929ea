// Every system and load generator the suite knows, in the order they run and are reported.
// NATS JetStream and Redis Streams (systems/nats.ts, systems/redis.ts and their generators) are
// added here once they exist.
import { godelClientGenerator } from './generators/godel-client.js';
import { kafkaPerfGenerator } from './generators/kafka-perf.js';
import { kcatGenerator } from './generators/kcat.js';
import { godelNativeSystem, godelTsSystem } from './systems/godel.js';
import { kafkaSystem } from './systems/kafka.js';
import type { LoadGenerator, SystemDefinition } from './types.js';

export const SYSTEMS: readonly SystemDefinition[] = [godelNativeSystem, godelTsSystem, kafkaSystem];

/** The first generator that can produce to a system also fills topics for consume workloads. */
export const GENERATORS: readonly LoadGenerator[] = [kafkaPerfGenerator, godelClientGenerator, kcatGenerator];

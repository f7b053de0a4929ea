// Every system and load generator the suite knows, in the order they run and are reported.
import { godelClientGenerator } from './generators/godel-client.js';
import { kafkaPerfGenerator } from './generators/kafka-perf.js';
import { kcatGenerator } from './generators/kcat.js';
import { natsBenchGenerator, natsJsGenerator } from './generators/nats.js';
import { ioredisGenerator, redisBenchmarkGenerator } from './generators/redis.js';
import { godelNativeSystem, godelTsSystem } from './systems/godel.js';
import { kafkaSystem } from './systems/kafka.js';
import { natsSystem } from './systems/nats.js';
import { redisSystem } from './systems/redis.js';
import type { LoadGenerator, SystemDefinition } from './types.js';

export const SYSTEMS: readonly SystemDefinition[] = [godelNativeSystem, godelTsSystem, kafkaSystem, natsSystem, redisSystem];

/**
 * For a consume workload, the first generator here that supports the matching produce workload on
 * a system fills the topic once (runner.ts); every generator then reads it.
 */
export const GENERATORS: readonly LoadGenerator[] = [
  kafkaPerfGenerator, godelClientGenerator, kcatGenerator,
  natsBenchGenerator, natsJsGenerator, redisBenchmarkGenerator, ioredisGenerator,
];

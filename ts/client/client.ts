// The entry point, shaped like KafkaJS: `new Godel({ brokers })`, then `.producer()`,
// `.consumer({ groupId })` and `.admin()`, each with its own connections (connect/disconnect).
import type { Logger } from 'pino';
import { Admin } from './admin.js';
import type { ClusterOptions } from './cluster.js';
import { Consumer, type ConsumerOptions } from './consumer.js';
import { Producer, type ProducerOptions } from './producer.js';
import type { RetryOptions } from './retry.js';

export interface GodelOptions {
  /** Bootstrap brokers, `host:port`. */
  brokers: readonly string[];
  clientId?: string;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  retry?: RetryOptions;
  /** Kafka's metadata.max.age.ms (default 5 min). */
  metadataMaxAgeMs?: number;
  /** A pino logger; silent by default. */
  logger?: Logger;
}

export class Godel {
  private readonly options: GodelOptions;

  constructor(options: GodelOptions) {
    this.options = options;
  }

  private clusterOptions(retry?: RetryOptions): ClusterOptions {
    const o = this.options;
    return {
      brokers: o.brokers,
      clientId: o.clientId,
      connectTimeoutMs: o.connectionTimeoutMs,
      requestTimeoutMs: o.requestTimeoutMs,
      retry: { ...o.retry, ...retry },
      metadataMaxAgeMs: o.metadataMaxAgeMs,
      logger: o.logger,
    };
  }

  producer(options: ProducerOptions = {}): Producer {
    return new Producer(this.clusterOptions(options.retry), options);
  }

  consumer(options: ConsumerOptions = {}): Consumer {
    return new Consumer(this.clusterOptions(options.retry), options);
  }

  admin(options: { retry?: RetryOptions } = {}): Admin {
    return new Admin(this.clusterOptions(options.retry));
  }
}

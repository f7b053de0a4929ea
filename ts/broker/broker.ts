// A single Gödel broker: storage, the control plane, the handlers and the listener, started and
// stopped in order. `godel serve` runs one; tests start one per process.
import { systemClock, type Clock } from '../clock.js';
import type { BrokerInfo } from '../cluster/control-plane.js';
import { LocalControlPlane } from '../cluster/local-control-plane.js';
import { engineChoice } from '../engine/loader.js';
import type { LogEngine } from '../engine/types.js';
import { createBrokerGroupCoordinator } from '../group/broker-group-coordinator.js';
import { createLogger, type Logger } from '../log.js';
import { LogManager } from '../storage/log-manager.js';
import { GODEL_VERSION } from '../version.js';
import { ApiRegistry } from './api-registry.js';
import type { BrokerConfig, HostPort } from './broker-config.js';
import { FetchPurgatory } from './fetch-purgatory.js';
import { registerHandlers } from './handlers/index.js';
import type { BrokerServices } from './services.js';
import { SocketServer } from './socket-server.js';
import { TopicManager } from './topic-manager.js';

export interface BrokerOptions {
  config: BrokerConfig;
  engine?: LogEngine;
  clock?: Clock;
  logger?: Logger;
}

/** In-flight requests get this long to answer at shutdown before connections are closed. */
const SHUTDOWN_GRACE_MS = 5_000;

export class Broker {
  private stopping: Promise<void> | null = null;

  private constructor(
    readonly services: BrokerServices,
    private readonly server: SocketServer,
    readonly boundAddress: HostPort,
  ) {}

  static async start(options: BrokerOptions): Promise<Broker> {
    const config = options.config;
    const logger = options.logger ?? createLogger();
    const clock = options.clock ?? systemClock;
    const choice = options.engine === undefined ? engineChoice() : { engine: options.engine };
    const engine = choice.engine;
    if ('fallbackReason' in choice && choice.fallbackReason !== undefined) {
      logger.warn({ engine: engine.name, reason: choice.fallbackReason }, 'using the pure-TypeScript storage engine');
    }
    const logManager = await LogManager.open({ dataDir: config.dataDir, engine, clock, logger, brokerConfig: config.raw });
    const self: BrokerInfo = { nodeId: config.nodeId, host: config.advertised.host, port: config.advertised.port, rack: config.rack };
    let controlPlane: LocalControlPlane;
    try {
      controlPlane = await LocalControlPlane.open(config.dataDir, self);
    } catch (err) {
      await logManager.shutdown();
      throw err;
    }
    const brokerConfigValues = (): Record<string, string> => ({ ...config.raw, ...controlPlane.brokerConfigs() });
    const topics = new TopicManager(controlPlane, logManager, {
      numPartitions: config.numPartitions,
      defaultReplicationFactor: config.defaultReplicationFactor,
      brokerLogConfig: brokerConfigValues,
    }, logger);
    const registry = new ApiRegistry();
    const groupCoordinator = createBrokerGroupCoordinator({ config, engine, topics, controlPlane, clock, logger });
    const services: BrokerServices = {
      config, logger, clock, controlPlane, logManager, topics, registry, groupCoordinator,
      fetchPurgatory: new FetchPurgatory(), brokerConfigValues,
    };
    try {
      await topics.reconcile();
      await groupCoordinator.start();
      registerHandlers(registry, services);
      const server = new SocketServer(config, registry, logger);
      const bound = await server.listen();
      // An ephemeral port (0) is advertised as the port actually bound.
      if (config.advertised.port === 0) self.port = bound.port;
      logManager.startBackgroundTasks();
      logger.info({
        version: GODEL_VERSION, engine: engine.name, listen: `${bound.host}:${bound.port}`,
        advertised: `${self.host}:${self.port}`, dataDir: config.dataDir, nodeId: config.nodeId,
        topics: controlPlane.listTopics().length,
      }, 'broker started');
      return new Broker(services, server, bound);
    } catch (err) {
      groupCoordinator.shutdown();
      await controlPlane.close();
      await logManager.shutdown();
      throw err;
    }
  }

  /** Clean shutdown: stop accepting, answer what is in flight, flush logs, write the marker. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const { logger, fetchPurgatory, logManager, controlPlane, groupCoordinator } = this.services;
      logger.info('broker stopping');
      fetchPurgatory.wakeAll();
      groupCoordinator.shutdown();
      await this.server.close(SHUTDOWN_GRACE_MS);
      await logManager.shutdown();
      await controlPlane.close();
      logger.info('broker stopped');
    })();
    return this.stopping;
  }
}

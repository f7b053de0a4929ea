// Every API the broker serves, registered once at start.
import type { ApiRegistry } from '../api-registry.js';
import type { BrokerServices } from '../services.js';
import { apiVersionsHandler } from './api-versions.js';
import { fetchHandler } from './fetch.js';
import { initProducerIdHandler } from './init-producer-id.js';
import { listOffsetsHandler } from './list-offsets.js';
import { metadataHandler } from './metadata.js';
import { produceHandler } from './produce.js';

export function registerHandlers(registry: ApiRegistry, services: BrokerServices): void {
  for (const make of [apiVersionsHandler, metadataHandler, produceHandler, fetchHandler, listOffsetsHandler, initProducerIdHandler]) {
    registry.register(make(services));
  }
}

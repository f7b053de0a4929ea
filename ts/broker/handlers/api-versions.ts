// ApiVersions (18): the versions we serve, straight from the handler registry.
import type { ApiHandler } from '../api-registry.js';
import type { BrokerServices } from '../services.js';

export function apiVersionsHandler(services: BrokerServices): ApiHandler<18> {
  return {
    apiKey: 18,
    minVersion: 0,
    maxVersion: 3,
    handle: () => ({
      errorCode: 0,
      apiKeys: services.registry.versions(),
      throttleTimeMs: 0,
      supportedFeatures: [],
      finalizedFeaturesEpoch: -1n,
      finalizedFeatures: [],
      zkMigrationReady: false,
    }),
  };
}

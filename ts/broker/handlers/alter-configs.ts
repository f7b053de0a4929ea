// AlterConfigs (33): replaces the whole set of dynamic configs of each topic or broker resource
// (keys left out return to their defaults). Each resource is validated as a whole before anything
// is applied; validate_only applies nothing. A resource named twice is refused.
import { ErrorCode } from '../../protocol/error-codes.js';
import type { AlterConfigsResponseAlterConfigsResourceResponse } from '../../protocol/generated/alter-configs-response.js';
import type { ApiHandler } from '../api-registry.js';
import { configResourcesFor } from '../config-resources.js';
import type { BrokerServices } from '../services.js';

export function alterConfigsHandler(services: BrokerServices): ApiHandler<33> {
  const resources = configResourcesFor(services);
  return {
    apiKey: 33,
    minVersion: 0,
    maxVersion: 2,
    async handle(request) {
      const responses: AlterConfigsResponseAlterConfigsResourceResponse[] = [];
      const keys = request.resources.map((r) => `${r.resourceType}:${r.resourceName}`);
      for (const [i, r] of request.resources.entries()) {
        const answer = (errorCode: number, errorMessage: string | null): void => {
          responses.push({ errorCode, errorMessage, resourceType: r.resourceType, resourceName: r.resourceName });
        };
        if (keys.indexOf(keys[i]!) !== keys.lastIndexOf(keys[i]!)) {
          answer(ErrorCode.INVALID_REQUEST, 'Duplicate resource in request');
          continue;
        }
        const error = await resources.alter(r.resourceType, r.resourceName, {
          kind: 'replace', configs: r.configs.map((c) => ({ name: c.name, value: c.value })),
        }, request.validateOnly);
        answer(error?.errorCode ?? 0, error?.errorMessage ?? null);
      }
      return { throttleTimeMs: 0, responses };
    },
  };
}

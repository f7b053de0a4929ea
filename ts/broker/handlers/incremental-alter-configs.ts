// IncrementalAlterConfigs (44): SET, DELETE, APPEND and SUBTRACT (LIST keys) on the dynamic
// configs of each topic or broker resource. Each resource is validated as a whole before anything
// is applied; validate_only applies nothing. A resource named twice is refused.
import { ErrorCode } from '../../protocol/error-codes.js';
import type { IncrementalAlterConfigsResponseAlterConfigsResourceResponse } from '../../protocol/generated/incremental-alter-configs-response.js';
import type { ApiHandler } from '../api-registry.js';
import { configResourcesFor } from '../config-resources.js';
import type { BrokerServices } from '../services.js';

export function incrementalAlterConfigsHandler(services: BrokerServices): ApiHandler<44> {
  const resources = configResourcesFor(services);
  return {
    apiKey: 44,
    minVersion: 0,
    maxVersion: 1,
    async handle(request) {
      const responses: IncrementalAlterConfigsResponseAlterConfigsResourceResponse[] = [];
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
          kind: 'incremental', ops: r.configs.map((c) => ({ name: c.name, op: c.configOperation, value: c.value })),
        }, request.validateOnly);
        answer(error?.errorCode ?? 0, error?.errorMessage ?? null);
      }
      return { throttleTimeMs: 0, responses };
    },
  };
}

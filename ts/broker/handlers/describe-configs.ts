// DescribeConfigs (32): every config of a topic or of this broker with its current value and
// source, read-only and sensitive flags, synonyms (include_synonyms, v1+), type and documentation
// (v3+). v0 has no source, only is_default. The logic lives in ../config-resources.ts.
import type {
  DescribeConfigsResponseDescribeConfigsResourceResult,
  DescribeConfigsResponseDescribeConfigsResult,
} from '../../protocol/generated/describe-configs-response.js';
import type { ApiHandler } from '../api-registry.js';
import { ConfigSource, configResourcesFor, type ConfigEntry } from '../config-resources.js';
import type { BrokerServices } from '../services.js';

type Entry = DescribeConfigsResponseDescribeConfigsResourceResult;

export function describeConfigsHandler(services: BrokerServices): ApiHandler<32> {
  const resources = configResourcesFor(services);
  return {
    apiKey: 32,
    minVersion: 0,
    maxVersion: 4,
    handle(request, ctx) {
      const version = ctx.apiVersion;
      const synonyms = version >= 1 && request.includeSynonyms;
      const documentation = version >= 3 && request.includeDocumentation;
      const toEntry = (e: ConfigEntry): Entry => ({
        name: e.name,
        value: e.value,
        readOnly: e.readOnly,
        // v0 says "default or not"; v1+ says where the value comes from.
        isDefault: version === 0 ? e.source === ConfigSource.DEFAULT_CONFIG : false,
        configSource: version === 0 ? -1 : e.source,
        isSensitive: e.isSensitive,
        synonyms: synonyms ? e.synonyms.map((s) => ({ name: s.name, value: s.value, source: s.source })) : [],
        configType: version >= 3 ? e.configType : 0,
        documentation: documentation ? e.documentation : null,
      });
      const results: DescribeConfigsResponseDescribeConfigsResult[] = request.resources.map((r) => {
        const described = resources.describe(r.resourceType, r.resourceName, r.configurationKeys);
        if ('error' in described) {
          return { errorCode: described.error.errorCode, errorMessage: described.error.errorMessage, resourceType: r.resourceType, resourceName: r.resourceName, configs: [] };
        }
        return { errorCode: 0, errorMessage: null, resourceType: r.resourceType, resourceName: r.resourceName, configs: described.entries.map(toEntry) };
      });
      return { throttleTimeMs: 0, results };
    },
  };
}

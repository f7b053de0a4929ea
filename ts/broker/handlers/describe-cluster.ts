// DescribeCluster (60): the brokers, the cluster id and the controller. Endpoint type (v1):
// this node serves brokers (1); it has no separate controller endpoints (2).
import { ErrorCode } from '../../protocol/error-codes.js';
import type { ApiHandler } from '../api-registry.js';
import type { BrokerServices } from '../services.js';

const ENDPOINT_BROKERS = 1;
/** Kafka's "authorized operations not requested" sentinel. */
const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;
/** Without an authorizer every cluster operation is allowed (Kafka's AclOperation codes). */
const CLUSTER_OPERATIONS = [4 /* ALTER */, 7 /* CREATE */, 8 /* DESCRIBE */, 9 /* CLUSTER_ACTION */, 10 /* DESCRIBE_CONFIGS */, 11 /* ALTER_CONFIGS */, 12 /* IDEMPOTENT_WRITE */, 13 /* CREATE_TOKENS */, 14 /* DESCRIBE_TOKENS */];
const ALL_CLUSTER_OPERATIONS = CLUSTER_OPERATIONS.reduce((bits, op) => bits | (1 << op), 0);

export function describeClusterHandler(services: BrokerServices): ApiHandler<60> {
  const { controlPlane } = services;
  return {
    apiKey: 60,
    minVersion: 0,
    maxVersion: 1,
    handle(request, ctx) {
      const endpointType = ctx.apiVersion >= 1 ? request.endpointType : ENDPOINT_BROKERS;
      const clusterAuthorizedOperations = request.includeClusterAuthorizedOperations ? ALL_CLUSTER_OPERATIONS : AUTHORIZED_OPERATIONS_OMITTED;
      if (endpointType !== ENDPOINT_BROKERS) {
        return {
          throttleTimeMs: 0, errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
          errorMessage: `The request was sent to an endpoint of type BROKER, but endpoint type ${endpointType} was wanted`,
          endpointType, clusterId: controlPlane.clusterId(), controllerId: -1, brokers: [], clusterAuthorizedOperations,
        };
      }
      return {
        throttleTimeMs: 0, errorCode: 0, errorMessage: null, endpointType,
        clusterId: controlPlane.clusterId(),
        controllerId: controlPlane.controllerId(),
        brokers: controlPlane.brokers().map((b) => ({ brokerId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
        clusterAuthorizedOperations,
      };
    },
  };
}

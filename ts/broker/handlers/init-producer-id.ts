// InitProducerId (22): a producer id and epoch for an idempotent producer. Ids come in blocks
// reserved (and persisted) through the control plane, so they are never reused, even after a
// restart. Transactions are not supported: a transactional id is refused.
import { ErrorCode } from '../../protocol/error-codes.js';
import type { ApiHandler } from '../api-registry.js';
import type { BrokerServices } from '../services.js';

/** Producer ids reserved per trip to the control plane. */
const PRODUCER_ID_BLOCK = 1000;

export function initProducerIdHandler(services: BrokerServices): ApiHandler<22> {
  const { controlPlane, logger } = services;
  let next = 0n;
  let end = 0n;
  let refill: Promise<void> | null = null;

  async function allocate(): Promise<bigint> {
    while (next >= end) {
      refill ??= controlPlane.allocateProducerIds(PRODUCER_ID_BLOCK).then((first) => {
        next = first;
        end = first + BigInt(PRODUCER_ID_BLOCK);
      }).finally(() => {
        refill = null;
      });
      await refill;
    }
    return next++;
  }

  return {
    apiKey: 22,
    minVersion: 0,
    maxVersion: 5,
    async handle(request) {
      if (request.transactionalId !== null) {
        return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1n, producerEpoch: -1 };
      }
      try {
        return { throttleTimeMs: 0, errorCode: 0, producerId: await allocate(), producerEpoch: 0 };
      } catch (err) {
        logger.error({ err: String(err) }, 'could not allocate producer ids');
        return { throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, producerId: -1n, producerEpoch: -1 };
      }
    },
  };
}

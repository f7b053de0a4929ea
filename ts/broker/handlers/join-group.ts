// JoinGroup (11): a member joins (or rejoins) a classic group; the response is held until the
// rebalance's join phase completes. v4+ members without a group instance id first get
// MEMBER_ID_REQUIRED with their id; v5+ carry group.instance.id (static membership); v7+ answer
// the protocol type and a nullable protocol name; v9 may tell a static leader to skip assigning.
import type { ApiHandler } from '../api-registry.js';
import type { BrokerServices } from '../services.js';

/** Kafka reports a client's address as InetAddress.toString does: "/127.0.0.1". */
export function clientHostOf(remoteAddress: string): string {
  const at = remoteAddress.lastIndexOf(':');
  let host = at > 0 ? remoteAddress.slice(0, at) : remoteAddress;
  if (host.startsWith('::ffff:') && host.includes('.')) host = host.slice('::ffff:'.length);
  return `/${host}`;
}

export function joinGroupHandler(services: BrokerServices): ApiHandler<11> {
  const { groupCoordinator } = services;
  return {
    apiKey: 11,
    minVersion: 0,
    maxVersion: 9,
    async handle(request, ctx) {
      const v = ctx.apiVersion;
      const groupInstanceId = v >= 5 ? request.groupInstanceId : null;
      const result = await groupCoordinator.joinGroup({
        groupId: request.groupId,
        memberId: request.memberId,
        groupInstanceId,
        clientId: ctx.clientId ?? '',
        clientHost: clientHostOf(ctx.remoteAddress),
        sessionTimeoutMs: request.sessionTimeoutMs,
        // v0 has no rebalance timeout: the session timeout serves as both.
        rebalanceTimeoutMs: v === 0 ? request.sessionTimeoutMs : request.rebalanceTimeoutMs,
        protocolType: request.protocolType,
        // Copies: the request's bytes are views into the frame, and members keep them.
        protocols: request.protocols.map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) })),
        requireKnownMemberId: v >= 4 && groupInstanceId === null,
        supportSkippingAssignment: v >= 9,
        reason: v >= 8 ? request.reason : null,
      });
      // Before v7 the protocol name is not nullable (an empty string stands for none); from v7
      // an empty name is sent as null.
      const protocolName = v < 7 ? (result.protocolName ?? '') : (result.protocolName === '' ? null : result.protocolName);
      return {
        throttleTimeMs: 0,
        errorCode: result.errorCode,
        generationId: result.generationId,
        protocolType: result.protocolType,
        protocolName,
        leader: result.leader,
        skipAssignment: v >= 9 ? result.skipAssignment : false,
        memberId: result.memberId,
        members: result.members.map((m) => ({ memberId: m.memberId, groupInstanceId: v >= 5 ? m.groupInstanceId : null, metadata: m.metadata })),
      };
    },
  };
}

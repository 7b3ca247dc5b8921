/**
 * Consumer groups (api.md "Consumer groups"): KIP-848 heartbeats, offset commit
 * and fetch, and the REST Proxy v3 group reads and admin. Thin: validate, call
 * GroupService, shape the response. With API keys on, offsets and lags show
 * only topics the caller may describe (src/auth/authorize.ts, topicsVisibleTo).
 */
import { z } from 'zod';
import { ErrorCode, StrandError, invalidValue } from '../errors';
import { assignorNames } from '../groups/assignors';
import { groupStateName, assignmentOf, subscribedTopicsMax, noticeConnectionIdCharsMax, type GroupState, type MemberState } from '../groups/coordinator';
import { groupsOf, resetTopicsMax, type ResetTarget } from '../groups/GroupService';
import { commitPartitionsMax } from '../groups/GroupStore';
import { groupByTopic, parseTpKey, tpKey } from '../groups/topicPartition';
import { topicsVisibleTo } from '../auth/authorize';
import type { Operation } from './operations';
import { assertCluster, parseJsonBody, partitionParam, pathParam } from './request';

const C = '/v3/clusters/{cluster_id}';
const G = `${C}/consumer-groups/{consumer_group_id}`;

/** Kafka puts no limit on group ids; ours keeps keys and messages bounded. */
const groupIdCharsMax = 255;
const memberIdCharsMax = 255;
const topicNameSchema = z.string().min(1).max(249);
const partitionId = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const topicPartitionsSchema = z.array(z.object({ topic_name: topicNameSchema, partition_ids: z.array(partitionId).max(10_000) })).max(1_000);

export const heartbeatBody = z.object({
  member_id: z.string().min(1).max(memberIdCharsMax).nullable().optional(),
  member_epoch: z.number().int().min(-1),
  subscribed_topic_names: z.array(topicNameSchema).max(subscribedTopicsMax).nullable().optional(),
  session_timeout_ms: z.number().int().nullable().optional(),
  assignor: z.enum(assignorNames).nullable().optional(),
  owned_partitions: topicPartitionsSchema.nullable().optional(),
  client_id: z.string().max(255).nullable().optional(),
  notice_connection_id: z.string().max(noticeConnectionIdCharsMax).nullable().optional(),
});

export const commitBody = z.object({
  member_id: z.string().min(1).max(memberIdCharsMax).nullable().optional(),
  member_epoch: z.number().int().nullable().optional(),
  offsets: z
    .array(
      z.object({
        topic_name: topicNameSchema,
        partition_id: partitionId,
        offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
        metadata: z.string().nullable().optional(),
      }),
    )
    .max(commitPartitionsMax),
});

export const resetBody = z.object({
  to: z.union([
    z.enum(['earliest', 'latest']),
    z.object({ timestamp: z.number().int().min(0) }),
    z.object({ offset: z.number().int().min(0) }),
  ]),
  topic_names: z.array(topicNameSchema).min(1).max(resetTopicsMax).nullable().optional(),
});

function groupParam(req: Parameters<Operation>[0]): string {
  const id = pathParam(req, 'consumer_group_id');
  if (id.length === 0 || id.length > groupIdCharsMax || /[\u0000-\u001f]/.test(id)) {
    throw invalidValue(`Consumer group id must be 1 to ${groupIdCharsMax} printable characters.`);
  }
  return id;
}

const v3 = (clusterId: string) => `/v3/clusters/${clusterId}`;

/** The group's lags on the topics the caller may describe (all of them with API keys off). */
async function visibleLags(req: Parameters<Operation>[0], runtime: Parameters<Operation>[1], groupId: string) {
  const visible = topicsVisibleTo(req, runtime);
  return (await groupsOf(runtime).lags(groupId)).filter((l) => visible(l.topic));
}

function groupResource(clusterId: string, g: GroupState, now: number) {
  const self = `${v3(clusterId)}/consumer-groups/${encodeURIComponent(g.groupId)}`;
  return {
    kind: 'KafkaConsumerGroup',
    metadata: { self, resource_name: `crn:///kafka=${clusterId}/consumer-group=${g.groupId}` },
    cluster_id: clusterId,
    consumer_group_id: g.groupId,
    is_simple: Object.keys(g.members).length === 0 && g.groupEpoch === 0,
    partition_assignor: g.assignor,
    state: groupStateName(g, now),
    type: 'CONSUMER',
    group_epoch: g.groupEpoch,
    assignment_epoch: g.assignmentEpoch,
    members_count: Object.keys(g.members).length,
    // Strand's API is the one broker (src/api/resources.ts), so it coordinates every group.
    coordinator: { related: `${v3(clusterId)}/brokers/0` },
    consumers: { related: `${self}/consumers` },
    lag_summary: { related: `${self}/lag-summary` },
  };
}

type PartitionLag = Awaited<ReturnType<typeof visibleLags>>[number];

function lagResource(clusterId: string, groupId: string, l: PartitionLag) {
  return {
    kind: 'KafkaConsumerLag',
    metadata: { self: `${v3(clusterId)}/consumer-groups/${encodeURIComponent(groupId)}/lags/${encodeURIComponent(l.topic)}/partitions/${l.partition}` },
    cluster_id: clusterId,
    consumer_group_id: groupId,
    topic_name: l.topic,
    partition_id: l.partition,
    current_offset: l.currentOffset,
    log_end_offset: l.logEndOffset,
    lag: l.lag,
    consumer_id: l.memberId ?? '',
    instance_id: null,
    client_id: l.clientId ?? '',
  };
}

/** The live member a path names, or 40404 / 40924 (Kafka's UNKNOWN_MEMBER_ID) as for a heartbeat. */
async function memberOf(req: Parameters<Operation>[0], runtime: Parameters<Operation>[1], groupId: string): Promise<MemberState> {
  const consumerId = pathParam(req, 'consumer_id');
  const { state } = await groupsOf(runtime).describe(groupId);
  const member = state.members[consumerId];
  if (!member) throw new StrandError(ErrorCode.UnknownMember, `Consumer '${consumerId}' is not a member of group '${groupId}'.`);
  return member;
}

function consumerResource(clusterId: string, groupId: string, m: MemberState) {
  const self = `${v3(clusterId)}/consumer-groups/${encodeURIComponent(groupId)}/consumers/${encodeURIComponent(m.memberId)}`;
  return {
    kind: 'KafkaConsumer',
    metadata: { self, resource_name: `crn:///kafka=${clusterId}/consumer-group=${groupId}/consumer=${m.memberId}` },
    cluster_id: clusterId,
    consumer_group_id: groupId,
    consumer_id: m.memberId,
    instance_id: null,
    client_id: m.clientId ?? '',
    member_epoch: m.memberEpoch,
    subscribed_topic_names: m.subscribedTopics,
    assignment: groupByTopic(assignmentOf(m)),
    pending_revocation: groupByTopic(m.revoking),
    session_expires_at: new Date(m.expiresAt).toISOString(),
    assignments: {
      related: `${self}/assignments`,
    },
  };
}

export const groupOperations: Record<string, Operation> = {
  [`POST ${G}/heartbeat`]: async (req, runtime) => {
    assertCluster(req, runtime);
    const groupId = groupParam(req);
    const body = parseJsonBody(req, heartbeatBody);
    const response = await groupsOf(runtime).heartbeat(groupId, {
      memberId: body.member_id ?? undefined,
      memberEpoch: body.member_epoch,
      subscribedTopicNames: body.subscribed_topic_names ?? undefined,
      sessionTimeoutMs: body.session_timeout_ms ?? undefined,
      assignor: body.assignor ?? undefined,
      ownedPartitions: body.owned_partitions ?? undefined,
      clientId: body.client_id ?? undefined,
      noticeConnectionId: body.notice_connection_id ?? undefined,
    });
    return { status: 200, json: response };
  },

  [`POST ${G}/offsets:commit`]: async (req, runtime) => {
    assertCluster(req, runtime);
    const groupId = groupParam(req);
    const body = parseJsonBody(req, commitBody);
    const memberId = body.member_id ?? undefined;
    if (memberId !== undefined && (body.member_epoch === undefined || body.member_epoch === null)) {
      throw invalidValue(`'member_epoch' is required with 'member_id'.`);
    }
    const seen = new Set<string>();
    for (const o of body.offsets) {
      const key = tpKey(o.topic_name, o.partition_id);
      if (seen.has(key)) throw invalidValue(`Partition ${o.partition_id} of topic '${o.topic_name}' appears twice in the commit.`);
      seen.add(key);
    }
    await groupsOf(runtime).commit(
      groupId,
      memberId === undefined ? {} : { memberId, memberEpoch: body.member_epoch! },
      body.offsets.map((o) => ({ topic: o.topic_name, partition: o.partition_id, offset: o.offset, metadata: o.metadata ?? '' })),
    );
    return {
      status: 200,
      json: {
        cluster_id: runtime.config.clusterId,
        consumer_group_id: groupId,
        offsets: body.offsets.map((o) => ({ topic_name: o.topic_name, partition_id: o.partition_id, offset: o.offset, error_code: 0 })),
      },
    };
  },

  [`GET ${G}/offsets`]: async (req, runtime) => {
    assertCluster(req, runtime);
    const groupId = groupParam(req);
    // Only topics the caller may describe, as Kafka's OffsetFetch answers under ACLs.
    const visible = topicsVisibleTo(req, runtime);
    const offsets = (await groupsOf(runtime).offsets(groupId)).filter((o) => visible(o.topic));
    return {
      status: 200,
      json: {
        cluster_id: runtime.config.clusterId,
        consumer_group_id: groupId,
        offsets: offsets.map((o) => ({ topic_name: o.topic, partition_id: o.partition, offset: o.offset, metadata: o.metadata ?? '' })),
      },
    };
  },

  [`POST ${G}/offsets:reset`]: async (req, runtime) => {
    assertCluster(req, runtime);
    const groupId = groupParam(req);
    const body = parseJsonBody(req, resetBody);
    const offsets = await groupsOf(runtime).resetOffsets(groupId, body.to as ResetTarget, body.topic_names ?? undefined);
    return {
      status: 200,
      json: {
        cluster_id: runtime.config.clusterId,
        consumer_group_id: groupId,
        offsets: offsets.map((o) => ({ topic_name: o.topic, partition_id: o.partition, offset: o.offset, metadata: o.metadata ?? '' })),
      },
    };
  },

  [`GET ${C}/consumer-groups`]: async (req, runtime) => {
    const clusterId = assertCluster(req, runtime);
    const groups = await groupsOf(runtime).list();
    const now = runtime.clock.now();
    return {
      status: 200,
      json: {
        kind: 'KafkaConsumerGroupList',
        metadata: { self: `${v3(clusterId)}/consumer-groups`, next: null },
        data: groups.map((g) => groupResource(clusterId, g, now)),
      },
    };
  },

  [`GET ${G}`]: async (req, runtime) => {
    const clusterId = assertCluster(req, runtime);
    const { state } = await groupsOf(runtime).describe(groupParam(req));
    return { status: 200, json: groupResource(clusterId, state, runtime.clock.now()) };
  },

  [`DELETE ${G}`]: async (req, runtime) => {
    assertCluster(req, runtime);
    await groupsOf(runtime).delete(groupParam(req));
    return { status: 204 };
  },

  [`GET ${G}/consumers`]: async (req, runtime) => {
    const clusterId = assertCluster(req, runtime);
    const groupId = groupParam(req);
    const { state } = await groupsOf(runtime).describe(groupId);
    return {
      status: 200,
      json: {
        kind: 'KafkaConsumerList',
        metadata: { self: `${v3(clusterId)}/consumer-groups/${encodeURIComponent(groupId)}/consumers`, next: null },
        data: Object.values(state.members)
          .sort((a, b) => (a.memberId < b.memberId ? -1 : 1))
          .map((m) => consumerResource(clusterId, groupId, m)),
      },
    };
  },

  [`GET ${G}/consumers/{consumer_id}`]: async (req, runtime) => {
    const clusterId = assertCluster(req, runtime);
    const groupId = groupParam(req);
    const member = await memberOf(req, runtime, groupId);
    return { status: 200, json: consumerResource(clusterId, groupId, member) };
  },

  /** Confluent's KafkaConsumerAssignmentList: the partitions the member may consume now (revocations pending left out). */
  [`GET ${G}/consumers/{consumer_id}/assignments`]: async (req, runtime) => {
    const clusterId = assertCluster(req, runtime);
    const groupId = groupParam(req);
    const member = await memberOf(req, runtime, groupId);
    const self = `${v3(clusterId)}/consumer-groups/${encodeURIComponent(groupId)}/consumers/${encodeURIComponent(member.memberId)}/assignments`;
    const visible = topicsVisibleTo(req, runtime);
    return {
      status: 200,
      json: {
        kind: 'KafkaConsumerAssignmentList',
        metadata: { self, next: null },
        data: assignmentOf(member)
          .map(parseTpKey)
          .filter((tp) => visible(tp.topic))
          .map((tp) => ({
            kind: 'KafkaConsumerAssignment',
            metadata: { self: `${self}/${encodeURIComponent(tp.topic)}/partitions/${tp.partition}` },
            cluster_id: clusterId,
            consumer_group_id: groupId,
            consumer_id: member.memberId,
            topic_name: tp.topic,
            partition_id: tp.partition,
            partition: { related: `${v3(clusterId)}/topics/${encodeURIComponent(tp.topic)}/partitions/${tp.partition}` },
            lag: { related: `${v3(clusterId)}/consumer-groups/${encodeURIComponent(groupId)}/lags/${encodeURIComponent(tp.topic)}/partitions/${tp.partition}` },
          })),
      },
    };
  },

  [`GET ${G}/lags/{topic_name}/partitions/{partition_id}`]: async (req, runtime) => {
    const clusterId = assertCluster(req, runtime);
    const groupId = groupParam(req);
    const topic = pathParam(req, 'topic_name');
    const partition = partitionParam(req);
    const lag = (await visibleLags(req, runtime, groupId)).find((l) => l.topic === topic && l.partition === partition);
    if (!lag) throw new StrandError(ErrorCode.UnknownPartition, `Group '${groupId}' has no offset or assignment for partition ${partition} of topic '${topic}'.`);
    return { status: 200, json: lagResource(clusterId, groupId, lag) };
  },

  [`GET ${G}/lags`]: async (req, runtime) => {
    const clusterId = assertCluster(req, runtime);
    const groupId = groupParam(req);
    const lags = await visibleLags(req, runtime, groupId);
    return {
      status: 200,
      json: {
        kind: 'KafkaConsumerLagList',
        metadata: { self: `${v3(clusterId)}/consumer-groups/${encodeURIComponent(groupId)}/lags`, next: null },
        data: lags.map((l) => lagResource(clusterId, groupId, l)),
      },
    };
  },

  [`GET ${G}/lag-summary`]: async (req, runtime) => {
    const clusterId = assertCluster(req, runtime);
    const groupId = groupParam(req);
    // The summary covers what the lag list shows: a hidden topic's name or lag must not surface as the maximum or in the total.
    const lags = await visibleLags(req, runtime, groupId);
    let max = lags[0];
    for (const l of lags) if (l.lag > max!.lag) max = l;
    return {
      status: 200,
      json: {
        kind: 'KafkaConsumerGroupLagSummary',
        metadata: { self: `${v3(clusterId)}/consumer-groups/${encodeURIComponent(groupId)}/lag-summary` },
        cluster_id: clusterId,
        consumer_group_id: groupId,
        max_lag_consumer_id: max?.memberId ?? '',
        max_lag_instance_id: null,
        max_lag_client_id: max?.clientId ?? '',
        max_lag_topic_name: max?.topic ?? '',
        max_lag_partition_id: max?.partition ?? 0,
        max_lag: max?.lag ?? 0,
        total_lag: lags.reduce((sum, l) => sum + l.lag, 0),
        // Confluent's relationships to the member and the partition lag named above.
        max_lag_consumer: { related: max?.memberId ? `${v3(clusterId)}/consumer-groups/${encodeURIComponent(groupId)}/consumers/${encodeURIComponent(max.memberId)}` : '' },
        max_lag_partition: {
          related: max ? `${v3(clusterId)}/consumer-groups/${encodeURIComponent(groupId)}/lags/${encodeURIComponent(max.topic)}/partitions/${max.partition}` : '',
        },
      },
    };
  },
};

/** REST Proxy v3 resource shapes (KafkaCluster, KafkaTopic, KafkaPartition, …). */
import type { Topic } from '../log/TopicCatalog';
import type { PartitionBounds } from '../log/readPartition';

const v3 = (clusterId: string) => `/v3/clusters/${clusterId}`;

/**
 * Strand has no brokers. REST Proxy's shapes need one (a partition's leader
 * and replicas, a group's coordinator, the cluster's controller), so the API
 * itself is described as the one broker, id 0: every partition's leader and
 * only replica, always in sync. That is what a client can rely on: every
 * request to this API reaches every partition, and durability is S3's and
 * DynamoDB's, which replicate each write across availability zones.
 */
export const apiBrokerId = 0;

export function clusterResource(clusterId: string) {
  return {
    kind: 'KafkaCluster',
    metadata: { self: v3(clusterId), resource_name: `crn:///kafka=${clusterId}` },
    cluster_id: clusterId,
    controller: { related: `${v3(clusterId)}/brokers/${apiBrokerId}` },
    brokers: { related: `${v3(clusterId)}/brokers` },
    topics: { related: `${v3(clusterId)}/topics` },
    consumer_groups: { related: `${v3(clusterId)}/consumer-groups` },
  };
}

/** The API as Kafka's one broker (see apiBrokerId): `host` is the host the request reached. */
export function brokerResource(clusterId: string, hostHeader: string | undefined) {
  const self = `${v3(clusterId)}/brokers/${apiBrokerId}`;
  const [host, port] = (hostHeader ?? 'localhost').split(':');
  return {
    kind: 'KafkaBroker',
    metadata: { self, resource_name: `crn:///kafka=${clusterId}/broker=${apiBrokerId}` },
    cluster_id: clusterId,
    broker_id: apiBrokerId,
    host,
    port: port ? Number(port) : 443,
    rack: null,
    configs: { related: `${self}/configs` },
    partition_replicas: { related: `${self}/partition-replicas` },
  };
}

export function replicaResource(clusterId: string, topic: Topic, partition: number) {
  const self = `${v3(clusterId)}/topics/${topic.name}/partitions/${partition}/replicas/${apiBrokerId}`;
  return {
    kind: 'KafkaReplica',
    metadata: { self, resource_name: `crn:///kafka=${clusterId}/topic=${topic.name}/partition=${partition}/replica=${apiBrokerId}` },
    cluster_id: clusterId,
    topic_name: topic.name,
    partition_id: partition,
    broker_id: apiBrokerId,
    is_leader: true,
    is_in_sync: true,
    broker: { related: `${v3(clusterId)}/brokers/${apiBrokerId}` },
  };
}

export function topicResource(clusterId: string, topic: Topic) {
  const self = `${v3(clusterId)}/topics/${topic.name}`;
  return {
    kind: 'KafkaTopic',
    metadata: { self, resource_name: `crn:///kafka=${clusterId}/topic=${topic.name}` },
    cluster_id: clusterId,
    topic_name: topic.name,
    is_internal: false,
    replication_factor: topic.replicationFactor,
    partitions_count: topic.partitionsCount,
    partitions: { related: `${self}/partitions` },
    configs: { related: `${self}/configs` },
  };
}

export function partitionResource(clusterId: string, topic: Topic, partition: number, bounds: PartitionBounds) {
  const self = `${v3(clusterId)}/topics/${topic.name}/partitions/${partition}`;
  return {
    kind: 'KafkaPartition',
    metadata: { self, resource_name: `crn:///kafka=${clusterId}/topic=${topic.name}/partition=${partition}` },
    cluster_id: clusterId,
    topic_name: topic.name,
    partition_id: partition,
    leader: { related: `${self}/replicas/${apiBrokerId}` },
    replicas: { related: `${self}/replicas` },
    log_start_offset: bounds.logStartOffset,
    high_watermark: bounds.highWatermark,
  };
}

/** REST Proxy v3 resource shapes (KafkaCluster, KafkaTopic, KafkaPartition, …). */
import type { Topic } from '../log/TopicCatalog';
import type { PartitionBounds } from '../log/readPartition';

const v3 = (clusterId: string) => `/v3/clusters/${clusterId}`;

export function clusterResource(clusterId: string) {
  return {
    kind: 'KafkaCluster',
    metadata: { self: v3(clusterId), resource_name: `crn:///kafka=${clusterId}` },
    cluster_id: clusterId,
    topics: { related: `${v3(clusterId)}/topics` },
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
    log_start_offset: bounds.logStartOffset,
    high_watermark: bounds.highWatermark,
  };
}

/**
 * Strand's TypeScript SDK: `StrandClient` makes admins, producers and consumers
 * (kafkajs's `Kafka` → `admin()`, `producer()`, `consumer()`), and every
 * failure is a typed error. See docs/client.md.
 */
export { StrandClient, type StrandClientConfig, type Logger } from './StrandClient';
export {
  Admin,
  type TopicDescription, type PartitionDescription, type TopicConfigEntry, type ITopicConfig, type TopicOffsets,
  type GroupDescription,
  type GroupMember,
  type GroupOffset,
  type PartitionLag,
  type ResetTarget,
  type ApiKeyDescription,
  type TriggerTarget,
  type TriggerSettings,
  type TriggerConfig,
  type TriggerDescription,
} from './admin';
/** For webhook receivers: checks a trigger delivery's X-Strand-Signature against the raw body (docs/triggers.md). */
export { verifySignature as verifyTriggerSignature, signatureHeader as triggerSignatureHeader } from '../src/triggers/signature';
export { Producer, CompressionTypes, supportedCompressionCodecs, type ProducerConfig, type ProducerRecord } from './producer';
export {
  Consumer,
  type ConsumerConfig,
  type ConsumerRunConfig,
  type EachMessagePayload,
  type EachBatchPayload,
  type Batch,
  type TopicPartition,
  type TopicPartitionOffset,
  type AutoOffsetReset,
} from './consumer';
export type { Message, RecordMetadata, KafkaMessage, IHeaders } from './messages';
export {
  SchemaRegistry,
  SchemaRegistryError,
  encodeWireFormat,
  decodeWireFormat,
  type CompatibilityLevel,
  type CompatibilityResult,
  type SubjectVersion,
} from './schemaRegistry';
export type { RetryOptions } from './retry';
export type { SigningOptions, AwsCredentials } from './signing';
export * from './errors';
export { partitionForKey, murmur2, toPositive } from '../src/partitioner/murmur2';

/**
 * The topic configs Strand supports, with Kafka's names, defaults and ranges.
 * Stored on the topic item as overrides only: a config that is not overridden
 * has its default, which GET …/configs reports with is_default = true.
 */
import type { CompressionCodec } from '../codec/compression';

export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete';
/** Kafka's topic `compression.type`: `producer` keeps each batch's codec; the others are the codec batches are stored in. */
export type TopicCompression = 'producer' | 'uncompressed' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
export type TimestampTypeName = 'CreateTime' | 'LogAppendTime';

export interface TopicConfig {
  'retention.ms': number;
  'retention.bytes': number;
  'cleanup.policy': CleanupPolicy;
  'max.message.bytes': number;
  'message.timestamp.type': TimestampTypeName;
  'delete.retention.ms': number;
  /** Confluent broker-side schema validation: produce refuses keys/values without a schema id registered under `<topic>-key`/`<topic>-value` (src/schemas/recordSchemas.ts). */
  'confluent.key.schema.validation': boolean;
  'confluent.value.schema.validation': boolean;
  /** The codec produced batches are stored in (src/codec/recompressBatch.ts), or `producer` for as sent. */
  'compression.type': TopicCompression;
}
export type TopicConfigName = keyof TopicConfig;
/** Stored overrides: the configs with an effect, and Kafka's others (storedOnlyConfigDefinitions). */
export type ConfigOverrides = Partial<Record<TopicConfigName | StoredOnlyConfigName, string>>;

const int32Max = 2 ** 31 - 1;

interface ConfigDefinition {
  default: string;
  /** Returns the canonical string form, or an error message. */
  parse(value: string): { value: string } | { error: string };
}

function longAtLeast(min: number, max = Number.MAX_SAFE_INTEGER): ConfigDefinition['parse'] {
  return (value) => {
    if (!/^-?\d+$/.test(value.trim())) return { error: `must be an integer, not '${value}'` };
    const n = Number(value.trim());
    if (!Number.isSafeInteger(n) || n < min || n > max) return { error: `must be between ${min} and ${max}, not ${value}` };
    return { value: String(n) };
  };
}

function oneOf(allowed: string[], aliases: Record<string, string> = {}): ConfigDefinition['parse'] {
  return (value) => {
    const v = aliases[value.trim()] ?? value.trim();
    return allowed.includes(v) ? { value: v } : { error: `must be one of ${allowed.join(', ')}, not '${value}'` };
  };
}

export const topicConfigDefinitions: Record<TopicConfigName, ConfigDefinition> = {
  'retention.ms': { default: '604800000', parse: longAtLeast(-1) },
  'retention.bytes': { default: '-1', parse: longAtLeast(-1) },
  'cleanup.policy': {
    default: 'delete',
    parse: oneOf(['delete', 'compact', 'compact,delete'], { 'delete,compact': 'compact,delete' }),
  },
  'max.message.bytes': { default: '1048588', parse: longAtLeast(0, int32Max) },
  'message.timestamp.type': { default: 'CreateTime', parse: oneOf(['CreateTime', 'LogAppendTime']) },
  'delete.retention.ms': { default: '86400000', parse: longAtLeast(0) },
  'confluent.key.schema.validation': { default: 'false', parse: oneOf(['true', 'false'], { TRUE: 'true', True: 'true', FALSE: 'false', False: 'false' }) },
  'confluent.value.schema.validation': { default: 'false', parse: oneOf(['true', 'false'], { TRUE: 'true', True: 'true', FALSE: 'false', False: 'false' }) },
  'compression.type': { default: 'producer', parse: oneOf(['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd']) },
};

export const topicConfigNames = Object.keys(topicConfigDefinitions) as TopicConfigName[];

export function isTopicConfigName(name: string): name is TopicConfigName {
  return Object.prototype.hasOwnProperty.call(topicConfigDefinitions, name);
}

/** Java's Long range: Kafka's "no limit" defaults are Long.MAX_VALUE, past a JS number's exact range. */
function javaLong(min: bigint = -(2n ** 63n)): ConfigDefinition['parse'] {
  return (value) => {
    if (!/^-?\d+$/.test(value.trim())) return { error: `must be an integer, not '${value}'` };
    const n = BigInt(value.trim());
    if (n < min || n > 2n ** 63n - 1n) return { error: `must be between ${min} and ${2n ** 63n - 1n}, not ${value}` };
    return { value: n.toString() };
  };
}

function ratio(): ConfigDefinition['parse'] {
  return (value) => {
    const n = Number(value.trim());
    return value.trim() !== '' && Number.isFinite(n) && n >= 0 && n <= 1 ? { value: String(n) } : { error: `must be a number from 0 to 1, not '${value}'` };
  };
}

const booleanConfig = oneOf(['true', 'false'], { TRUE: 'true', True: 'true', FALSE: 'false', False: 'false' });

/** Kafka's replica lists ("", "*", or partition:broker pairs): kept as text. */
function replicaList(): ConfigDefinition['parse'] {
  return (value) => (/^(\*|(\d+:\d+)(,\d+:\d+)*)?$/.test(value.trim()) ? { value: value.trim() } : { error: `must be '', '*' or partition:broker pairs, not '${value}'` });
}

const longMax = '9223372036854775807';

/**
 * Kafka's other topic configs (Kafka 4.x's topic-level list, with its
 * defaults and types): scripts and tools set them, so Strand accepts, checks,
 * stores and reports them, but they change nothing here (docs/topic-configs.md
 * says why for each). Segments, flushes, replicas and tiered storage have no
 * counterpart in a log of S3 objects indexed in DynamoDB.
 */
export const storedOnlyConfigDefinitions = {
  'file.delete.delay.ms': { default: '60000', parse: javaLong(0n) },
  'flush.messages': { default: longMax, parse: javaLong(1n) },
  'flush.ms': { default: longMax, parse: javaLong(0n) },
  'follower.replication.throttled.replicas': { default: '', parse: replicaList() },
  'index.interval.bytes': { default: '4096', parse: longAtLeast(0, int32Max) },
  'leader.replication.throttled.replicas': { default: '', parse: replicaList() },
  'local.retention.bytes': { default: '-2', parse: javaLong(-2n) },
  'local.retention.ms': { default: '-2', parse: javaLong(-2n) },
  'max.compaction.lag.ms': { default: longMax, parse: javaLong(1n) },
  'message.timestamp.after.max.ms': { default: '3600000', parse: javaLong(0n) },
  'message.timestamp.before.max.ms': { default: longMax, parse: javaLong(0n) },
  'min.cleanable.dirty.ratio': { default: '0.5', parse: ratio() },
  'min.compaction.lag.ms': { default: '0', parse: javaLong(0n) },
  'min.insync.replicas': { default: '1', parse: longAtLeast(1, int32Max) },
  'preallocate': { default: 'false', parse: booleanConfig },
  'remote.storage.enable': { default: 'false', parse: booleanConfig },
  'segment.bytes': { default: '1073741824', parse: longAtLeast(14, int32Max) },
  'segment.index.bytes': { default: '10485760', parse: longAtLeast(4, int32Max) },
  'segment.jitter.ms': { default: '0', parse: javaLong(0n) },
  'segment.ms': { default: '604800000', parse: javaLong(1n) },
  'unclean.leader.election.enable': { default: 'false', parse: booleanConfig },
} satisfies Record<string, ConfigDefinition>;
export type StoredOnlyConfigName = keyof typeof storedOnlyConfigDefinitions;
export const storedOnlyConfigNames = Object.keys(storedOnlyConfigDefinitions) as StoredOnlyConfigName[];

function isStoredOnlyConfigName(name: string): name is StoredOnlyConfigName {
  return Object.prototype.hasOwnProperty.call(storedOnlyConfigDefinitions, name);
}

/** True for a config Strand accepts but that changes nothing (reported as such in docs/topic-configs.md). */
export function hasNoEffect(name: string): boolean {
  return isStoredOnlyConfigName(name);
}

function definitionOf(name: string): ConfigDefinition | undefined {
  if (isTopicConfigName(name)) return topicConfigDefinitions[name];
  if (isStoredOnlyConfigName(name)) return storedOnlyConfigDefinitions[name];
  return undefined;
}

/** Validates one config; returns the canonical value or an error message naming the config. */
export function parseConfig(name: string, value: unknown): { name: TopicConfigName | StoredOnlyConfigName; value: string } | { error: string } {
  const definition = definitionOf(name);
  if (!definition) {
    return { error: `Unknown topic config '${name}'. Supported: ${[...topicConfigNames, ...storedOnlyConfigNames].join(', ')}.` };
  }
  if (typeof value !== 'string' && typeof value !== 'number') {
    return { error: `Config '${name}' needs a string value.` };
  }
  const parsed = definition.parse(String(value));
  if ('error' in parsed) return { error: `Config '${name}' ${parsed.error}.` };
  return { name: name as TopicConfigName | StoredOnlyConfigName, value: parsed.value };
}

/** The effective config of a topic: defaults with its overrides applied. */
export function effectiveConfig(overrides: ConfigOverrides): TopicConfig {
  const raw = (name: TopicConfigName) => overrides[name] ?? topicConfigDefinitions[name].default;
  return {
    'retention.ms': Number(raw('retention.ms')),
    'retention.bytes': Number(raw('retention.bytes')),
    'cleanup.policy': raw('cleanup.policy') as CleanupPolicy,
    'max.message.bytes': Number(raw('max.message.bytes')),
    'message.timestamp.type': raw('message.timestamp.type') as TimestampTypeName,
    'delete.retention.ms': Number(raw('delete.retention.ms')),
    'confluent.key.schema.validation': raw('confluent.key.schema.validation') === 'true',
    'confluent.value.schema.validation': raw('confluent.value.schema.validation') === 'true',
    'compression.type': raw('compression.type') as TopicCompression,
  };
}

/**
 * The codec a topic stores produced batches in, or undefined when batches keep
 * the producer's (Kafka's `producer`). Kafka's `uncompressed` is the codec
 * `none`.
 */
export function storedCodecOf(config: Pick<TopicConfig, 'compression.type'>): CompressionCodec | undefined {
  const c = config['compression.type'];
  if (c === 'producer') return undefined;
  return c === 'uncompressed' ? 'none' : c;
}

/** A known config's default value. */
export function defaultOfConfig(name: TopicConfigName | StoredOnlyConfigName): string {
  return definitionOf(name)!.default;
}

/** Every config of a topic, those with an effect first, then Kafka's stored-only ones, with their defaults. */
export function describeConfigs(overrides: ConfigOverrides): { name: TopicConfigName | StoredOnlyConfigName; value: string; is_default: boolean }[] {
  return [...topicConfigNames, ...storedOnlyConfigNames].map((name) => ({
    name,
    value: overrides[name] ?? definitionOf(name)!.default,
    is_default: overrides[name] === undefined,
  }));
}

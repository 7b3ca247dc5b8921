/**
 * The topic configs Strand supports, with Kafka's names, defaults and ranges.
 * Stored on the topic item as overrides only: a config that is not overridden
 * has its default, which GET …/configs reports with is_default = true.
 */
export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete';
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
}
export type TopicConfigName = keyof TopicConfig;
export type ConfigOverrides = Partial<Record<TopicConfigName, string>>;

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
};

export const topicConfigNames = Object.keys(topicConfigDefinitions) as TopicConfigName[];

export function isTopicConfigName(name: string): name is TopicConfigName {
  return Object.prototype.hasOwnProperty.call(topicConfigDefinitions, name);
}

/** Validates one config; returns the canonical value or an error message naming the config. */
export function parseConfig(name: string, value: unknown): { name: TopicConfigName; value: string } | { error: string } {
  if (!isTopicConfigName(name)) {
    return { error: `Unknown topic config '${name}'. Supported: ${topicConfigNames.join(', ')}.` };
  }
  if (typeof value !== 'string' && typeof value !== 'number') {
    return { error: `Config '${name}' needs a string value.` };
  }
  const parsed = topicConfigDefinitions[name].parse(String(value));
  if ('error' in parsed) return { error: `Config '${name}' ${parsed.error}.` };
  return { name, value: parsed.value };
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
  };
}

export function describeConfigs(overrides: ConfigOverrides): { name: TopicConfigName; value: string; is_default: boolean }[] {
  return topicConfigNames.map((name) => ({
    name,
    value: overrides[name] ?? topicConfigDefinitions[name].default,
    is_default: overrides[name] === undefined,
  }));
}

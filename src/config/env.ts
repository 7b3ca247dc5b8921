/**
 * The one source of truth for the environment variables the engine reads.
 * The CDK stack sets exactly these on each function (test/infra checks it) and
 * the local runtime sets them for its embedded emulators.
 */
export const EnvVar = {
  clusterId: 'STRAND_CLUSTER_ID',
  bucket: 'STRAND_BUCKET',
  topicsTable: 'STRAND_TOPICS_TABLE',
  logTable: 'STRAND_LOG_TABLE',
  leasesTable: 'STRAND_LEASES_TABLE',
  groupsTable: 'STRAND_GROUPS_TABLE',
  consumersTable: 'STRAND_CONSUMERS_TABLE',
  schemasTable: 'STRAND_SCHEMAS_TABLE',
  keysTable: 'STRAND_KEYS_TABLE',
  subscriptionsTable: 'STRAND_SUBSCRIPTIONS_TABLE',
  triggersTable: 'STRAND_TRIGGERS_TABLE',
  /** `none` (default) or `keys`: API keys checked by the functions themselves (src/auth/). */
  auth: 'STRAND_AUTH',
} as const;
export type EnvVarName = (typeof EnvVar)[keyof typeof EnvVar];

/**
 * Where waiting consumers get notices (src/notify/, docs/notifications.md). Set
 * by the stack on the functions that need them; absent locally, where the
 * local gateway serves the notice socket itself. Not in configToEnv: a
 * function without a notice socket (maintenance, schemas) has no use for them.
 *   STRAND_NOTIFICATIONS_URL       the wss:// URL clients connect to (the WebSocket API's stage URL)
 *   STRAND_NOTIFICATIONS_ENDPOINT  the https:// management endpoint notices are posted through
 */
export const NotificationsEnvVar = {
  url: 'STRAND_NOTIFICATIONS_URL',
  endpoint: 'STRAND_NOTIFICATIONS_ENDPOINT',
} as const;

/**
 * An admin key accepted besides the stored ones, to create the first real key.
 * A secret: read by loadConfig, never written by configToEnv (so never put into
 * a template); set it by hand where needed and remove it afterwards.
 */
export const bootstrapAdminKeyEnvVar = 'STRAND_BOOTSTRAP_ADMIN_KEY';

/** Standard AWS SDK settings, read by the SDK or by `createClients`. */
export const AwsEnvVar = {
  region: 'AWS_REGION',
  endpointUrl: 'AWS_ENDPOINT_URL',
} as const;

export interface TableNames {
  /** Topic catalog: one item per topic. */
  topics: string;
  /** Partition heads and spilled index chunks. */
  log: string;
  /** Partition leader leases. */
  leases: string;
  /** Consumer groups: one item per group (members, assignment, committed offsets). */
  groups: string;
  /** REST Proxy v2 consumer instances: one item per (group, instance). */
  consumers: string;
  /** Schema registry: schemas by id, subjects and versions, compatibility config (src/schemas/SchemaStore.ts). */
  schemas: string;
  /** API keys: one item per key, the secret stored only as its SHA-256 (src/auth/ApiKeyStore.ts). */
  keys: string;
  /** Waiting consumers' armed watches and notice connections (src/notify/SubscriptionStore.ts). */
  subscriptions: string;
  /** Triggers: one item per trigger, pushing a topic's records to a function or webhook (src/triggers/TriggerStore.ts). */
  triggers: string;
}

/** `none`: no check in the functions (IAM or JWT at the gateway, or nothing locally). `keys`: API keys (src/auth/). */
export type AuthMode = 'none' | 'keys';

export interface StrandConfig {
  clusterId: string;
  bucket: string;
  tables: TableNames;
  auth: AuthMode;
  /** From STRAND_BOOTSTRAP_ADMIN_KEY: a key with every permission, for creating the first stored key. */
  bootstrapAdminKey?: string;
  /** From STRAND_NOTIFICATIONS_URL/ENDPOINT: the deployed notice socket (absent locally). */
  notifications?: { url: string; endpoint: string };
}

export const localDefaults: StrandConfig = {
  clusterId: 'local',
  bucket: 'strand-local',
  tables: {
    topics: 'strand-topics',
    log: 'strand-log',
    leases: 'strand-leases',
    groups: 'strand-groups',
    consumers: 'strand-consumers',
    schemas: 'strand-schemas',
    keys: 'strand-keys',
    subscriptions: 'strand-subscriptions',
    triggers: 'strand-triggers',
  },
  auth: 'none',
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env): StrandConfig {
  return {
    clusterId: env[EnvVar.clusterId] || localDefaults.clusterId,
    bucket: env[EnvVar.bucket] || localDefaults.bucket,
    tables: {
      topics: env[EnvVar.topicsTable] || localDefaults.tables.topics,
      log: env[EnvVar.logTable] || localDefaults.tables.log,
      leases: env[EnvVar.leasesTable] || localDefaults.tables.leases,
      groups: env[EnvVar.groupsTable] || localDefaults.tables.groups,
      consumers: env[EnvVar.consumersTable] || localDefaults.tables.consumers,
      schemas: env[EnvVar.schemasTable] || localDefaults.tables.schemas,
      keys: env[EnvVar.keysTable] || localDefaults.tables.keys,
      subscriptions: env[EnvVar.subscriptionsTable] || localDefaults.tables.subscriptions,
      triggers: env[EnvVar.triggersTable] || localDefaults.tables.triggers,
    },
    auth: parseAuthMode(env[EnvVar.auth]),
    ...(env[bootstrapAdminKeyEnvVar] ? { bootstrapAdminKey: env[bootstrapAdminKeyEnvVar] } : {}),
    ...(env[NotificationsEnvVar.url] && env[NotificationsEnvVar.endpoint]
      ? { notifications: { url: env[NotificationsEnvVar.url]!, endpoint: env[NotificationsEnvVar.endpoint]! } }
      : {}),
  };
}

export function parseAuthMode(value: string | undefined): AuthMode {
  if (value === undefined || value === '' || value === 'none') return 'none';
  if (value === 'keys') return 'keys';
  throw new Error(`${EnvVar.auth} must be 'none' or 'keys', not '${value}'.`);
}

/** The environment a function needs to find its resources: the inverse of loadConfig. */
export function configToEnv(config: StrandConfig): Record<EnvVarName, string> {
  return {
    [EnvVar.clusterId]: config.clusterId,
    [EnvVar.bucket]: config.bucket,
    [EnvVar.topicsTable]: config.tables.topics,
    [EnvVar.logTable]: config.tables.log,
    [EnvVar.leasesTable]: config.tables.leases,
    [EnvVar.groupsTable]: config.tables.groups,
    [EnvVar.consumersTable]: config.tables.consumers,
    [EnvVar.schemasTable]: config.tables.schemas,
    [EnvVar.keysTable]: config.tables.keys,
    [EnvVar.subscriptionsTable]: config.tables.subscriptions,
    [EnvVar.triggersTable]: config.tables.triggers,
    [EnvVar.auth]: config.auth,
  };
}

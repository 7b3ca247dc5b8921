/**
 * The mirror as a scheduled Lambda (infra/mirror.ts, `StrandMirror`): each
 * invocation is a bounded run — passes until `runSeconds` have gone by, well
 * inside the function's timeout — with state in the target's state topic
 * (mirrorState.ts), so consecutive invocations simply continue. Reserved
 * concurrency 1 keeps two runs from overlapping (and were they to, the
 * idempotent appends would still keep duplicates out: partitionCopy.ts).
 *
 * Configuration: one environment variable, `STRAND_MIRROR_CONFIG`, JSON of
 * `MirrorFunctionConfig` (written by the construct). Metrics: one EMF line per
 * invocation (namespace Strand, dimension Mirror): MirrorMaxLagSeconds,
 * MirrorMaxLagRecords, MirrorTotalLagRecords, MirrorPartitionsFailing,
 * MirrorRecordsCopied.
 */
import { StrandClient, type StrandClientConfig } from '../../client/StrandClient';
import { Mirror, type PassReport } from './mirror';
import { summarizeLag } from './status';
import { assumedRoleCredentials, readApiKeySecret } from './awsAccess';
import type { TopicNamePolicy } from './topicSelection';

export const mirrorConfigEnvVar = 'STRAND_MIRROR_CONFIG';
export const mirrorMetricsNamespace = 'Strand';
export const mirrorMetricNames = {
  maxLagSeconds: 'MirrorMaxLagSeconds',
  maxLagRecords: 'MirrorMaxLagRecords',
  totalLagRecords: 'MirrorTotalLagRecords',
  partitionsFailing: 'MirrorPartitionsFailing',
  recordsCopied: 'MirrorRecordsCopied',
} as const;

export interface MirrorSideConfig {
  url: string;
  clusterId: string;
  /** SigV4-sign requests for this region (the side's API uses IAM authorization). */
  region?: string;
  /** Assume this role (cross-account) for the signatures. */
  roleArn?: string;
  /** A Secrets Manager secret holding the side's API key (the side uses API keys). */
  apiKeySecretArn?: string;
}

export interface MirrorFunctionConfig {
  name: string;
  source: MirrorSideConfig;
  target: MirrorSideConfig;
  topics?: string;
  exclude?: string;
  topicNaming?: TopicNamePolicy;
  syncGroupOffsets?: boolean;
  groups?: string;
  groupsExclude?: string;
  /** How long one invocation copies, in seconds. */
  runSeconds: number;
}

export function parseMirrorConfig(text: string | undefined): MirrorFunctionConfig {
  if (!text) throw new Error(`${mirrorConfigEnvVar} is not set`);
  const c = JSON.parse(text) as MirrorFunctionConfig;
  for (const side of ['source', 'target'] as const) {
    if (!c[side]?.url || !c[side]?.clusterId) throw new Error(`${mirrorConfigEnvVar}: ${side} needs url and clusterId`);
  }
  if (!(c.runSeconds > 0)) throw new Error(`${mirrorConfigEnvVar}: runSeconds must be positive`);
  return c;
}

async function sideClient(side: MirrorSideConfig, sessionName: string): Promise<StrandClient> {
  const config: StrandClientConfig = { url: side.url, clusterId: side.clusterId, retry: { retries: 5 }, logger: { warn: (m) => console.warn(m) } };
  if (side.apiKeySecretArn) config.apiKey = await readApiKeySecret(side.apiKeySecretArn);
  if (side.region) {
    config.signing = { region: side.region, ...(side.roleArn ? { credentials: assumedRoleCredentials(side.roleArn, side.region, sessionName) } : {}) };
  }
  return new StrandClient(config);
}

/** One EMF line with the run's lag and copy counts. */
export function mirrorEmfLine(name: string, report: Pick<PassReport, 'status'>, copied: number, timestamp: number): string {
  const lag = summarizeLag(report.status);
  const values = {
    [mirrorMetricNames.maxLagSeconds]: lag.maxLagSeconds,
    [mirrorMetricNames.maxLagRecords]: lag.maxLagRecords,
    [mirrorMetricNames.totalLagRecords]: lag.totalLagRecords,
    [mirrorMetricNames.partitionsFailing]: lag.partitionsFailing,
    [mirrorMetricNames.recordsCopied]: copied,
  };
  return JSON.stringify({
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: mirrorMetricsNamespace,
          Dimensions: [['Mirror']],
          Metrics: Object.keys(values).map((n) => ({ Name: n, Unit: n === mirrorMetricNames.maxLagSeconds ? 'Seconds' : 'Count' })),
        },
      ],
    },
    Mirror: name,
    ...values,
  });
}

/** Built once per container: the clients (and the secret read), reused by warm invocations. */
let clients: Promise<{ source: StrandClient; target: StrandClient }> | undefined;

export async function runMirrorFunction(
  env: NodeJS.ProcessEnv = process.env,
  writeLine: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<{ copied: number; caughtUp: boolean; errors: string[] }> {
  const config = parseMirrorConfig(env[mirrorConfigEnvVar]);
  clients ??= Promise.all([sideClient(config.source, `strand-mirror-${config.name}`), sideClient(config.target, `strand-mirror-${config.name}`)]).then(([source, target]) => ({ source, target }));
  let built;
  try {
    built = await clients;
  } catch (err) {
    clients = undefined; // the next invocation reads the secret again
    throw err;
  }
  let copied = 0;
  const mirror = new Mirror({
    ...built,
    name: config.name,
    topics: config.topics,
    exclude: config.exclude,
    topicNaming: config.topicNaming,
    syncGroupOffsets: config.syncGroupOffsets,
    groups: config.groups,
    groupsExclude: config.groupsExclude,
    // Idle polls every 5 s: a caught-up partition costs one fetch per 5 s while a run lasts.
    pollIntervalMs: 5_000,
    onPass: (r) => (copied += r.copied),
  });
  const report = await mirror.run({ deadline: Date.now() + config.runSeconds * 1000 });
  writeLine(mirrorEmfLine(config.name, report, copied, Date.now()));
  return { copied, caughtUp: report.caughtUp, errors: report.errors };
}

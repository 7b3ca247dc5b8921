/**
 * The entry point: one StrandClient per Strand deployment (URL + cluster id),
 * from which admins, producers and consumers are made — kafkajs's `new Kafka()`.
 *
 *   const strand = new StrandClient({ url: 'http://localhost:8082' });
 *   const producer = strand.producer();
 *   await producer.send({ topic: 'orders', messages: [{ key: 'user-42', value: 'hello' }] });
 */
import { Admin } from './admin';
import { Consumer, type ConsumerConfig } from './consumer';
import { MetadataCache } from './metadata';
import { Producer, type ProducerConfig } from './producer';
import type { RetryOptions } from './retry';
import type { SigningOptions } from './signing';
import { Transport } from './transport';

export interface Logger {
  warn(message: string): void;
}

export interface StrandClientConfig {
  /** Base URL of the HTTP API. @default process.env.STRAND_URL ?? 'http://localhost:8082' */
  url?: string;
  /** The cluster id in `/v3/clusters/{cluster_id}`. @default process.env.STRAND_CLUSTER ?? 'local' */
  clusterId?: string;
  /**
   * A Strand API key, sent as `Authorization: Bearer <key>` (a stack or local
   * runtime with STRAND_AUTH=keys; docs/security.md).
   * @default process.env.STRAND_API_KEY
   */
  apiKey?: string;
  /**
   * Headers sent with every request (merged over the API key's), or a function returning them (called per
   * request, so a token can be refreshed): e.g. `{ authorization: 'Bearer <api key>' }`.
   */
  headers?: Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>);
  /** SigV4-sign every request through the AWS SDK credential chain (a stack deployed with IAM authorization). */
  signing?: SigningOptions;
  /** Retries of 429, 503 and network errors. */
  retry?: RetryOptions;
  /** Per-request timeout in ms (long polls add their wait on top). @default 30000 */
  requestTimeout?: number;
  /** How long a topic's partition count is trusted. @default 300000 (Kafka's metadata.max.age.ms) */
  metadataMaxAge?: number;
  /** Where one-time warnings go. @default console */
  logger?: Logger;
}

function withApiKey(apiKey: string | undefined, headers: StrandClientConfig['headers']): StrandClientConfig['headers'] {
  if (!apiKey) return headers;
  const auth = { authorization: `Bearer ${apiKey}` };
  if (typeof headers === 'function') return async () => ({ ...auth, ...(await headers()) });
  return { ...auth, ...headers };
}

export class StrandClient {
  readonly url: string;
  readonly clusterId: string;
  readonly transport: Transport;
  readonly metadata: MetadataCache;
  readonly logger: Logger;
  private adminClient: Admin | undefined;

  constructor(config: StrandClientConfig = {}) {
    this.url = (config.url ?? process.env.STRAND_URL ?? 'http://localhost:8082').replace(/\/+$/, '');
    this.clusterId = config.clusterId ?? process.env.STRAND_CLUSTER ?? 'local';
    this.transport = new Transport({ url: this.url, headers: withApiKey(config.apiKey ?? process.env.STRAND_API_KEY, config.headers), signing: config.signing, retry: config.retry, requestTimeout: config.requestTimeout });
    this.metadata = new MetadataCache(async (topic) => (await this.admin().describeTopic(topic)).partitions, config.metadataMaxAge ?? 300_000);
    this.logger = config.logger ?? { warn: (m) => console.warn(m) };
  }

  /** `/v3/clusters/{cluster_id}` */
  get clusterPath(): string {
    return `/v3/clusters/${encodeURIComponent(this.clusterId)}`;
  }

  admin(): Admin {
    return (this.adminClient ??= new Admin(this));
  }

  producer(config: ProducerConfig = {}): Producer {
    return new Producer(this, config);
  }

  consumer(config: ConsumerConfig = {}): Consumer {
    return new Consumer(this, config);
  }
}

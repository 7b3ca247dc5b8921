/**
 * A whole Strand on one machine: embedded emulators (or an external endpoint such
 * as LocalStack), the bucket and tables, and the HTTP API. `npm start` runs this,
 * and so do the integration tests.
 */
import { resolve } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { loadConfig, type AuthMode, type StrandConfig } from '../src/config/env';
import { createClients } from '../src/storage/clients';
import { createRuntime, type Runtime } from '../src/runtime';
import type { Clock } from '../src/clock';
import { startEmulators, type Emulators } from './emulators';
import { startEmulatorsInChildProcess } from './emulatorProcess';
import { startGateway, type Gateway, type GatewayOptions } from './gateway';
import { provisionStorage } from './provision';
import { runMaintenance, type MaintenanceOptions } from '../src/maintenance/runMaintenance';
import { emulatorCredentials } from './emulatorCredentials';
import { attachNoticeSocket, type NoticeSocket, type NoticeSocketOptions } from './noticeSocket';
import { attachLogStream, type LogStream } from './logStream';
import { notifyWatchers } from '../src/notify/notifier';
import { noticeSocketPath } from '../src/notify/protocol';
import { registerNoticePoster } from '../src/notify/noticePoster';
import { TriggerRunner, registerTriggerRunner, type TriggerRunnerOptions } from '../src/triggers/TriggerRunner';
import { StrandMetrics } from '../src/metrics/strandMetrics';
import { lagGroupsMaxFromEnv } from '../src/metrics/lag';
import type { RequestLog } from '../src/metrics/requestLog';

/** The local stand-in for the EventBridge schedule: one pass at a time, every intervalMs. */
function startMaintenanceTimer(runtime: Runtime, intervalMs: number, options: MaintenanceOptions): { stop(): Promise<void> } {
  if (intervalMs <= 0) return { stop: async () => {} };
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(() =>
      runMaintenance(runtime, options).catch((err: unknown) => runtime.logger.warn('maintenance pass failed', { error: String(err) })),
    );
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

export interface LocalStrandOptions {
  /** Where the embedded emulators persist. @default ./.strand */
  dataDir?: string;
  /** @default 127.0.0.1 */
  host?: string;
  /** 0 picks a free port. @default 8082 */
  port?: number;
  /** An S3/DynamoDB endpoint to use instead of the embedded emulators (LocalStack). */
  endpoint?: string;
  config?: StrandConfig;
  /** API keys on (`keys`) or off; overrides the config's (STRAND_AUTH). @default config.auth, i.e. 'none' */
  auth?: AuthMode;
  /** An admin key accepted besides stored ones (STRAND_BOOTSTRAP_ADMIN_KEY), to create the first key. */
  bootstrapAdminKey?: string;
  clock?: Clock;
  /** Told of every request the gateway handled. */
  onRequest?: GatewayOptions['onRequest'];
  /** Run the embedded emulators in a child process (a core of their own). @default false */
  emulatorsInChildProcess?: boolean;
  /** Run the maintenance pass every this many ms; 0 turns it off. @default 60000 (npm start reads STRAND_MAINTENANCE_INTERVAL_MS) */
  maintenanceIntervalMs?: number;
  /** How old an unreferenced object must be before the sweep deletes it (tests shorten it). @default orphanGraceMsDefault */
  orphanGraceMs?: number;
  logger?: Logger;
  /** The notice socket's limits (tests shorten API Gateway's idle timeout and connection lifetime). */
  noticeSocket?: NoticeSocketOptions;
  /** The trigger runner's settings (tests shorten backoffs and rescans), or false for no runner. @default {} */
  triggers?: TriggerRunnerOptions | false;
  /** Prometheus metrics at GET /metrics (docs/observability.md), or false for none. @default a fresh StrandMetrics */
  metrics?: StrandMetrics | false;
  /** The one-line request log (npm start turns it on; src/metrics/requestLog.ts). @default none */
  requestLog?: RequestLog;
}

export interface LocalStrand {
  url: string;
  runtime: Runtime;
  /** Where the engine's storage lives. */
  endpoints: { s3: string; dynamodb: string };
  /** The emulators' process ids, when they run in processes of their own. */
  emulatorPids?: { s3: number; dynamodb: number };
  /** The WebSocket stand-in at ws://…/v3/notifications and the log-stream stand-in that feeds the notifier. */
  notices: { socket: NoticeSocket; stream: LogStream };
  /** Delivers triggers' records (src/triggers/), woken by the log stream; absent with `triggers: false`. */
  triggers?: TriggerRunner;
  /** What GET /metrics serves; absent with `metrics: false`. */
  metrics?: StrandMetrics;
  stop(): Promise<void>;
}


export async function startLocalStrand(options: LocalStrandOptions = {}): Promise<LocalStrand> {
  const config: StrandConfig = {
    ...(options.config ?? loadConfig()),
    ...(options.auth ? { auth: options.auth } : {}),
    ...(options.bootstrapAdminKey ? { bootstrapAdminKey: options.bootstrapAdminKey } : {}),
  };
  const logger = options.logger ?? new Logger({ serviceName: 'strand', logLevel: (process.env.POWERTOOLS_LOG_LEVEL as 'INFO') ?? 'WARN' });
  let emulators: Emulators | undefined;
  let s3Endpoint: string;
  let dynamodbEndpoint: string;
  let clients;
  if (options.endpoint) {
    s3Endpoint = dynamodbEndpoint = options.endpoint;
    clients = createClients({ endpoint: options.endpoint });
  } else {
    const dataDir = resolve(options.dataDir ?? '.strand');
    emulators = options.emulatorsInChildProcess
      ? await startEmulatorsInChildProcess(dataDir)
      : await startEmulators({ dataDir, host: '127.0.0.1' });
    s3Endpoint = emulators.s3Endpoint;
    dynamodbEndpoint = emulators.dynamodbEndpoint;
    const s3 = createClients({ endpoint: s3Endpoint, credentials: emulatorCredentials }).s3;
    const { dynamodb, ddb } = createClients({ endpoint: dynamodbEndpoint, credentials: emulatorCredentials });
    clients = { s3, dynamodb, ddb };
  }
  let gateway: Gateway | undefined;
  try {
    await provisionStorage(config, clients.s3, clients.dynamodb);
    const runtime = createRuntime({ config, clients, clock: options.clock, logger });
    const metrics = options.metrics === false ? undefined : (options.metrics ?? new StrandMetrics({ lagGroupsMax: lagGroupsMaxFromEnv() }));
    gateway = await startGateway(runtime, { host: options.host ?? '127.0.0.1', port: options.port ?? 8082, onRequest: options.onRequest, metrics, requestLog: options.requestLog });
    const g = gateway;
    // Waiting consumers: the notice socket on the gateway's port, and the
    // stream stand-in feeding the notifier from the engine's head writes. The
    // stream reads with a client of its own, outside any request's deadline.
    const socket = attachNoticeSocket(g.server, runtime, options.noticeSocket);
    registerNoticePoster(runtime, socket.poster);
    runtime.config.notifications = { url: `${g.url.replace(/^http/, 'ws')}${noticeSocketPath}`, endpoint: 'local' };
    const streamReader = createClients({ endpoint: dynamodbEndpoint, ...(emulators ? { credentials: emulatorCredentials } : {}) }).dynamodb;
    // Triggers: the runner the dispatcher Lambda will be on AWS, woken by the same
    // stream records as the notifier. It is not awaited (a slow trigger never holds
    // back notices) and its failures are its own (never a redelivery to the notifier).
    const triggers = options.triggers === false ? undefined : new TriggerRunner(runtime, { bootstrapServers: g.url, ...options.triggers });
    if (triggers) registerTriggerRunner(runtime, triggers);
    const stream = attachLogStream(
      clients.dynamodb,
      streamReader,
      config.tables.log,
      (records) => {
        triggers?.onStreamRecords(records).catch((err: unknown) => logger.warn('trigger wake-up failed', { error: String(err) }));
        return notifyWatchers(runtime, socket.poster, records);
      },
      (err) => logger.warn('notifier failed', { error: String(err) }),
    );
    triggers?.start();
    const maintenance = startMaintenanceTimer(runtime, options.maintenanceIntervalMs ?? 60_000, options.orphanGraceMs === undefined ? {} : { orphanGraceMs: options.orphanGraceMs });
    let stopped: Promise<void> | undefined;
    return {
      url: g.url,
      runtime,
      endpoints: { s3: s3Endpoint, dynamodb: dynamodbEndpoint },
      ...(emulators?.pids ? { emulatorPids: emulators.pids } : {}),
      notices: { socket, stream },
      ...(triggers ? { triggers } : {}),
      ...(metrics ? { metrics } : {}),
      stop: () =>
        (stopped ??= (async () => {
          // First: deliveries in flight are aborted (not committed) while storage is still up.
          await triggers?.stop();
          runtime.engine.shutdown();
          await maintenance.stop();
          await socket.close();
          await g.close();
          await stream.close();
          streamReader.destroy();
          clients.s3.destroy();
          clients.dynamodb.destroy();
          await emulators?.stop();
        })()),
    };
  } catch (err) {
    await gateway?.close();
    await emulators?.stop();
    throw err;
  }
}

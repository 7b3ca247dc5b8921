/**
 * Everything a request needs, built once per process (module scope in Lambda,
 * once per local server): configuration, SDK clients, the clock, the logger and
 * the engine on top of them.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { loadConfig, type StrandConfig } from './config/env';
import { createClients, type StorageClients } from './storage/clients';
import { systemClock, type Clock } from './clock';
import { Engine } from './engine';

export interface Runtime {
  config: StrandConfig;
  clients: StorageClients;
  clock: Clock;
  logger: Logger;
  engine: Engine;
}

export interface RuntimeOptions {
  config?: StrandConfig;
  clients?: StorageClients;
  clock?: Clock;
  logger?: Logger;
}

export function createRuntime(options: RuntimeOptions = {}): Runtime {
  const config = options.config ?? loadConfig();
  const clients = options.clients ?? createClients();
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? new Logger({ serviceName: 'strand' });
  const engine = new Engine({ config, clients, clock, logger });
  return { config, clients, clock, logger, engine };
}

/** The runtime of a Lambda execution environment, created on first use from the environment. */
let environmentRuntime: Runtime | undefined;
export function runtimeFromEnvironment(): Runtime {
  environmentRuntime ??= createRuntime();
  return environmentRuntime;
}

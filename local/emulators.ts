/**
 * The embedded S3 and DynamoDB emulators (s3rver and dynalite), persisting under
 * a data directory, so `npm start` and the tests need nothing but Node.js.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
// Neither package ships types; their surface used here is small.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: Record<string, unknown>) => import('node:net').Server;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  context: { logger: unknown };
};

const quietLogger = { info() {}, warn() {}, error() {}, debug() {}, log() {} };

export interface Emulators {
  dynamodbEndpoint: string;
  s3Endpoint: string;
  /** Process ids of the emulators when they run in processes of their own (CPU accounting in the bench). */
  pids?: { s3: number; dynamodb: number };
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  dataDir: string;
  host?: string;
  /** 0 picks free ports. */
  dynamodbPort?: number;
  s3Port?: number;
}

export interface Emulator {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * dynalite persisting under `dataDir`/dynamodb (LevelDB), or, with `dataDir`
 * null, in memory (nothing on disk; gone when stopped: the simulation's fresh
 * emulators).
 */
export async function startDynamoDbEmulator(dataDir: string | null, host = '127.0.0.1', port = 0): Promise<Emulator> {
  let path: string | undefined;
  if (dataDir !== null) {
    path = join(dataDir, 'dynamodb');
    mkdirSync(path, { recursive: true });
  }
  const ddb = dynalite({ ...(path ? { path } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    ddb.once('error', reject);
    ddb.listen(port, host, () => resolve());
  });
  return { endpoint: `http://${host}:${(ddb.address() as AddressInfo).port}`, stop: () => closeServer(ddb) };
}

export async function startS3Emulator(dataDir: string, host = '127.0.0.1', port = 0): Promise<Emulator> {
  const dir = join(dataDir, 's3');
  mkdirSync(dir, { recursive: true });
  const s3 = new S3rver({ address: host, port, directory: dir, silent: true });
  // s3rver's request handlers log through a winston logger whose only transport is
  // silenced, and winston then warns on every write; a no-op logger keeps it quiet.
  s3.context.logger = quietLogger;
  const address = await s3.run();
  return { endpoint: `http://${host}:${address.port}`, stop: () => s3.close() };
}

export async function startEmulators(options: EmulatorOptions): Promise<Emulators> {
  const host = options.host ?? '127.0.0.1';
  const ddb = await startDynamoDbEmulator(options.dataDir, host, options.dynamodbPort ?? 0);
  let s3: Emulator;
  try {
    s3 = await startS3Emulator(options.dataDir, host, options.s3Port ?? 0);
  } catch (err) {
    await ddb.stop();
    throw err;
  }
  return {
    dynamodbEndpoint: ddb.endpoint,
    s3Endpoint: s3.endpoint,
    async stop() {
      await s3.stop();
      await ddb.stop();
    },
  };
}

function closeServer(server: import('node:net').Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

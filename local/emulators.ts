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
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  dataDir: string;
  host?: string;
  /** 0 picks free ports. */
  dynamodbPort?: number;
  s3Port?: number;
}

export async function startEmulators(options: EmulatorOptions): Promise<Emulators> {
  const host = options.host ?? '127.0.0.1';
  const ddbDir = join(options.dataDir, 'dynamodb');
  const s3Dir = join(options.dataDir, 's3');
  mkdirSync(ddbDir, { recursive: true });
  mkdirSync(s3Dir, { recursive: true });

  const ddb = dynalite({ path: ddbDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    ddb.once('error', reject);
    ddb.listen(options.dynamodbPort ?? 0, host, () => resolve());
  });
  const s3 = new S3rver({ address: host, port: options.s3Port ?? 0, directory: s3Dir, silent: true });
  // s3rver's request handlers log through a winston logger whose only transport is
  // silenced, and winston then warns on every write; a no-op logger keeps it quiet.
  s3.context.logger = quietLogger;
  let s3Address: AddressInfo;
  try {
    s3Address = await s3.run();
  } catch (err) {
    await closeServer(ddb);
    throw err;
  }
  return {
    dynamodbEndpoint: `http://${host}:${(ddb.address() as AddressInfo).port}`,
    s3Endpoint: `http://${host}:${s3Address.port}`,
    async stop() {
      await s3.close();
      await closeServer(ddb);
    },
  };
}

function closeServer(server: import('node:net').Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * `npm start`: a local Strand on http://127.0.0.1:8082.
 *   PORT, HOST              where the API listens
 *   STRAND_DATA_DIR         where the embedded emulators persist (default ./.strand)
 *   STRAND_MAINTENANCE_INTERVAL_MS  how often retention, compaction and the object sweep run (default 60000; 0 = never)
 *   AWS_ENDPOINT_URL        use this S3/DynamoDB endpoint (LocalStack) instead of the emulators
 *   STRAND_AUTH             `keys` turns API keys on (default `none`; docs/security.md)
 *   STRAND_BOOTSTRAP_ADMIN_KEY  with STRAND_AUTH=keys: an admin key for creating the first stored key
 *   STRAND_LOG_LEVEL (or LOG_LEVEL)  the request log: one line per request at info (default); warn shows 5xx only; silent turns it off
 *   STRAND_METRICS_GROUPS_MAX  consumer groups a GET /metrics scrape reads for lag (default 100)
 *   STRAND_CLUSTER_ID, STRAND_BUCKET, STRAND_*_TABLE  see src/config/env.ts
 */
// Current AWS SDK releases still run on Node.js 20; their notice about future ones is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { randomBytes } from 'node:crypto';
import { startLocalStrand } from './startLocalStrand';
import { bootstrapKeyCharsMin } from '../src/auth/ApiKeyStore';
import { createRequestLog, logLevelFromEnv } from '../src/metrics/requestLog';

async function main(): Promise<void> {
  const endpoint = process.env.AWS_ENDPOINT_URL || undefined;
  const dataDir = process.env.STRAND_DATA_DIR || '.strand';
  const strand = await startLocalStrand({
    port: process.env.PORT ? Number(process.env.PORT) : 8082,
    host: process.env.HOST || '127.0.0.1',
    dataDir,
    endpoint,
    maintenanceIntervalMs: process.env.STRAND_MAINTENANCE_INTERVAL_MS ? Number(process.env.STRAND_MAINTENANCE_INTERVAL_MS) : 60_000,
    requestLog: createRequestLog(logLevelFromEnv()),
  });
  const storage = endpoint ? `storage at ${endpoint}` : `embedded S3 and DynamoDB, data in ${dataDir}`;
  console.log(`Strand is running at ${strand.url} (cluster '${strand.runtime.config.clusterId}', ${storage}). Ctrl-C stops it.`);
  console.log(`Prometheus metrics at ${strand.url}/metrics; API reference at ${strand.url}/openapi.json. One log line per request (STRAND_LOG_LEVEL=warn or silent quiets it).`);
  if (strand.runtime.config.auth === 'keys') printAuthHint(strand.runtime.config.bootstrapAdminKey);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping Strand…`);
    strand.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('Strand did not stop cleanly:', err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/** API keys are on: say how to get the first key (docs/security.md). */
function printAuthHint(bootstrap: string | undefined): void {
  if (bootstrap && bootstrap.length >= bootstrapKeyCharsMin) {
    console.log('API keys are on (STRAND_AUTH=keys). STRAND_BOOTSTRAP_ADMIN_KEY is accepted as an admin key; create a real one with');
    console.log('  STRAND_API_KEY="$STRAND_BOOTSTRAP_ADMIN_KEY" npx strand keys create --name admin --allow admin:cluster');
    console.log('then restart without STRAND_BOOTSTRAP_ADMIN_KEY.');
    return;
  }
  if (bootstrap) console.log(`STRAND_BOOTSTRAP_ADMIN_KEY is shorter than ${bootstrapKeyCharsMin} characters and is ignored.`);
  console.log('API keys are on (STRAND_AUTH=keys): every request but /health needs a key. To create the first one, restart with a bootstrap key, e.g.');
  console.log(`  STRAND_AUTH=keys STRAND_BOOTSTRAP_ADMIN_KEY=${randomBytes(24).toString('base64url')} npm start`);
  console.log('(keys created earlier in this data directory keep working).');
}

main().catch((err: unknown) => {
  const e = err as { code?: string; message?: string };
  if (e.code === 'EADDRINUSE') console.error(`Strand could not start: the port is in use (${e.message}). Set PORT to another port.`);
  else console.error('Strand could not start:', err);
  process.exit(1);
});

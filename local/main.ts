/**
 * `npm start`: a local Strand on http://127.0.0.1:8082.
 *   PORT, HOST              where the API listens
 *   STRAND_DATA_DIR         where the embedded emulators persist (default ./.strand)
 *   STRAND_MAINTENANCE_INTERVAL_MS  how often retention, compaction and the object sweep run (default 60000; 0 = never)
 *   AWS_ENDPOINT_URL        use this S3/DynamoDB endpoint (LocalStack) instead of the emulators
 *   STRAND_CLUSTER_ID, STRAND_BUCKET, STRAND_*_TABLE  see src/config/env.ts
 */
// Current AWS SDK releases still run on Node.js 20; their notice about future ones is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { startLocalStrand } from './startLocalStrand';

async function main(): Promise<void> {
  const endpoint = process.env.AWS_ENDPOINT_URL || undefined;
  const dataDir = process.env.STRAND_DATA_DIR || '.strand';
  const strand = await startLocalStrand({
    port: process.env.PORT ? Number(process.env.PORT) : 8082,
    host: process.env.HOST || '127.0.0.1',
    dataDir,
    endpoint,
    maintenanceIntervalMs: process.env.STRAND_MAINTENANCE_INTERVAL_MS ? Number(process.env.STRAND_MAINTENANCE_INTERVAL_MS) : 60_000,
  });
  const storage = endpoint ? `storage at ${endpoint}` : `embedded S3 and DynamoDB, data in ${dataDir}`;
  console.log(`Strand is running at ${strand.url} (cluster '${strand.runtime.config.clusterId}', ${storage}). Ctrl-C stops it.`);

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

main().catch((err: unknown) => {
  const e = err as { code?: string; message?: string };
  if (e.code === 'EADDRINUSE') console.error(`Strand could not start: the port is in use (${e.message}). Set PORT to another port.`);
  else console.error('Strand could not start:', err);
  process.exit(1);
});

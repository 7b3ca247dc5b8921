/**
 * The bench's clients, in a process of their own: SDK producers and consumers,
 * and the raw S3/DynamoDB calls that measure the storage ceiling. On AWS the
 * clients are other machines; here a separate process lets the bench report
 * the clients' CPU apart from Strand's (the gateway and the Lambda handlers)
 * and the emulators'. The parent (bench/index.ts) sends one command at a time
 * over IPC and gets its result back.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { subscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { StrandClient } from '../client';
import { createClients, type StorageClients } from '../src/storage/clients';
import { emulatorCredentials } from '../local/emulatorCredentials';
import { percentile, runFor } from './benchUtil';

export interface GeneratorSetup {
  strandUrl: string;
  s3Endpoint: string;
  dynamodbEndpoint: string;
  bucket: string;
  logTable: string;
}

export type Command =
  | { cmd: 'setup'; setup: GeneratorSetup }
  | { cmd: 'rawPut'; seconds: number; workers: number; bytes: number; prefix: string }
  | { cmd: 'floor'; seconds: number; workers: number; bytes: number; prefix: string; recordsPerBatch: number }
  | { cmd: 'produce'; topic: string; seconds: number; producers: number; partitions: number; recordsPerBatch: number; recordBytes: number; batchSize: number; direct: boolean }
  | { cmd: 'rawGet'; seconds: number; workers: number }
  | { cmd: 'fetch'; topic: string; consumers: number; partitions: number; totalRecords: number; direct: boolean }
  | { cmd: 'e2e'; topic: string; messages: number };

/** Requests the SDK made straight to S3 (the direct data plane's presigned PUTs and ranged GETs). */
export interface DirectS3Counts {
  puts: number;
  gets: number;
}

let setup: GeneratorSetup;
let storage: StorageClients;
let client: StrandClient;
let rawKeys: string[] = [];
const direct: DirectS3Counts = { puts: 0, gets: 0 };

// The SDK reaches presigned S3 URLs with node:http (client/objectHttp.ts): count
// those requests, as the middleware on Strand's own storage clients counts
// Strand's. Produce and fetch phases make no other request to the S3 endpoint.
subscribe('http.client.request.start', (message) => {
  const request = (message as { request: ClientRequest }).request;
  if (!setup || `${request.protocol}//${request.getHeader('host')}` !== new URL(setup.s3Endpoint).origin) return;
  if (request.method === 'PUT') direct.puts++;
  else if (request.method === 'GET') direct.gets++;
});

async function run(command: Command): Promise<unknown> {
  switch (command.cmd) {
    case 'setup': {
      setup = command.setup;
      storage = {
        s3: createClients({ endpoint: setup.s3Endpoint, credentials: emulatorCredentials }).s3,
        ...(({ dynamodb, ddb }) => ({ dynamodb, ddb }))(createClients({ endpoint: setup.dynamodbEndpoint, credentials: emulatorCredentials })),
      };
      client = new StrandClient({ url: setup.strandUrl, logger: { warn: () => {} } });
      return { ok: true };
    }
    case 'rawPut': {
      // The ceiling: raw PUTs of a batch's size at the same concurrency.
      const body = Buffer.alloc(command.bytes, 7);
      rawKeys = [];
      let puts = 0;
      const seconds = await runFor(command.seconds, command.workers, async (w, i) => {
        const key = `${command.prefix}/${w}-${i}`;
        await storage.s3.send(new PutObjectCommand({ Bucket: setup.bucket, Key: key, Body: body }));
        rawKeys.push(key);
        puts++;
      });
      return { count: puts, seconds };
    }
    case 'floor': {
      // The storage floor of design.md's protocol: the same PUT, then one atomic
      // UpdateItem (the commit), nothing else — what any implementation of it pays.
      const body = Buffer.alloc(command.bytes, 7);
      let appends = 0;
      const seconds = await runFor(command.seconds, command.workers, async (w, i) => {
        await storage.s3.send(new PutObjectCommand({ Bucket: setup.bucket, Key: `${command.prefix}/${w}-${i}`, Body: body }));
        await storage.ddb.send(
          new UpdateCommand({
            TableName: setup.logTable,
            Key: { pk: `${command.prefix}#${w}`, sk: -1 },
            UpdateExpression: 'SET e = list_append(if_not_exists(e, :empty), :entry) ADD hw :n',
            ExpressionAttributeValues: { ':empty': [], ':entry': [`floor ${i}`], ':n': command.recordsPerBatch },
          }),
        );
        appends++;
      });
      return { count: appends, seconds };
    }
    case 'produce': {
      // Through the SDK: each worker its own partition, one batch per send.
      const value = Buffer.alloc(command.recordBytes, 1);
      const latencies: number[] = [];
      let batches = 0;
      direct.puts = direct.gets = 0;
      const producers = Array.from({ length: command.producers }, () =>
        client.producer({ lingerMs: 0, batchSize: command.batchSize, directUploadBytes: command.direct ? 0 : Infinity }),
      );
      const seconds = await runFor(command.seconds, command.producers, async (w) => {
        const t0 = performance.now();
        await producers[w]!.send({ topic: command.topic, messages: Array.from({ length: command.recordsPerBatch }, () => ({ value, partition: w % command.partitions })) });
        latencies.push(performance.now() - t0);
        batches++;
      });
      await Promise.all(producers.map((p) => p.close()));
      return { count: batches, seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), directPuts: direct.puts };
    }
    case 'rawGet': {
      // The ceiling: raw GETs of the raw PUT's objects at the same concurrency.
      let gets = 0;
      const seconds = await runFor(command.seconds, command.workers, async (w, i) => {
        const key = rawKeys[(w * 7919 + i) % rawKeys.length]!;
        const out = await storage.s3.send(new GetObjectCommand({ Bucket: setup.bucket, Key: key }));
        await out.Body!.transformToByteArray();
        gets++;
      });
      return { count: gets, seconds };
    }
    case 'fetch': {
      // Consumers split the partitions and read everything produced.
      direct.puts = direct.gets = 0;
      let consumed = 0;
      const mib = 1024 * 1024;
      const start = performance.now();
      const consumers = Array.from({ length: Math.min(command.consumers, command.partitions) }, () =>
        client.consumer({ maxBytesPerPartition: 4 * mib, maxWaitTimeInMs: 100, autoOffsetReset: 'earliest', directFetch: command.direct }),
      );
      await new Promise<void>((resolve, reject) => {
        consumers.forEach((c, i) => {
          const mine = Array.from({ length: command.partitions }, (_, p) => p).filter((p) => p % consumers.length === i);
          c.assign(mine.map((partition) => ({ topic: command.topic, partition })), { fromBeginning: true });
          c.on('crash', reject);
          void c.run({
            partitionsConsumedConcurrently: mine.length,
            eachBatch: async ({ batch }) => {
              consumed += batch.messages.length;
              if (consumed >= command.totalRecords) resolve();
            },
          });
        });
      });
      const seconds = (performance.now() - start) / 1000;
      await Promise.all(consumers.map((c) => c.close()));
      return { seconds, directGets: direct.gets };
    }
    case 'e2e': {
      // A record's way from send() to a waiting consumer (default config: the notice socket where there is one).
      const e2e: number[] = [];
      const consumer = client.consumer({ maxWaitTimeInMs: 5000, autoOffsetReset: 'latest' });
      consumer.assign([{ topic: command.topic, partition: 0 }]);
      const sentAt = new Map<string, number>();
      void consumer.run({
        eachMessage: async ({ message }) => {
          const t = sentAt.get(message.value!.toString());
          if (t !== undefined) e2e.push(performance.now() - t);
        },
      });
      await new Promise((r) => setTimeout(r, 500));
      const producer = client.producer({ lingerMs: 0 });
      for (let i = 0; i < command.messages; i++) {
        sentAt.set(`e2e-${i}`, performance.now());
        await producer.send({ topic: command.topic, messages: [{ value: `e2e-${i}`, partition: 0 }] });
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 1000));
      await producer.close();
      await consumer.close();
      return { p50: percentile(e2e, 50) };
    }
  }
}

process.on('message', (message: { id: number; command: Command } | { exit: true }) => {
  if ('exit' in message) process.exit(0);
  run(message.command).then(
    (result) => process.send!({ id: message.id, result }),
    (err: unknown) => process.send!({ id: message.id, error: err instanceof Error ? err.stack ?? err.message : String(err) }),
  );
});
process.send!({ ready: true });

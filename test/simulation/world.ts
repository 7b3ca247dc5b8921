/**
 * The storage a simulation runs against: dynalite (in memory) and s3rver, in
 * this process, shared by every seed of the process (each seed has a topic id
 * of its own, so seeds never see each other's data), and per seed fresh SDK
 * clients carrying the simulation's middleware:
 *
 *   initialize (outermost)  counts the requests an actor has in progress, and
 *                           reads an S3 body to the end before handing it over
 *                           (so no socket I/O of an actor happens unseen)
 *   finalizeRequest (after the SDK's retry middleware, so every attempt passes)
 *                           parks an actor's attempt until the scheduler lets it
 *                           go, and carries out the fault the scheduler chose
 *                           for it; observes which S3 objects were written and
 *                           deleted (for every request, the checker's too)
 *
 * Requests made outside any actor (the invariant checker, the set-up) pass
 * straight through: the actor is found with AsyncLocalStorage.
 */
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { loadConfig, type StrandConfig } from '../../src/config/env';
import { createClients, type StorageClients } from '../../src/storage/clients';
import { startDynamoDbEmulator, startS3Emulator, type Emulator } from '../../local/emulators';
import { emulatorCredentials } from '../../local/emulatorCredentials';
import { provisionStorage } from '../../local/provision';

export type Service = 's3' | 'dynamodb';

/** What the gate needs from whoever schedules: the hooks the middleware calls. */
export interface GateHooks {
  /** The actor a request belongs to (AsyncLocalStorage), or undefined (passes through). */
  actorOf(): GatedActor | undefined;
  /** A request of `actor` reached the gate: resolves with what to do with it. */
  park(actor: GatedActor, call: CallInfo): Promise<Decision>;
  /** Something an actor does changed (a request started or ended): the scheduler looks again. */
  changed(): void;
}

export interface GatedActor {
  inProgress: number;
  crashed: boolean;
}

export interface CallInfo {
  service: Service;
  command: string;
  /** As sent (DynamoDB values marshalled). */
  input: Record<string, unknown>;
  /** Set once sent: whether the emulator applied it ('refused': it answered an error, e.g. a failed condition). */
  outcome?: 'applied' | 'refused';
}

export type FaultKind = '500' | 'reset' | 'timeout';
export type Decision =
  | { kind: 'go' }
  /** Apply the request, then lose its reply with this error (the SDK may retry). */
  | { kind: 'fault'; fault: FaultKind }
  /** The actor's process dies: before the request is sent, or after it applied. */
  | { kind: 'crash'; when: 'before' | 'after' };

export interface ObjectLedger {
  /** Keys PUT (by anyone), in order. */
  written: Set<string>;
  /** Keys deleted (DeleteObject / DeleteObjects that applied). */
  deleted: Set<string>;
}

export interface World {
  config: StrandConfig;
  endpoints: { s3: string; dynamodb: string };
  stop(): Promise<void>;
}

let shared: Promise<World> | undefined;
let sharedStop: (() => Promise<void>) | undefined;

/** The process's emulators and tables, started on first use. */
export function world(): Promise<World> {
  shared ??= startWorld();
  return shared;
}

export async function stopWorld(): Promise<void> {
  const stop = sharedStop;
  shared = undefined;
  sharedStop = undefined;
  await stop?.();
}

async function startWorld(): Promise<World> {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dir = mkdtempSync(join(base, 'strand-sim-'));
  const ddb: Emulator = await startDynamoDbEmulator(null);
  let s3: Emulator;
  try {
    s3 = await startS3Emulator(dir);
  } catch (err) {
    await ddb.stop();
    throw err;
  }
  const config: StrandConfig = { ...loadConfig({}), clusterId: 'sim', bucket: 'strand-sim' };
  const admin = buildClients({ s3: s3.endpoint, dynamodb: ddb.endpoint });
  await provisionStorage(config, admin.s3, admin.dynamodb);
  admin.s3.destroy();
  admin.dynamodb.destroy();
  const stop = async () => {
    await s3.stop();
    await ddb.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  sharedStop = stop;
  return { config, endpoints: { s3: s3.endpoint, dynamodb: ddb.endpoint }, stop };
}

/**
 * SDK clients exactly as src/storage/clients.ts builds them for an endpoint,
 * except the retry backoff: the SDK still retries as configured (3 attempts,
 * standard mode, its retry quota), but waits 1 ms instead of ~100 ms between
 * attempts, as simulated time needs no real waiting.
 */
function buildClients(endpoints: { s3: string; dynamodb: string }): StorageClients {
  const s3 = createClients({ endpoint: endpoints.s3, credentials: emulatorCredentials }).s3;
  const { dynamodb, ddb } = createClients({ endpoint: endpoints.dynamodb, credentials: emulatorCredentials });
  for (const client of [s3, dynamodb]) {
    const strategy = new ConfiguredRetryStrategy(3, 1);
    (client.config as { retryStrategy: unknown }).retryStrategy = async () => strategy;
  }
  return { s3, dynamodb, ddb };
}

/** Requests sent, by actors and from outside them (the checker, the set-up): for tuning. */
export const requestCounts = { actors: 0, outside: 0 };

const never = () => new Promise<never>(() => {});

export function lostReply(fault: FaultKind, service: Service): Error {
  switch (fault) {
    case '500':
      return service === 's3'
        ? Object.assign(new Error('We encountered an internal error. Please try again.'), { name: 'InternalError', $fault: 'server', $metadata: { httpStatusCode: 500 } })
        : Object.assign(new Error('Internal server error'), { name: 'InternalServerError', $fault: 'server', $metadata: { httpStatusCode: 500 } });
    case 'timeout':
      return Object.assign(new Error('Connection timed out after 10000 ms'), { name: 'TimeoutError', code: 'ETIMEDOUT' });
    case 'reset':
      return Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
  }
}

/** An S3 body already read to the end: what ObjectStore uses of a streaming body. */
function bufferedBody(bytes: Uint8Array) {
  return {
    transformToByteArray: async () => bytes,
    transformToString: async (encoding?: string) => Buffer.from(bytes).toString((encoding ?? 'utf8') as BufferEncoding),
    transformToWebStream: () => {
      throw new Error('simulation: web streams are not supported');
    },
  };
}

/** Fresh SDK clients for one seed, gated by `hooks`, recording objects in `ledger`. */
export function gatedClients(w: World, hooks: GateHooks, ledger: ObjectLedger): StorageClients {
  const clients = buildClients(w.endpoints);
  for (const service of ['s3', 'dynamodb'] as const) {
    const client = service === 's3' ? clients.s3 : clients.dynamodb;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const stack = client.middlewareStack as any;
    stack.add(
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      (next: any) => async (args: any) => {
        const actor = hooks.actorOf();
        if (!actor) return next(args);
        actor.inProgress++;
        hooks.changed();
        try {
          const out = await next(args);
          const body = out?.output?.Body;
          if (service === 's3' && body && typeof body.transformToByteArray === 'function') {
            out.output.Body = bufferedBody(await body.transformToByteArray());
          }
          return out;
        } finally {
          actor.inProgress--;
          hooks.changed();
        }
      },
      { step: 'initialize', priority: 'high', name: `simulationProgress-${service}` },
    );
    stack.add(
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      (next: any, context: any) => async (args: any) => {
        const command = String(context.commandName ?? '');
        const input = (args.input ?? {}) as Record<string, unknown>;
        const call: CallInfo = { service, command, input };
        const send = async () => {
          let out;
          try {
            out = await next(args);
          } catch (err) {
            call.outcome = 'refused';
            throw err;
          }
          call.outcome = 'applied';
          if (service === 's3') observeObjects(command, input, ledger);
          return out;
        };
        const actor = hooks.actorOf();
        if (!actor) {
          requestCounts.outside++;
          return send();
        }
        requestCounts.actors++;
        if (actor.crashed) return never();
        const decision = await hooks.park(actor, call);
        if (actor.crashed && decision.kind !== 'crash') return never();
        switch (decision.kind) {
          case 'go':
            return send();
          case 'fault':
            // Whatever the emulator answered (a refused condition too), the answer is lost.
            await send().catch(() => undefined);
            throw lostReply(decision.fault, service);
          case 'crash':
            if (decision.when === 'after') await send().catch(() => undefined);
            return never();
        }
      },
      { step: 'finalizeRequest', name: `simulationGate-${service}` },
    );
  }
  return clients;
}

function observeObjects(command: string, input: Record<string, unknown>, ledger: ObjectLedger): void {
  if (command === 'PutObjectCommand' && typeof input.Key === 'string') ledger.written.add(input.Key);
  if (command === 'DeleteObjectCommand' && typeof input.Key === 'string') ledger.deleted.add(input.Key);
  if (command === 'DeleteObjectsCommand') {
    for (const o of (input.Delete as { Objects?: { Key?: string }[] } | undefined)?.Objects ?? []) if (o.Key) ledger.deleted.add(o.Key);
  }
}

/**
 * The scheduler: actors are async operations of the log, each run inside an
 * AsyncLocalStorage context naming it. Every storage request an actor makes
 * parks at the gate (world.ts); the scheduler lets one parked request go at a
 * time and then waits until the system is quiet again: every live actor has
 * all its requests in progress parked (none on the wire, none in an SDK retry
 * wait) and nothing moved for a few turns of the event loop (so the actor's
 * JavaScript between two requests ran to its next request or its end).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { CallInfo, Decision, GateHooks, GatedActor } from './world';

export interface Actor extends GatedActor {
  id: number;
  name: string;
  kind: string;
  /** Sequence number of the actor's next request. */
  seq: number;
  parked: Parked[];
  state: 'running' | 'done' | 'crashed';
  outcome?: { ok: true; value: unknown } | { ok: false; error: unknown };
  done: Promise<void>;
}

export interface Parked extends CallInfo {
  actor: Actor;
  seq: number;
  label: string;
  resolve(decision: Decision): void;
}

export class HarnessError extends Error {
  override name = 'HarnessError';
}

/** Event-loop turns with nothing moving that make the system quiet. */
const quietTurns = 3;
/** Real time a step may take before the harness gives up (a hang is a harness bug or a deadlock). */
const stepTimeoutMs = 15_000;

export class Scheduler implements GateHooks {
  private readonly als = new AsyncLocalStorage<Actor>();
  readonly actors: Actor[] = [];
  private version = 0;
  private waker: (() => void) | undefined;

  actorOf(): Actor | undefined {
    return this.als.getStore();
  }

  park(actor: GatedActor, call: CallInfo): Promise<Decision> {
    const a = actor as Actor;
    return new Promise<Decision>((resolve) => {
      // The gate's own object, so it can tell the scheduler what became of the request.
      a.parked.push(Object.assign(call, { actor: a, seq: a.seq++, label: describeCall(call), resolve }));
      this.changed();
    });
  }

  changed(): void {
    this.version++;
    const w = this.waker;
    this.waker = undefined;
    w?.();
  }

  /** Starts `fn` as an actor; its requests park from now on. */
  spawn(name: string, kind: string, fn: () => Promise<unknown>): Actor {
    const actor: Actor = {
      id: this.actors.length,
      name,
      kind,
      seq: 0,
      parked: [],
      state: 'running',
      inProgress: 0,
      crashed: false,
      done: Promise.resolve(),
    };
    this.actors.push(actor);
    actor.done = this.als.run(actor, async () => {
      try {
        actor.outcome = { ok: true, value: await fn() };
      } catch (error) {
        actor.outcome = { ok: false, error };
      } finally {
        if (actor.state === 'running') actor.state = 'done';
        this.changed();
      }
    });
    return actor;
  }

  /** Runs `fn` outside every actor (its requests pass straight through). */
  outside<T>(fn: () => Promise<T>): Promise<T> {
    return this.als.exit(fn);
  }

  live(): Actor[] {
    return this.actors.filter((a) => a.state === 'running');
  }

  private settled(): boolean {
    return this.live().every((a) => a.parked.length > 0 && a.inProgress === a.parked.length);
  }

  /** Waits until every live actor is parked on all it has in progress, and nothing moves. */
  async waitQuiet(): Promise<void> {
    const started = Date.now();
    let seen = -1;
    let stable = 0;
    for (;;) {
      if (this.version !== seen) {
        seen = this.version;
        stable = 0;
      }
      if (this.settled()) {
        if (++stable >= quietTurns) return;
        await nextTurn();
        continue;
      }
      stable = 0;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5);
        this.waker = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (Date.now() - started > stepTimeoutMs) {
        const stuck = this.live()
          .filter((a) => !(a.parked.length > 0 && a.inProgress === a.parked.length))
          .map((a) => `${a.name} (in progress ${a.inProgress}, parked ${a.parked.length})`);
        throw new HarnessError(`the system did not become quiet within ${stepTimeoutMs} ms: ${stuck.join(', ')}`);
      }
    }
  }

  /** Every parked request, in a deterministic order: actor id, then the actor's request sequence. */
  parkedCalls(): Parked[] {
    return this.live()
      .flatMap((a) => a.parked)
      .sort((x, y) => x.actor.id - y.actor.id || x.seq - y.seq);
  }

  /** Lets one parked request go with `decision`. A crash stops its actor for good: nothing of it runs again. */
  release(call: Parked, decision: Decision): void {
    const actor = call.actor;
    actor.parked = actor.parked.filter((p) => p !== call);
    if (decision.kind === 'crash') {
      actor.crashed = true;
      actor.state = 'crashed';
      for (const other of actor.parked) other.resolve({ kind: 'crash', when: 'before' });
      actor.parked = [];
    }
    call.resolve(decision);
    this.changed();
  }
}

const text = (input: Record<string, unknown>, field: string): string => (typeof input[field] === 'string' ? (input[field] as string) : '');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const attr = (v: any): string => (v === undefined || v === null ? '?' : typeof v === 'object' ? String(v.S ?? v.N ?? '?') : String(v));

/** A short name of a request for schedules: what it is, on which key. */
export function describeCall(call: CallInfo): string {
  const input = call.input;
  const cmd = call.command.replace(/Command$/, '');
  if (call.service === 's3') {
    const key = typeof input.Key === 'string' ? input.Key.split('/').pop()!.slice(-6) : '';
    if (cmd === 'DeleteObjects') return `S3 DeleteObjects(${((input.Delete as { Objects?: unknown[] })?.Objects ?? []).length})`;
    return `S3 ${cmd}${key ? ` …${key}` : ''}${typeof input.Range === 'string' ? ` ${input.Range}` : ''}`;
  }
  return `DDB ${classifyDynamoDb(input, cmd)}`;
}

/** What a DynamoDB request of the log is, from its expressions (robust to the code moving). */
export function classifyDynamoDb(input: Record<string, unknown>, cmd = ''): string {
  const update = text(input, 'UpdateExpression');
  const condition = text(input, 'ConditionExpression');
  const key = (input.Key ?? input.Item) as Record<string, unknown> | undefined;
  const table = text(input, 'TableName');
  const where = key ? `${table.includes('lease') ? 'lease' : ''}${key.sk !== undefined ? `@${attr(key.sk)}` : ''}` : '';
  if (update.includes('list_append(if_not_exists(e')) return /#p\.n\b/.test(condition) ? 'idempotent-commit' : 'commit';
  if (/ADD epoch/.test(update) && /holder = /.test(update)) return 'lease-acquire';
  if (/expiresAt = :zero/.test(update)) return 'lease-release';
  if (/^\s*REMOVE e\[/.test(update)) return 'head-trim';
  if (/^\s*REMOVE #r\d/.test(update)) return 'producer-trim';
  if (/\bSET lso = /.test(update)) return 'advance-log-start';
  if (/\bSET le = /.test(update) && !update.includes('REMOVE')) return 'fence';
  if (cmd === 'PutItem' && condition.includes('size(e)')) return `spill-chunk-put${where}`;
  if (cmd === 'PutItem' && condition.includes('h = :old')) return `replace-chunk${where}`;
  if (cmd === 'DeleteItem') return `delete${where}`;
  if (cmd === 'GetItem') return `get${where}`;
  if (cmd === 'Query') return `query`;
  return `${cmd}${update ? ` ${update.slice(0, 40)}` : ''}${where}`;
}

/**
 * Sends a write at most once per call, whatever the client's retry policy.
 *
 * The AWS SDK retries a request whose reply was lost (a 500, a reset, a
 * timeout) by sending it again. For a write that is not idempotent — the
 * append's `list_append` + `ADD hw` — that replays a write DynamoDB may already
 * have applied, and the record is appended twice. Such a write goes through
 * `singleAttempt`: the first failure comes back to the caller at once (wrapped
 * in `ReplyLostError`, so the SDK does not retry it), and the caller finds out
 * whether the write applied before it tries again (PartitionIndex.commit).
 */
import type { Handler, MiddlewareStack } from '@smithy/types';
import { isTransientStorageError } from './storageErrors';

/**
 * The one attempt failed without a definite answer: the write may or may not
 * have been applied. `cause` is the SDK's error; storage error classification
 * follows it, so a transient cause is still a transient failure.
 */
export class ReplyLostError extends Error {
  override readonly name = 'ReplyLostError';
  constructor(override readonly cause: unknown) {
    super(`The storage reply was lost (${(cause as Error | undefined)?.name ?? String(cause)}); the write may have been applied.`);
  }
}

interface HasMiddlewareStack {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  middlewareStack: MiddlewareStack<any, any>;
}

/** Marks `command` to be sent once: the SDK's retry middleware gets no second attempt. */
export function singleAttempt<C extends HasMiddlewareStack>(command: C): C {
  let attempts = 0;
  command.middlewareStack.addRelativeTo(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    (next: Handler<any, any>) => async (args: any) => {
      attempts++;
      // A second pass means the retry middleware decided to retry something this
      // wrapper did not see fail (an error raised outside it): refuse it too.
      if (attempts > 1) throw new ReplyLostError(new Error('a retry of a single-attempt write'));
      try {
        return await next(args);
      } catch (err) {
        // Only a failure that may hide an applied write is wrapped: a refused
        // condition or a validation error is a definite answer.
        if (!isTransientStorageError(err)) throw err;
        throw new ReplyLostError(err);
      }
    },
    { name: 'strandSingleAttempt', relation: 'after', toMiddleware: 'retryMiddleware', override: true },
  );
  return command;
}

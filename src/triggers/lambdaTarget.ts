/**
 * The `lambda` target: Lambda's Invoke, RequestResponse, with the event as the
 * payload, as an event source mapping invokes its function. The invocation
 * succeeds when Lambda answers 2xx without a `FunctionError` (and its result
 * may report a partial batch failure: src/triggers/batchItemFailures.ts); a function
 * error (the handler threw, timed out or ran out of memory), a non-2xx
 * status, an SDK error (throttled, no permission, no such function) or an
 * abort is a failed batch, retried, bisected and dead-lettered as any other.
 *
 * The payload is bounded by Lambda's 6 MB synchronous request limit: the
 * event builder keeps an event under `eventBytesMax` (src/triggers/kafkaEvent.ts,
 * 6 MiB less 64 KiB, from upper bounds of each record's JSON), except that a
 * delivery always carries one record: a single record bigger than the limit
 * cannot be invoked, fails here before any request, and ends in the
 * dead-letter topic once the retries are used up.
 *
 * Only the dispatcher Lambda on AWS delivers to these (a local Strand refuses
 * them at create time); `AWS_ENDPOINT_URL` points the client elsewhere, as for
 * every other AWS client of Strand.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DeliveryFailedError, jsonAnswer } from './targets';
import type { KafkaEvent } from './kafkaEvent';
import type { Target } from './triggerSpec';

/** Lambda's synchronous invocation request limit (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). */
export const lambdaRequestBytesMax = 6 * 1024 * 1024;
/** Characters of a function error's message kept in the failure (and a dead letter's `strand.error`). */
const errorMessageCharsMax = 500;

let sharedClient: LambdaClient | undefined;

/** One client per process; the SDK's own retries stay on (throttling, transient network errors) within the delivery's timeout. */
function client(): LambdaClient {
  sharedClient ??= new LambdaClient({});
  return sharedClient;
}

export async function invokeLambdaTarget(
  target: Extract<Target, { type: 'lambda' }>,
  event: KafkaEvent,
  signal: AbortSignal,
  lambda: LambdaClient = client(),
): Promise<unknown> {
  const payload = Buffer.from(JSON.stringify(event), 'utf8');
  if (payload.length > lambdaRequestBytesMax) {
    throw new DeliveryFailedError(`event of ${payload.length} bytes exceeds Lambda's ${lambdaRequestBytesMax}-byte request limit (a single record too big to invoke with)`);
  }
  let out;
  try {
    out = await lambda.send(
      new InvokeCommand({
        FunctionName: target.functionArn,
        InvocationType: 'RequestResponse',
        Payload: payload,
      }),
      { abortSignal: signal },
    );
  } catch (err) {
    if (signal.aborted) throw signal.reason instanceof DeliveryFailedError ? signal.reason : new DeliveryFailedError('delivery aborted');
    throw new DeliveryFailedError(`invoke ${target.functionArn} failed: ${describe(err)}`);
  }
  const status = out.StatusCode ?? 0;
  if (out.FunctionError !== undefined) {
    throw new DeliveryFailedError(`function error (${out.FunctionError}): ${errorMessageOf(out.Payload)}`);
  }
  if (status < 200 || status > 299) {
    throw new DeliveryFailedError(`invoke ${target.functionArn} answered ${status}`);
  }
  // The function's result: a partial batch failure answer, or anything else (a success).
  return out.Payload && out.Payload.length > 0 ? jsonAnswer(Buffer.from(out.Payload).toString('utf8')) : undefined;
}

/** `{"errorType": "…", "errorMessage": "…"}`, Lambda's error payload, as one line. */
function errorMessageOf(payload: Uint8Array | undefined): string {
  if (!payload || payload.length === 0) return 'no error payload';
  const text = Buffer.from(payload).toString('utf8');
  try {
    const parsed = JSON.parse(text) as { errorType?: unknown; errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') {
      const type = typeof parsed.errorType === 'string' ? `${parsed.errorType}: ` : '';
      return `${type}${parsed.errorMessage}`.slice(0, errorMessageCharsMax);
    }
  } catch {
    // not JSON: the raw text
  }
  return text.slice(0, errorMessageCharsMax);
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}`;
  return String(err);
}

/**
 * How long each function may run: the Lambda timeout the CDK stack sets
 * (infra/strand.ts) and the one the local gateway enforces (local/gateway.ts),
 * so the two cannot drift. Handlers learn their remaining time from Lambda's
 * `context.getRemainingTimeInMillis()` (src/config/deadline.ts), never from here.
 */
import type { FunctionName } from '../api/routes';

/**
 * API Gateway HTTP API's maximum integration timeout, 30 s, not adjustable
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html).
 * Past it the client gets the gateway's 503 while the function may still run.
 */
export const apiGatewayIntegrationTimeoutMs = 30_000;

/**
 * Seconds per function. Every routed function ends before the 30 s integration
 * timeout, so a slow request ends with the function's own answer (a 503/50301
 * at its deadline), never the gateway's 503 while the function keeps running:
 * - fetch: long polls are bounded at 20 s by the API (`max_wait_ms` ≤ 20000),
 *   plus reading up to 4 MiB from S3; 25 s leaves that margin.
 * - produce: one S3 PUT of ≤ 4 MiB and one or two DynamoDB writes, with the SDK's
 *   retries on throttling; 15 s is generous and still fails fast.
 * - admin, groups, schemas: topic deletion removes the topic's index entries and
 *   objects; 28 s is the most the gateway allows with margin.
 * - maintenance: not behind API Gateway (an EventBridge schedule); minutes of work.
 */
export const functionTimeoutSeconds: Readonly<Record<FunctionName, number>> = {
  admin: 28,
  produce: 15,
  fetch: 25,
  groups: 28,
  schemas: 28,
  maintenance: 300,
};

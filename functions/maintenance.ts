/**
 * Lambda entry point for maintenance (retention, index cleanup, compaction,
 * merging, object sweep): EventBridge's schedule invokes the planner, which
 * hands the work to asynchronous invocations of this same function
 * (src/maintenance/lambdaMaintenance.ts).
 */
import { GetFunctionConcurrencyCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { isWorkEvent, maintenanceDeadlineMarginMs, runPlanner, runWorker, workersFor, type PlannerResult, type WorkerResult } from '../src/maintenance/lambdaMaintenance';
import { runtimeFromEnvironment } from '../src/runtime';

const runtime = runtimeFromEnvironment();
const lambda = new LambdaClient({});
const self = () => process.env.AWS_LAMBDA_FUNCTION_NAME;

/** The function's reserved concurrency, read once per container (undefined: none, or unreadable). */
let reserved: Promise<number | undefined> | undefined;
function reservedConcurrency(): Promise<number | undefined> {
  reserved ??= lambda
    .send(new GetFunctionConcurrencyCommand({ FunctionName: self() }))
    .then((out) => out.ReservedConcurrentExecutions)
    .catch((err: unknown) => {
      runtime.logger.warn('maintenance: reserved concurrency unreadable; default worker count', { error: String(err) });
      return undefined;
    });
  return reserved;
}

export const handler = async (event: unknown, context?: { getRemainingTimeInMillis?: () => number }): Promise<PlannerResult | WorkerResult> => {
  const remaining = context?.getRemainingTimeInMillis?.() ?? 300_000;
  const deadline = runtime.clock.now() + Math.max(0, remaining - maintenanceDeadlineMarginMs);
  if (isWorkEvent(event)) {
    const result = await runWorker(runtime, event, { deadline });
    runtime.logger.info('maintenance work', { result });
    return result;
  }
  const result = await runPlanner(runtime, {
    deadline,
    workers: workersFor(await reservedConcurrency()),
    dispatch: async (work) => {
      await lambda.send(new InvokeCommand({ FunctionName: self(), InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(work)) }));
    },
  });
  runtime.logger.info('maintenance plan', { result });
  return result;
};

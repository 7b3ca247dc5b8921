/**
 * Lambda entry point for the trigger dispatcher: the log table's stream and an
 * EventBridge schedule run triggers' delivery (src/triggers/lambda.ts).
 */
import { createTriggerDispatcherHandler } from '../src/triggers/lambda';
import { runtimeFromEnvironment } from '../src/runtime';

export const handler = createTriggerDispatcherHandler(runtimeFromEnvironment);

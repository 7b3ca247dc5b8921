/**
 * Lambda entry point for `Custom::StrandTrigger`, the CloudFormation custom
 * resource of triggers declared in CDK (`strand.addTrigger`): creates, changes
 * and deletes them through the API's code (src/triggers/customResource.ts).
 */
import { createTriggerResourceHandler } from '../src/triggers/customResource';
import { runtimeFromEnvironment } from '../src/runtime';

export const handler = createTriggerResourceHandler(runtimeFromEnvironment);

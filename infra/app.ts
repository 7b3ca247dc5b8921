/**
 * The CDK app (cdk.json: `npx tsx infra/app.ts`). Settings come from CDK context
 * (`-c key=value` or cdk.json "context"):
 *   stackName  the CloudFormation stack name       (default Strand)
 *   clusterId  the cluster id in /v3/clusters/{id}  (default strand)
 *   dev        true: tables and bucket are deleted with the stack and have no
 *              deletion protection — for trial and LocalStack deployments
 *   noticeSocket  false: no notice socket (WebSocket API, log stream, notifier);
 *              consumers long-poll
 */
import { App, RemovalPolicy } from 'aws-cdk-lib';
import { StrandStack } from './stack';

const app = new App();
const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  return value === undefined || value === null ? undefined : String(value);
};
const dev = context('dev') === 'true';

new StrandStack(app, context('stackName') ?? 'Strand', {
  strand: {
    clusterId: context('clusterId'),
    ...(context('noticeSocket') === 'false' ? { noticeSocket: false } : {}),
    ...(dev ? { removalPolicy: RemovalPolicy.DESTROY, deletionProtection: false } : {}),
  },
});

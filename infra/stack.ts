/**
 * `StrandStack`: a deployable stack holding one `Strand` cluster and its outputs.
 * Environment-agnostic (no account or region baked in), so `cdk synth` needs
 * neither credentials nor network; `cdk deploy` picks the account and region
 * from the AWS CLI settings.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Strand, type StrandProps } from './strand';

export interface StrandStackProps extends StackProps {
  /** Passed to the `Strand` construct. @default the construct's defaults */
  readonly strand?: StrandProps;
}

export class StrandStack extends Stack {
  readonly strand: Strand;

  constructor(scope: Construct, id: string, props: StrandStackProps = {}) {
    super(scope, id, { description: 'Strand: Kafka topics, partitions, offsets and consumer groups on Lambda, S3 and DynamoDB', ...props });
    this.strand = new Strand(this, 'Strand', props.strand);

    new CfnOutput(this, 'ApiUrl', { value: this.strand.url, description: 'Base URL of the Strand HTTP API' });
    new CfnOutput(this, 'ClusterId', { value: this.strand.clusterId, description: 'Cluster id: every v3 path is /v3/clusters/{ClusterId}/…' });
    if (this.strand.noticeSocketUrl) {
      new CfnOutput(this, 'NoticeSocketUrl', { value: this.strand.noticeSocketUrl, description: 'wss:// URL of the notice socket (also answered by GET /v3/clusters/{ClusterId}/notifications)' });
    }
    new CfnOutput(this, 'BucketName', { value: this.strand.bucket.bucketName, description: 'S3 bucket holding record batches' });
    for (const [name, table] of Object.entries(this.strand.tables)) {
      new CfnOutput(this, `${name[0]!.toUpperCase()}${name.slice(1)}TableName`, { value: table.tableName, description: `DynamoDB ${name} table` });
    }
  }
}

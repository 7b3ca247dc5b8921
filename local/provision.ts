/** Creates Strand's bucket and tables when they are missing (embedded emulators, LocalStack). */
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { StrandConfig, TableNames } from '../src/config/env';
import { tableSchemas } from '../src/storage/tables';

/**
 * How long provisioning waits for created tables to become ACTIVE: DynamoDB,
 * LocalStack and dynalite all answer CreateTable with CREATING, and refuse
 * reads and writes (ResourceNotFoundException) until the table is ACTIVE.
 */
export const tableActiveWaitMsMax = 60_000;
const tableActivePollMs = 50;

export async function provisionStorage(config: StrandConfig, s3: S3Client, ddb: DynamoDBClient): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: config.bucket }));
  } catch {
    await s3.send(new CreateBucketCommand({ Bucket: config.bucket }));
  }
  const created: string[] = [];
  for (const [name, schema] of Object.entries(tableSchemas) as [keyof TableNames, (typeof tableSchemas)[keyof TableNames]][]) {
    const tableName = config.tables[name];
    try {
      await ddb.send(new DescribeTableCommand({ TableName: tableName }));
      continue;
    } catch (err) {
      if ((err as { name?: string }).name !== 'ResourceNotFoundException') throw err;
    }
    const keys = [schema.partitionKey, ...(schema.sortKey ? [schema.sortKey] : [])];
    await ddb.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: keys.map((k) => ({ AttributeName: k.name, AttributeType: k.type })),
        KeySchema: [
          { AttributeName: schema.partitionKey.name, KeyType: 'HASH' },
          ...(schema.sortKey ? [{ AttributeName: schema.sortKey.name, KeyType: 'RANGE' as const }] : []),
        ],
      }),
    );
    created.push(tableName);
  }
  for (const tableName of created) await waitUntilActive(ddb, tableName);
}

async function waitUntilActive(ddb: DynamoDBClient, tableName: string): Promise<void> {
  const deadline = Date.now() + tableActiveWaitMsMax;
  for (;;) {
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    if (Date.now() > deadline) throw new Error(`table ${tableName} is still ${Table?.TableStatus ?? 'unknown'} after ${tableActiveWaitMsMax} ms`);
    await new Promise((r) => setTimeout(r, tableActivePollMs));
  }
}

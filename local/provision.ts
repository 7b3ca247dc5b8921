/** Creates Strand's bucket and tables when they are missing (embedded emulators, LocalStack). */
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { StrandConfig, TableNames } from '../src/config/env';
import { tableSchemas } from '../src/storage/tables';

export async function provisionStorage(config: StrandConfig, s3: S3Client, ddb: DynamoDBClient): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: config.bucket }));
  } catch {
    await s3.send(new CreateBucketCommand({ Bucket: config.bucket }));
  }
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
  }
}

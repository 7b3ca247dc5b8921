/** Counts S3 and DynamoDB requests with middleware on the SDK clients: counts, not guesses. */
import type { StorageClients } from '../src/storage/clients';

export interface RequestCounts {
  dynamodb: number;
  s3Puts: number;
  s3Gets: number;
  s3Other: number;
  reset(): void;
}

export function countRequests(clients: StorageClients): RequestCounts {
  const counts: RequestCounts = {
    dynamodb: 0,
    s3Puts: 0,
    s3Gets: 0,
    s3Other: 0,
    reset() {
      this.dynamodb = this.s3Puts = this.s3Gets = this.s3Other = 0;
    },
  };
  clients.dynamodb.middlewareStack.add(
    (next) => async (args) => {
      counts.dynamodb++;
      return next(args);
    },
    { step: 'finalizeRequest', name: 'strandCountDynamoDb' },
  );
  clients.s3.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName;
      if (command === 'PutObjectCommand') counts.s3Puts++;
      else if (command === 'GetObjectCommand') counts.s3Gets++;
      else counts.s3Other++;
      return next(args);
    },
    { step: 'finalizeRequest', name: 'strandCountS3' },
  );
  return counts;
}

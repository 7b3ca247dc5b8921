/**
 * Dollars per unit of work, from measured request counts and the price table.
 * Ingest cost covers what a produce request costs: API Gateway (metered per
 * 512 KB), the produce Lambda (memory × measured duration, plus the request),
 * S3 PUTs (and GETs, on the direct path), and DynamoDB write units. Storage and reads are priced separately.
 */
import { prices } from './prices';

export interface ProduceRequestProfile {
  /** Bytes of one produce request's body. */
  requestBytes: number;
  /** Measured per request. */
  s3Puts: number;
  /** S3 GETs a produce request makes (the direct path's commit reads the upload back to check it). @default 0 */
  s3Gets?: number;
  dynamodbWriteUnits: number;
  dynamodbReadUnits: number;
  /** Handler wall time of one request, in ms (what Lambda bills). */
  lambdaMs: number;
  /** Memory of the produce function, in MiB (infra/access.ts). */
  lambdaMemoryMiB: number;
}

export function usdPerProduceRequest(p: ProduceRequestProfile): number {
  const apiRequests = Math.max(1, Math.ceil(p.requestBytes / prices.apiGateway.meteringBytes));
  const gbSeconds = (p.lambdaMemoryMiB / 1024) * (Math.max(1, Math.ceil(p.lambdaMs)) / 1000);
  return (
    apiRequests * prices.apiGateway.perRequest +
    prices.lambda.perRequest +
    gbSeconds * prices.lambda.perGbSecond +
    p.s3Puts * prices.s3.putPerRequest +
    (p.s3Gets ?? 0) * prices.s3.getPerRequest +
    p.dynamodbWriteUnits * prices.dynamodb.perWriteRequestUnit +
    p.dynamodbReadUnits * prices.dynamodb.perReadRequestUnit
  );
}

const gib = 1024 ** 3;
const gb = 1e9;

export function usdPerGibIngested(p: ProduceRequestProfile): number {
  return (gib / p.requestBytes) * usdPerProduceRequest(p);
}

/** Kinesis on-demand ingest of one GiB in records of `recordBytes` (each rounded up to 1 KB). */
export function kinesisUsdPerGib(recordBytes: number): number {
  const k = prices.kinesisOnDemand;
  const billedBytesPerRecord = Math.ceil(recordBytes / k.recordRoundingBytes) * k.recordRoundingBytes;
  return (gib / recordBytes) * billedBytesPerRecord / gb * k.ingestPerGb;
}

/** MSK Serverless data-in for one GiB (cluster and partition hours come on top). */
export function mskServerlessUsdPerGib(): number {
  return (gib / gb) * prices.mskServerless.dataInPerGb;
}

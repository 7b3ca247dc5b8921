import type { Logger } from '@aws-lambda-powertools/logger';
import type { Clock } from '../clock';
import type { LeaseStore } from './LeaseStore';
import type { ObjectStore } from './ObjectStore';
import type { PartitionIndex } from './PartitionIndex';
import type { ProducerSequences } from '../producers/ProducerSequences';

/** The stores and services the log's operations work with. */
export interface LogContext {
  index: PartitionIndex;
  leases: LeaseStore;
  objects: ObjectStore;
  /** Idempotent appends and producer state in the partition head. */
  producers: ProducerSequences;
  clock: Clock;
  logger: Logger;
  /** Identifies this process as a lease holder. */
  holderId: string;
}

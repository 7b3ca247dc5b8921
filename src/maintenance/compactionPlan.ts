/**
 * Which records a compaction keeps, as Kafka's log cleaner decides: for each key
 * only the record at its latest offset; a tombstone (null value) that is the
 * latest for its key is kept until it is delete.retention.ms old, then dropped.
 * Records without a key are kept (Kafka refuses them on compacted topics; Strand
 * keeps what it accepted). Offsets never change; dropped records leave gaps.
 */
import type { DecodedRecord } from '../codec/recordBatch';

export class CompactionPlan {
  private readonly latest = new Map<string, number>();

  /** Records every record of the partition, oldest first. */
  observe(record: Pick<DecodedRecord, 'key' | 'offset'>): void {
    if (record.key !== null) this.latest.set(record.key.toString('base64'), record.offset);
  }

  keeps(record: DecodedRecord, now: number, deleteRetentionMs: number): boolean {
    if (record.key === null) return true;
    if (this.latest.get(record.key.toString('base64')) !== record.offset) return false;
    return !(record.value === null && record.timestamp < now - deleteRetentionMs);
  }
}

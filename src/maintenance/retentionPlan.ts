/**
 * Where retention moves a partition's log start, as Kafka decides it for
 * segments, here per index entry (one committed append):
 * - retention.ms: drop entries from the oldest while their largest timestamp is
 *   older than now - retention.ms; stop at the first that is not.
 * - retention.bytes: then drop the oldest while what stays is still at least
 *   retention.bytes (Kafka never goes below the limit).
 * -1 disables either. Pure: the caller reads the entries and writes the result.
 */
import type { PlacedEntry } from '../log/indexEntry';
import type { TopicConfig } from '../log/topicConfig';

export function retentionStart(entries: PlacedEntry[], logStartOffset: number, now: number, config: Pick<TopicConfig, 'retention.ms' | 'retention.bytes'>): number {
  let start = logStartOffset;
  let i = 0;
  const retentionMs = config['retention.ms'];
  if (retentionMs >= 0) {
    const cutoff = now - retentionMs;
    while (i < entries.length && entries[i]!.maxTimestamp < cutoff) {
      start = entries[i]!.baseOffset + entries[i]!.span;
      i++;
    }
  }
  const retentionBytes = config['retention.bytes'];
  if (retentionBytes >= 0) {
    let total = 0;
    for (let j = i; j < entries.length; j++) total += entries[j]!.size;
    while (i < entries.length && total - entries[i]!.size >= retentionBytes) {
      total -= entries[i]!.size;
      start = entries[i]!.baseOffset + entries[i]!.span;
      i++;
    }
  }
  return Math.max(start, logStartOffset);
}

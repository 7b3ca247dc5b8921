/**
 * What `strand mirror status` shows: per partition, how far behind the target
 * is (records, and seconds: the age of the oldest source record not yet
 * copied), the last error; per mirror, its state and last error. Saved in the
 * mirror's state after every pass (mirrorState.ts), and published as metrics
 * by the Lambda (functions/mirror.ts).
 */

export type MirrorRunState = 'starting' | 'copying' | 'caught-up' | 'failing' | 'stopped';

export interface PartitionStatus {
  sourceTopic: string;
  targetTopic: string;
  partition: number;
  /** The source's high watermark when last read. */
  sourceHighWatermark: number;
  /** The next source offset to copy. */
  nextSourceOffset: number;
  /** Records on the source not yet on the target. */
  lagRecords: number;
  /** Age of the oldest record not yet copied, in seconds (0 when caught up). */
  lagSeconds: number;
  /** Records the source's retention removed before they could be copied. */
  skippedRecords: number;
  lastError?: string;
}

export interface MirrorStatus {
  name: string;
  sourceCluster: string;
  targetCluster: string;
  state: MirrorRunState;
  updatedAt: string;
  passes: number;
  recordsCopied: number;
  lastError?: string;
  lastErrorAt?: string;
  /** Source topics not copied, with why (loop prevention, excludes, name too long). */
  skippedTopics: { topic: string; reason: string }[];
  partitions: PartitionStatus[];
}

export interface LagSummary {
  maxLagRecords: number;
  maxLagSeconds: number;
  totalLagRecords: number;
  partitionsFailing: number;
}

export function summarizeLag(status: Pick<MirrorStatus, 'partitions'>): LagSummary {
  let maxLagRecords = 0;
  let maxLagSeconds = 0;
  let totalLagRecords = 0;
  let partitionsFailing = 0;
  for (const p of status.partitions) {
    maxLagRecords = Math.max(maxLagRecords, p.lagRecords);
    maxLagSeconds = Math.max(maxLagSeconds, p.lagSeconds);
    totalLagRecords += p.lagRecords;
    if (p.lastError) partitionsFailing++;
  }
  return { maxLagRecords, maxLagSeconds, totalLagRecords, partitionsFailing };
}

/** The mirror's state from its partitions: failing if any partition failed, caught up if none lags. */
export function runStateOf(partitions: readonly PartitionStatus[], lastError: string | undefined): MirrorRunState {
  if (lastError || partitions.some((p) => p.lastError)) return 'failing';
  return partitions.every((p) => p.lagRecords === 0) ? 'caught-up' : 'copying';
}

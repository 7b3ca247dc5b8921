/** Mirroring between Strand clusters (docs/mirroring.md): the runtime-agnostic core the CLI and the Lambda run. */
export { Mirror, translateGroup, type MirrorOptions, type PassReport } from './mirror';
export { TopicSelection, type TopicNamePolicy, type SelectedTopic } from './topicSelection';
export { syncTopic, configsNotSynced, type TopicSyncResult } from './topicSync';
export { sourceOffsetHeader, MirrorKilled, MirrorConflictError, type MirrorFaults, type AppendAttempt } from './partitionCopy';
export { translateOffset, addSyncs, type SyncRun, type GroupOffsetTranslation } from './offsetSync';
export { TopicStateStore, MemoryStateStore, stateTopicName, type MirrorStateStore, type MirrorStateData, type PartitionProgress } from './mirrorState';
export { summarizeLag, type MirrorStatus, type PartitionStatus, type LagSummary } from './status';

/**
 * Media types more than one function's operations name, in a module of their
 * own: a function that only mentions one (fetch answers RecordBatches) then
 * does not load the operations that define it (produce, and the schema
 * validation it brings).
 */
export const recordBatchMediaType = 'application/vnd.kafka.record-batch.v2';

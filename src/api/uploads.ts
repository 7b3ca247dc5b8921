/**
 * The direct-to-S3 data plane (extension). Large batches need not pass through
 * API Gateway and Lambda:
 *
 *   produce: POST …/partitions/{p}/uploads {size, sha256}  → a presigned PUT URL
 *            PUT the batches to S3 with the headers it names
 *            POST …/partitions/{p}/uploads/{upload_id}/commit → offsets, as /batches
 *   fetch:   GET …/partitions/{p}/records with Accept: application/vnd.strand.batch-urls+json
 *            → presigned GET URLs and byte ranges; the client patches base offsets
 *
 * The PUT URL signs the object's length and SHA-256, so S3 accepts only those
 * bytes under that key, ever. The commit reads the object once, in-region, and
 * validates it exactly as /batches does before offsets are assigned: a client
 * can never put bytes in the log that the API would refuse.
 */
import { z } from 'zod';
import { ErrorCode, StrandError, invalidValue } from '../errors';
import { newObjectId, objectKey, objectTime, ObjectTooLargeError } from '../log/ObjectStore';
import { orphanGraceMsDefault } from '../maintenance/sweepObjects';
import type { Operation } from './operations';
import { loadTopicCached, parseJsonBody, partitionParam, pathParam } from './request';
import { appendFailure, recordBatchMediaType, validateBinaryBatches } from './produce';
import { uploadSlotAttribute } from '../producers/producerState';

/** Largest object one upload may hold (the commit reads it into the produce function's memory). */
export const uploadBytesMax = 64 * 1024 * 1024;
/** How long an upload URL works. */
export const uploadUrlSeconds = 300;
/**
 * How long after its URL was issued an upload may be committed: well inside the
 * sweep's grace period, which deletes unreferenced objects older than that.
 */
export const uploadCommitWindowMs = 8 * 60_000;
if (uploadCommitWindowMs >= orphanGraceMsDefault) throw new Error('uploadCommitWindowMs must be shorter than the sweep grace period.');

export const createUploadBody = z.object({
  size: z.number().int().min(61).max(uploadBytesMax),
  sha256: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'a base64 SHA-256 digest'),
});
/**
 * An upload id is an object id (so the sweep reads its time as for any object),
 * then the partition it was issued for (base 36), then a mark of its own: a
 * commit accepts only uploads, never an object a produce request wrote (which
 * may hold other partitions' batches), and only on the partition named in the
 * id. The id names the object the presigned URL could write, so a client cannot
 * make up an id for another partition and have bytes behind it.
 */
const uploadIdMark = 'u';
const uploadIdPattern = /^[0-9a-z]{22}([0-9a-z]{1,4})u$/;

export function uploadIdFor(objectId: string, partition: number): string {
  return objectId + partition.toString(36) + uploadIdMark;
}

const P = 'POST /v3/clusters/{cluster_id}/topics/{topic_name}/partitions/{partition_id}';

export const uploadOperations: Record<string, Operation> = {
  [`${P}/uploads`]: async (req, runtime) => {
    const topic = await loadTopicCached(req, runtime);
    const partition = partitionParam(req);
    runtime.engine.assertPartition(topic, partition);
    const body = parseJsonBody(req, createUploadBody);
    const now = runtime.clock.now();
    const uploadId = uploadIdFor(newObjectId(now), partition);
    const url = await runtime.engine.context.objects.presignPut(objectKey(topic.topicId, uploadId), body.size, body.sha256, uploadUrlSeconds);
    return {
      status: 201,
      json: {
        upload_id: uploadId,
        method: 'PUT',
        url,
        headers: { 'content-type': recordBatchMediaType, 'content-length': String(body.size), 'x-amz-checksum-sha256': body.sha256 },
        expires_at: new Date(now + uploadUrlSeconds * 1000).toISOString(),
        commit_before: new Date(now + uploadCommitWindowMs).toISOString(),
      },
    };
  },

  [`${P}/uploads/{upload_id}/commit`]: async (req, runtime) => {
    const topic = await loadTopicCached(req, runtime);
    const partition = partitionParam(req);
    runtime.engine.assertPartition(topic, partition);
    const uploadId = pathParam(req, 'upload_id');
    const issuedFor = uploadIdPattern.exec(uploadId);
    if (!issuedFor) throw invalidValue(`'${uploadId}' is not an upload id.`);
    if (parseInt(issuedFor[1]!, 36) !== partition) {
      throw invalidValue(`Upload '${uploadId}' was issued for partition ${parseInt(issuedFor[1]!, 36)}, not ${partition}; commit it there.`);
    }
    const now = runtime.clock.now();
    const age = now - objectTime(uploadId);
    if (age > uploadCommitWindowMs || age < -60_000) {
      throw invalidValue(`Upload '${uploadId}' can no longer be committed (uploads are committed within ${uploadCommitWindowMs / 60_000} minutes); upload the batches again.`);
    }
    const objects = runtime.engine.context.objects;
    let bytes: Buffer | undefined;
    try {
      bytes = await objects.getWhole(objectKey(topic.topicId, uploadId), uploadBytesMax);
    } catch (err) {
      if (err instanceof ObjectTooLargeError) throw new StrandError(ErrorCode.RecordTooLarge, `Upload '${uploadId}' is larger than ${uploadBytesMax} bytes.`);
      throw err;
    }
    if (!bytes) throw invalidValue(`Upload '${uploadId}' has not been uploaded to its URL (or was already removed).`);
    const { producer, logAppend, rewritten } = await validateBinaryBatches(runtime, topic, bytes, now);
    // Validation rewrote the bytes (LogAppendTime, or a maxTimestamp the records disagree with):
    // store the rewritten copy; the upload itself is swept later.
    let objectId = uploadId;
    if (rewritten) {
      objectId = newObjectId(now);
      await objects.put(objectKey(topic.topicId, objectId), bytes);
    }
    // Committed once per upload id: a retried commit (the reply was lost, or the
    // client sent it twice) gets the original offsets, never a second append.
    const result = await runtime.engine.appendUploaded(topic, objectId, { partition, batches: [bytes], ...(producer ? { producer } : {}) }, uploadSlotAttribute(uploadId));
    if (!result.ok) throw appendFailure(runtime, result.error);
    return {
      status: 200,
      json: {
        cluster_id: runtime.config.clusterId,
        topic_name: topic.name,
        partition_id: partition,
        upload_id: uploadId,
        base_offset: result.baseOffset,
        last_offset: result.lastOffset,
        log_append_time: logAppend ? now : -1,
        ...(producer ? { duplicate: result.duplicate === true } : {}),
      },
    };
  },
};

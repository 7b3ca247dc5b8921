/** Deleting records (extension, Kafka's DeleteRecords): move a partition's log start offset up. */
import { z } from 'zod';
import { partitionKey } from '../log/TopicCatalog';
import type { Operation } from './operations';
import { loadTopic, parseJsonBody, partitionParam } from './request';

export const deleteRecordsBody = z.object({ before_offset: z.number().int().min(-1) });

export const recordsOperations: Record<string, Operation> = {
  'POST /v3/clusters/{cluster_id}/topics/{topic_name}/partitions/{partition_id}/records:delete': async (req, runtime) => {
    const topic = await loadTopic(req, runtime);
    const partition = partitionParam(req);
    runtime.engine.assertPartition(topic, partition);
    const body = parseJsonBody(req, deleteRecordsBody);
    const pk = partitionKey(topic, partition);
    const index = runtime.engine.context.index;
    // -1 means "up to the high watermark", as in Kafka.
    const target = body.before_offset === -1 ? (await index.readHead(pk)).highWatermark : body.before_offset;
    const result = await index.advanceLogStart(pk, target);
    return { status: 200, json: { partition_id: partition, log_start_offset: result.logStartOffset } };
  },
};

/**
 * `POST /v3/clusters/{c}/producers` — Kafka's InitProducerId for idempotent
 * producers (api.md, "Binary record batches").
 *
 *   {}                                          → 201 a fresh {producer_id, producer_epoch: 0}
 *   {"producer_id": N}                          → 201 N with its epoch bumped (fences the old epoch)
 *   {"producer_id": N, "producer_epoch": E}     → the same, only if N is still at E (else 40926)
 */
import { z } from 'zod';
import { producerEpochMax } from '../producers/producerState';
import type { Operation } from './operations';
import { assertCluster, parseJsonBody } from './request';

export const initProducerBody = z
  .object({
    producer_id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    producer_epoch: z.number().int().min(0).max(producerEpochMax).optional(),
  })
  .strict()
  .refine((b) => b.producer_epoch === undefined || b.producer_id !== undefined, {
    message: "'producer_epoch' needs 'producer_id'",
    path: ['producer_epoch'],
  });

export const producerOperations: Record<string, Operation> = {
  'POST /v3/clusters/{cluster_id}/producers': async (req, runtime) => {
    const clusterId = assertCluster(req, runtime);
    // An empty body asks for a fresh id, like `{}`.
    const body: z.infer<typeof initProducerBody> = req.body.length === 0 ? {} : parseJsonBody(req, initProducerBody);
    const now = runtime.clock.now();
    const ids = runtime.engine.producerIds;
    const result = body.producer_id === undefined ? await ids.allocate(now) : await ids.bumpEpoch(body.producer_id, body.producer_epoch, now);
    return {
      status: 201,
      json: { kind: 'KafkaProducer', cluster_id: clusterId, producer_id: result.producerId, producer_epoch: result.producerEpoch },
    };
  },
};

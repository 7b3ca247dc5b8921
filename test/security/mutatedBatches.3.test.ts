/** Mutated RecordBatch bytes, shard 3 of 4 (see ./mutatedBatches.ts): 2,500 byte strings. */
import { mutatedBatchesShard } from './mutatedBatches';

describe('mutated RecordBatch bytes against the binary produce endpoint', () => {
  mutatedBatchesShard(2026_06_03, 2_500);
});

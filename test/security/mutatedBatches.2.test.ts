/** Mutated RecordBatch bytes, shard 2 of 4 (see ./mutatedBatches.ts): 2,500 byte strings. */
import { mutatedBatchesShard } from './mutatedBatches';

describe('mutated RecordBatch bytes against the binary produce endpoint', () => {
  mutatedBatchesShard(2026_06_02, 2_500);
});

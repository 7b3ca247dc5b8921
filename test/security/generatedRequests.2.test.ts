/** Generated hostile requests, shard 2 of 2 (see ./generatedRequests.ts): 5,000 requests. */
import { generatedRequestsShard } from './generatedRequests';

describe('generated requests against every route', () => {
  generatedRequestsShard(2026_07_02, 5_000);
});

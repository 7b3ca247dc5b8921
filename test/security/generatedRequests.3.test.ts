/** Generated deeply nested JSON bodies (see ./generatedRequests.ts, family `deepNesting`) against every route that takes a body. */
import { deepNesting, generatedRequestsShard } from './generatedRequests';

describe('deeply nested JSON against every route that takes a body', () => {
  generatedRequestsShard(2026_11_14, 400, deepNesting);
});

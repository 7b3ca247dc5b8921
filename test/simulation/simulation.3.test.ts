/** Seeds 3/3 of the random interleavings: see seedRange.ts. */
import { defineSeedRange } from './seedRange';

defineSeedRange(3);

/** Seeds 1/3 of the random interleavings: see seedRange.ts. */
import { defineSeedRange } from './seedRange';

defineSeedRange(1);

import fc from 'fast-check';
import { lambdaJsonBytes } from './responseBudget';

describe('response budget', () => {
  test('a value is measured as the bytes its JSON takes once escaped again inside the Lambda result', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: 'binary' }), (value, text) => {
        for (const v of [value, text, { data: text, nested: [value] }]) {
          expect(lambdaJsonBytes(v)).toBe(Buffer.byteLength(JSON.stringify(JSON.stringify(v)), 'utf8') - 2);
        }
      }),
      { numRuns: 500 },
    );
    for (const tricky of ['\ud800 lone surrogate', 'tab\tquote"backslash\\', '\u0000\u001f', 'é€𝄞']) {
      expect(lambdaJsonBytes(tricky)).toBe(Buffer.byteLength(JSON.stringify(JSON.stringify(tricky)), 'utf8') - 2);
    }
  });
});

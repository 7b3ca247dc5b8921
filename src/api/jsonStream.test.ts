import fc from 'fast-check';
import { splitJsonValues } from './jsonStream';

describe('splitting a stream of concatenated JSON values', () => {
  test('any JSON values, concatenated with or without whitespace, split back into themselves (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.json(), { minLength: 1, maxLength: 20 }), fc.constantFrom('', '\n', ' ', '\r\n'), (values, sep) => {
        // Scalars need a separator to be told apart ("1" "2" is "12"); objects and arrays do not.
        const joiner = values.some((v) => !/^[[{"]/.test(v)) ? sep || ' ' : sep;
        const split = splitJsonValues(values.join(joiner), 100);
        expect(split).toEqual({ values, tooMany: false });
      }),
    );
  });

  test('braces and quotes inside strings do not end a value', () => {
    expect(splitJsonValues('{"a":"}{\\"x"}{"b":1}', 10).values).toEqual(['{"a":"}{\\"x"}', '{"b":1}']);
  });

  test('more values than the bound set tooMany', () => {
    expect(splitJsonValues('{}{}{}', 2)).toEqual({ values: ['{}', '{}'], tooMany: true });
  });

  test('an unterminated last value is returned as trailing text', () => {
    expect(splitJsonValues('{"a":1} {"b":', 10)).toEqual({ values: ['{"a":1}'], tooMany: false, trailing: '{"b":' });
  });
});

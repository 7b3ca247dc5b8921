/**
 * Invariant checks for the codecs. A failed assertion is a programming error in
 * the caller (bad arguments to an encoder), never bad input from the wire: wire
 * input that breaks a rule is a CorruptBatchError instead.
 */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`Assertion failed: ${message}`);
}

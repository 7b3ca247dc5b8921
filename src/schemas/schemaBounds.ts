/**
 * The limits every schema type shares. A schema is a string inside a request
 * body, so the body's own bounds do not see into it: each parse checks these
 * first, before anything that recurses or loops over the schema's contents.
 */

/** Longest schema text accepted; Confluent's own default limit is far above real schemas. */
export const schemaTextBytesMax = 256 * 1024;

/**
 * Deepest nesting of arrays and objects in a JSON schema text (Avro and JSON
 * Schema). 256 KiB of `[` is 262,144 levels: canonicalising it (JSON.stringify)
 * overflowed the stack, a 500, and avsc's Type.forSchema and ajv's compiler
 * recurse per level too. A nested Avro record costs 3 levels (the record, its
 * `fields`, a field), so 100 allows about 30 records inside one another,
 * beyond hand-written or generated schemas; the same figure as the request
 * body's bound (src/api/request.ts), for one rule to remember.
 */
export const schemaNestingDepthMax = 100;

/** Deepest nesting of braces in a .proto text: messages inside messages, each a `{` (the same figure, for the same reasons). */
export const protoNestingDepthMax = schemaNestingDepthMax;

/** A subject name's length, as Confluent's registry allows; it becomes part of DynamoDB keys (sort keys ≤ 1,024 bytes). */
export const subjectCharsMax = 1_024;

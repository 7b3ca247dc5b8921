/**
 * What the Lambda bundles import as 'zod' (an esbuild alias, infra/bundling.ts).
 *
 * Strand's code imports `{ z } from 'zod'`: the namespace object of all of
 * zod, which esbuild cannot tree-shake, so every bundle carried all of it
 * (459 KB minified: every locale, JSON Schema conversion, the compiler), about
 * a third of a function's size and its cold start. This module is the same zod
 * code with only the members Strand calls, so a bundle keeps those and the
 * English messages zod sets at load. infra/bundle.test.ts checks that every
 * `z.<member>(` called in src/ is here, and that messages read as unbundled.
 *
 * Imported by a relative path, not 'zod/…': the alias would rewrite that too.
 */
import {
  array,
  boolean,
  discriminatedUnion,
  enum as enumOf,
  literal,
  number,
  object,
  string,
  toJSONSchema,
  union,
  unknown,
} from '../node_modules/zod/v4/classic/external.js';

export const z = { array, boolean, discriminatedUnion, enum: enumOf, literal, number, object, string, toJSONSchema, union, unknown };

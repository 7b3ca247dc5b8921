/**
 * JSON Schema compatibility: can a reader schema accept every document a
 * writer schema accepts? BACKWARD asks it of the new schema (reader) against
 * an earlier one (writer), FORWARD the other way round, as Confluent's
 * registry compares them (its SchemaDiff of original and update).
 *
 * The check walks both schemas side by side and reports each place where the
 * reader is narrower — Confluent's incompatible differences:
 *
 *   - a type narrowed or changed (`integer` → `number` widens and is fine);
 *   - a property the reader defines that the writer's open content model may
 *     carry with any value (added to an open content model), or a writer's
 *     property a closed reader refuses (removed from a closed content model);
 *     additionalProperties closed or narrowed;
 *   - a required property added (unless the reader gives it a default, which
 *     Confluent accepts);
 *   - enum or const narrowed, or added;
 *   - minimum/exclusiveMinimum raised or added, maximum/exclusiveMaximum
 *     lowered or added, multipleOf added or not dividing the writer's;
 *   - minLength/minItems/minProperties raised, maxLength/maxItems/
 *     maxProperties lowered or added, a pattern added or changed,
 *     uniqueItems added;
 *   - array items narrowed (lists and tuples: `items`, `prefixItems`,
 *     `additionalItems`);
 *   - oneOf/anyOf: each writer branch must be accepted by the reader, and a
 *     reader with branches must accept the writer in some branch; allOf: the
 *     reader's every branch must accept the writer, the writer needs one
 *     branch the reader accepts; `not` must not change.
 *
 * `$ref` is followed into the schema's own definitions and into referenced
 * schemas (by reference name); a pair of references already being compared is
 * taken as compatible, so recursive schemas end. Not checked: `format`
 * (annotation only here: src/schemas/jsonSchema.ts), patternProperties,
 * propertyNames, dependencies/dependentRequired/dependentSchemas,
 * if/then/else, contains, unevaluated*; a change in those passes.
 */
import type { JsonSchemaParsed } from './jsonSchema';
import { sortedJson } from './jsonSchema';

/** Schema nodes one comparison visits at most; past it the check reports that it gave up (refused, never passed unchecked). */
export const jsonCompareStepsMax = 20_000;
/** `$ref`s followed in a row before a node is compared. */
const refChainMax = 32;

type Obj = Record<string, unknown>;

interface Side {
  root: unknown;
  referenced: ReadonlyMap<string, unknown>;
}

interface Walk {
  reader: Side;
  writer: Side;
  seen: Set<string>;
  steps: number;
  problems: string[];
}

const annotations = new Set(['title', 'description', '$comment', 'default', 'examples', '$schema', '$id', 'definitions', '$defs', 'readOnly', 'writeOnly', 'deprecated', 'format']);

const isObj = (s: unknown): s is Obj => s !== null && typeof s === 'object' && !Array.isArray(s);
const same = (a: unknown, b: unknown) => JSON.stringify(sortedJson(a)) === JSON.stringify(sortedJson(b));
const num = (s: Obj, k: string) => (typeof s[k] === 'number' ? (s[k] as number) : undefined);

/** A schema that accepts every document. */
function acceptsAll(s: unknown): boolean {
  return s === true || (isObj(s) && Object.keys(s).every((k) => annotations.has(k)));
}

function pointer(root: unknown, fragment: string): unknown {
  if (fragment === '' || fragment === '/') return root;
  let at: unknown = root;
  for (const raw of fragment.replace(/^\//, '').split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    at = isObj(at) || Array.isArray(at) ? (at as Obj)[key] : undefined;
  }
  return at;
}

/** The schema a `$ref` names: in the schema itself (`#…`), or in a referenced schema (`name` or `name#…`). */
function follow(side: Side, s: unknown): { schema: unknown; key?: string } {
  let current = s;
  let key: string | undefined;
  for (let i = 0; i < refChainMax && isObj(current) && typeof current.$ref === 'string'; i++) {
    const ref = current.$ref;
    key = ref;
    const hash = ref.indexOf('#');
    const doc = hash < 0 ? ref : ref.slice(0, hash);
    const fragment = hash < 0 ? '' : ref.slice(hash + 1);
    const base = doc === '' ? side.root : side.referenced.get(doc) ?? [...side.referenced.entries()].find(([name]) => doc.endsWith(`/${name}`))?.[1];
    const target = base === undefined ? undefined : pointer(base, fragment);
    // An unresolvable $ref was refused when the schema was parsed; here it compares as "anything".
    current = target === undefined ? true : target;
  }
  return { schema: current, ...(key !== undefined ? { key } : {}) };
}

function typesOf(s: Obj): Set<string> | undefined {
  if (typeof s.type === 'string') return new Set([s.type]);
  if (Array.isArray(s.type)) return new Set(s.type.filter((t): t is string => typeof t === 'string'));
  return undefined;
}

function tupleOf(s: Obj): unknown[] | undefined {
  if (Array.isArray(s.prefixItems)) return s.prefixItems;
  return Array.isArray(s.items) ? s.items : undefined;
}

function restOf(s: Obj): unknown {
  if (Array.isArray(s.prefixItems)) return s.items ?? true;
  if (Array.isArray(s.items)) return s.additionalItems ?? true;
  return s.items ?? true;
}

/** The problems of comparing reader and writer, on their own (for trying a branch without reporting it). */
function trial(w: Walk, reader: unknown, writer: unknown, path: string): string[] {
  const sub: Walk = { ...w, seen: new Set(w.seen), problems: [] };
  compare(sub, reader, writer, path);
  w.steps = sub.steps;
  return sub.problems;
}

function compare(w: Walk, readerIn: unknown, writerIn: unknown, path: string): void {
  if (++w.steps > jsonCompareStepsMax) {
    if (!w.problems.some((p) => p.includes('too large'))) w.problems.push(`${path}: the schemas are too large to compare (more than ${jsonCompareStepsMax} steps)`);
    return;
  }
  const r = follow(w.reader, readerIn);
  const wr = follow(w.writer, writerIn);
  if (r.key !== undefined || wr.key !== undefined) {
    const pair = `${r.key ?? path}\u0000${wr.key ?? path}`;
    if (w.seen.has(pair)) return;
    w.seen.add(pair);
  }
  const reader = r.schema;
  const writer = wr.schema;
  if (writer === false || acceptsAll(reader)) return;
  if (reader === false) return void w.problems.push(`${path}: the reader schema accepts nothing here`);
  if (!isObj(reader)) return;
  const ws: Obj = isObj(writer) ? writer : {};

  // Combinations first: they decide which parts of the writer must be read.
  const wBranches = (Array.isArray(ws.oneOf) ? ws.oneOf : Array.isArray(ws.anyOf) ? ws.anyOf : undefined) as unknown[] | undefined;
  if (wBranches) {
    const { oneOf: _o, anyOf: _a, ...wRest } = ws;
    for (const [i, b] of wBranches.entries()) compare(w, reader, mergeInto(wRest, b), `${path}/${Array.isArray(ws.oneOf) ? 'oneOf' : 'anyOf'}/${i}`);
    return;
  }
  if (Array.isArray(ws.allOf)) {
    const { allOf, ...wRest } = ws;
    const candidates = [wRest, ...(allOf as unknown[]).map((b) => mergeInto(wRest, b))];
    if (!candidates.some((c) => trial(w, reader, c, path).length === 0)) {
      w.problems.push(`${path}: the writer's allOf has no part the reader schema accepts whole`);
    }
    return;
  }
  const rBranches = (Array.isArray(reader.oneOf) ? reader.oneOf : Array.isArray(reader.anyOf) ? reader.anyOf : undefined) as unknown[] | undefined;
  if (rBranches && !rBranches.some((b) => trial(w, b, ws, path).length === 0)) {
    w.problems.push(`${path}: no branch of the reader's ${Array.isArray(reader.oneOf) ? 'oneOf' : 'anyOf'} accepts what the writer schema accepts`);
  }
  if (Array.isArray(reader.allOf)) for (const [i, b] of reader.allOf.entries()) compare(w, b, ws, `${path}/allOf/${i}`);
  if ((reader.not !== undefined || ws.not !== undefined) && !same(reader.not, ws.not)) w.problems.push(`${path}: 'not' changed`);

  compareTypes(w, reader, ws, path);
  compareValues(w, reader, ws, path);
  compareBounds(w, reader, ws, path);
  compareArrays(w, reader, ws, path);
  compareObjects(w, reader, ws, path);
}

/** A branch with the keywords beside its combination (the writer's documents satisfy both). */
function mergeInto(rest: Obj, branch: unknown): unknown {
  if (branch === false) return false;
  if (!isObj(branch)) return rest;
  return { ...rest, ...branch };
}

function compareTypes(w: Walk, reader: Obj, writer: Obj, path: string): void {
  const rt = typesOf(reader);
  if (!rt) return;
  const wt = typesOf(writer);
  if (!wt) return void w.problems.push(`${path}: type narrowed to ${[...rt].join('|')} (the writer schema allows any type)`);
  for (const t of wt) {
    if (rt.has(t) || (t === 'integer' && rt.has('number'))) continue;
    w.problems.push(`${path}: type changed from ${[...wt].join('|')} to ${[...rt].join('|')}`);
    return;
  }
}

function compareValues(w: Walk, reader: Obj, writer: Obj, path: string): void {
  if (Array.isArray(reader.enum)) {
    const allowed = new Set(reader.enum.map((v) => JSON.stringify(sortedJson(v))));
    const written = Array.isArray(writer.enum) ? writer.enum : 'const' in writer ? [writer.const] : undefined;
    if (!written) w.problems.push(`${path}: enum added`);
    else if (!written.every((v) => allowed.has(JSON.stringify(sortedJson(v))))) w.problems.push(`${path}: enum narrowed`);
  }
  if ('const' in reader && !('const' in writer && same(reader.const, writer.const))) w.problems.push(`${path}: const added or changed`);
}

/** A lower bound on the reader must be met by the writer's; an upper bound likewise. */
function compareBounds(w: Walk, reader: Obj, writer: Obj, path: string): void {
  for (const k of ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties']) {
    const rv = num(reader, k);
    if (rv === undefined) continue;
    // A writer without minLength/minItems/minProperties has 0; without minimum, no bound at all.
    const wv = num(writer, k) ?? (k.endsWith('imum') ? undefined : 0);
    if (wv === undefined || wv < rv) w.problems.push(`${path}: ${k} ${wv === undefined ? 'added' : 'increased'} (${wv ?? 'none'} → ${rv})`);
  }
  for (const k of ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties']) {
    const rv = num(reader, k);
    if (rv === undefined) continue;
    const wv = num(writer, k);
    if (wv === undefined || wv > rv) w.problems.push(`${path}: ${k} ${wv === undefined ? 'added' : 'decreased'} (${wv ?? 'none'} → ${rv})`);
  }
  const rm = num(reader, 'multipleOf');
  if (rm !== undefined) {
    const wm = num(writer, 'multipleOf');
    if (wm === undefined || !Number.isInteger(wm / rm)) w.problems.push(`${path}: multipleOf ${wm === undefined ? 'added' : 'changed'} (${wm ?? 'none'} → ${rm})`);
  }
  if (typeof reader.pattern === 'string' && reader.pattern !== writer.pattern) w.problems.push(`${path}: pattern ${writer.pattern === undefined ? 'added' : 'changed'}`);
  if (reader.uniqueItems === true && writer.uniqueItems !== true) w.problems.push(`${path}: uniqueItems added`);
}

function compareArrays(w: Walk, reader: Obj, writer: Obj, path: string): void {
  if (reader.items === undefined && reader.prefixItems === undefined && reader.additionalItems === undefined) return;
  const rt = tupleOf(reader) ?? [];
  const wt = tupleOf(writer) ?? [];
  const n = Math.max(rt.length, wt.length);
  for (let i = 0; i < n; i++) compare(w, i < rt.length ? rt[i] : restOf(reader), i < wt.length ? wt[i] : restOf(writer), `${path}/items/${i}`);
  compare(w, restOf(reader), restOf(writer), `${path}/items`);
}

function compareObjects(w: Walk, reader: Obj, writer: Obj, path: string): void {
  const rProps = isObj(reader.properties) ? reader.properties : {};
  const wProps = isObj(writer.properties) ? writer.properties : {};
  const rAdd = reader.additionalProperties ?? true;
  const wAdd = writer.additionalProperties ?? true;
  for (const [name, rp] of Object.entries(rProps)) {
    const at = `${path}/properties/${name}`;
    if (name in wProps) compare(w, rp, wProps[name], at);
    else if (wAdd !== false) {
      const problems = trial(w, rp, wAdd, at);
      if (problems.length > 0) w.problems.push(`${at}: property added to an open content model (the writer's documents may carry '${name}' with any value): ${problems.join('; ')}`);
    }
  }
  for (const [name, wp] of Object.entries(wProps)) {
    if (name in rProps) continue;
    const at = `${path}/properties/${name}`;
    if (rAdd === false) w.problems.push(`${at}: property removed from a closed content model (the reader refuses '${name}', which the writer allows)`);
    else compare(w, rAdd, wp, at);
  }
  if (reader.additionalProperties !== undefined && wAdd !== false) {
    if (rAdd === false) w.problems.push(`${path}: additionalProperties closed (the writer's content model is open)`);
    else compare(w, rAdd, wAdd, `${path}/additionalProperties`);
  }
  const wRequired = new Set(Array.isArray(writer.required) ? writer.required : []);
  for (const name of Array.isArray(reader.required) ? reader.required : []) {
    if (typeof name !== 'string' || wRequired.has(name)) continue;
    const rp = rProps[name];
    if (isObj(rp) && 'default' in rp) continue;
    w.problems.push(`${path}: required property '${name}' added`);
  }
}

/** Where `reader` fails to accept documents `writer` accepts; empty when it accepts them all. */
export function jsonSchemaReadProblems(reader: JsonSchemaParsed, writer: JsonSchemaParsed): string[] {
  const walk: Walk = {
    reader: { root: reader.schema, referenced: reader.referenced },
    writer: { root: writer.schema, referenced: writer.referenced },
    seen: new Set(),
    steps: 0,
    problems: [],
  };
  compare(walk, reader.schema, writer.schema, '#');
  return walk.problems;
}

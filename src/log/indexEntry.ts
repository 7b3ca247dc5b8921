/**
 * An index entry says where one committed append lives: which S3 object, which
 * byte range of it, how many offsets it spans and its largest timestamp. Entries
 * carry no offset of their own: an entry's base offset is its list's base plus
 * the spans of the entries before it, which is what lets an append be a single
 * `list_append` + `ADD` with no read before it (design.md, storage model).
 *
 * Stored as one compact string per entry, because a DynamoDB write costs one unit
 * per KB of the whole item and the partition head is rewritten by every append:
 *   "<objectId> <position> <size> <span> <maxTimestamp>"   (numbers in base 36)
 */
export interface IndexEntry {
  /** Object id within the topic's prefix (see objectKey). */
  objectId: string;
  /** Byte position of the first batch within the object. */
  position: number;
  /** Bytes of the batches (one or more whole RecordBatches). */
  size: number;
  /** Offsets the batches cover: the sum of (lastOffsetDelta + 1). */
  span: number;
  /** Largest record timestamp in the batches (epoch ms; -1 when unknown). */
  maxTimestamp: number;
}

/** An entry with its offsets resolved. */
export interface PlacedEntry extends IndexEntry {
  baseOffset: number;
}

const objectIdPattern = /^[0-9a-z]{1,64}$/;

export function encodeIndexEntry(e: IndexEntry): string {
  assertEntry(e);
  return [e.objectId, e.position, e.size, e.span, e.maxTimestamp].map((v) => (typeof v === 'number' ? v.toString(36) : v)).join(' ');
}

export function decodeIndexEntry(s: string): IndexEntry {
  const parts = s.split(' ');
  if (parts.length !== 5) throw new Error(`Malformed index entry '${s}'.`);
  const [objectId, position, size, span, maxTimestamp] = parts as [string, string, string, string, string];
  const entry = {
    objectId,
    position: parseInt(position, 36),
    size: parseInt(size, 36),
    span: parseInt(span, 36),
    maxTimestamp: parseInt(maxTimestamp, 36),
  };
  assertEntry(entry);
  return entry;
}

function assertEntry(e: IndexEntry): void {
  if (!objectIdPattern.test(e.objectId)) throw new Error(`Index entry object id '${e.objectId}' is malformed.`);
  if (!Number.isSafeInteger(e.position) || e.position < 0) throw new Error(`Index entry position ${e.position} is invalid.`);
  if (!Number.isSafeInteger(e.size) || e.size <= 0) throw new Error(`Index entry size ${e.size} is invalid.`);
  if (!Number.isSafeInteger(e.span) || e.span <= 0) throw new Error(`Index entry span ${e.span} is invalid.`);
  if (!Number.isSafeInteger(e.maxTimestamp) || e.maxTimestamp < -1) throw new Error(`Index entry timestamp ${e.maxTimestamp} is invalid.`);
}

/** Resolves the base offsets of a run of entries that starts at `baseOffset`. */
export function placeEntries(baseOffset: number, entries: IndexEntry[]): PlacedEntry[] {
  let next = baseOffset;
  return entries.map((e) => {
    const placed = { ...e, baseOffset: next };
    next += e.span;
    return placed;
  });
}

export function spanOf(entries: IndexEntry[]): number {
  return entries.reduce((sum, e) => sum + e.span, 0);
}

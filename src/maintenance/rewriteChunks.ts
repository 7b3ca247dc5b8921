/**
 * Rewrites a run of index chunks into one new S3 object: merging (bytes kept
 * as they are) or compaction (batches filtered). Every entry keeps its offsets
 * and span; only its object, position and size change. The new object is
 * written first, then each chunk is re-pointed with a conditional write; a crash
 * in between leaves chunks pointing at the old objects (still valid) and an
 * unreferenced new object the sweep removes later.
 */
import { newObjectId, objectKey } from '../log/ObjectStore';
import { placeEntries, type IndexEntry, type PlacedEntry } from '../log/indexEntry';
import type { IndexChunk } from '../log/PartitionIndex';
import type { LogContext } from '../log/LogContext';
import { readEntries } from '../log/readPartition';

/**
 * The distinct entries of some chunks, one per offset, in offset order. Chunks
 * may overlap (a spill whose head update lost a race leaves a longer chunk),
 * and then the chunk with the higher base wins: it was spilled later from the
 * head, so it is never staler than the lower one. Entries are told apart by
 * their offsets, never by where their bytes are: two entries may point at the
 * same bytes (a batch committed twice) and are still two appends.
 */
export function distinctEntries(chunks: IndexChunk[]): PlacedEntry[] {
  const byOffset = new Map<number, PlacedEntry>();
  for (const c of [...chunks].sort((a, b) => a.base - b.base)) {
    for (const e of placeEntries(c.base, c.entries)) byOffset.set(e.baseOffset, e);
  }
  return [...byOffset.values()].sort((a, b) => a.baseOffset - b.baseOffset);
}

export interface RewriteResult {
  chunksRewritten: number;
  bytesBefore: number;
  /** Objects the rewritten chunks no longer point at. */
  released: string[];
}

export async function rewriteChunks(
  ctx: LogContext,
  topicId: string,
  pk: string,
  epoch: number,
  chunks: IndexChunk[],
  transform: (entry: PlacedEntry, bytes: Buffer) => Buffer,
): Promise<RewriteResult> {
  const entries = distinctEntries(chunks);
  const bytes = await readEntries(ctx, topicId, entries);
  const objectId = newObjectId(ctx.clock.now());
  const moved = new Map<number, IndexEntry>();
  const parts: Buffer[] = [];
  let position = 0;
  entries.forEach((entry, i) => {
    const out = transform(entry, bytes[i]!);
    if (out.length === 0) throw new Error(`rewriteChunks: entry at offset ${entry.baseOffset} became empty; keep an empty batch instead.`);
    moved.set(entry.baseOffset, { objectId, position, size: out.length, span: entry.span, maxTimestamp: entry.maxTimestamp });
    parts.push(out);
    position += out.length;
  });
  await ctx.objects.put(objectKey(topicId, objectId), Buffer.concat(parts));
  let chunksRewritten = 0;
  const released = new Set<string>();
  for (const chunk of chunks) {
    const replaced = placeEntries(chunk.base, chunk.entries).map((e) => {
      const to = moved.get(e.baseOffset);
      if (!to) throw new Error(`rewriteChunks: no rewritten entry at offset ${e.baseOffset} of chunk ${pk}@${chunk.base}.`);
      return to;
    });
    if (await ctx.index.replaceChunk(pk, epoch, chunk, replaced)) {
      chunksRewritten++;
      chunk.entries.forEach((e) => released.add(e.objectId));
    }
  }
  return {
    chunksRewritten,
    bytesBefore: entries.reduce((n, e) => n + e.size, 0),
    released: [...released],
  };
}

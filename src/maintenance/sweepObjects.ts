/**
 * Deletes S3 objects nothing references any more: objects whose every entry
 * fell below the log start, objects replaced by a merge or compaction, objects
 * written by a produce that crashed before its commit, and the data of deleted
 * topics. An object is deleted only once it is older than the grace period, so
 * a produce between its PUT and its commit is never robbed of its object.
 *
 * Order matters: the objects are listed BEFORE the index is read. An object
 * committed after the index read was written before the listing only if it is
 * old — and a commit follows its PUT within a request's lifetime, far inside the
 * grace period.
 */
import { objectTime, topicPrefix, topicsPrefix } from '../log/ObjectStore';
import { partitionKey, type Topic } from '../log/TopicCatalog';
import { placeEntries } from '../log/indexEntry';
import type { LogContext } from '../log/LogContext';
import { functionTimeoutSeconds } from '../config/functionTimeouts';

/** Longer than any produce request can take between its PUT and its commit. */
export const orphanGraceMsDefault = 10 * 60_000;

/**
 * How old an object maintenance released must be before it goes. Not zero: one
 * produce request writes ONE object for all its partitions, so the object one
 * partition stopped referencing may still be waiting for another partition's
 * commit. That commit happens inside the same request, which ends within the
 * produce function's timeout (its storage calls stop at its deadline), so twice
 * that timeout is enough; still far shorter than orphanGraceMsDefault.
 */
export const releasedGraceMs = 2 * functionTimeoutSeconds.produce * 1000;

/**
 * `released` are objects maintenance just stopped referencing: committed once,
 * so they need no grace period and go as soon as nothing references them.
 */
export async function sweepTopicObjects(
  ctx: LogContext,
  topic: Topic,
  graceMs = orphanGraceMsDefault,
  released: ReadonlySet<string> = new Set(),
  current: () => Promise<Topic | undefined> = async () => topic,
): Promise<number> {
  return (await sweepTopic(ctx, topic, graceMs, released, current)).deleted;
}

/**
 * sweepTopicObjects, and when the next sweep is due: when the first
 * unreferenced object it had to leave (too young) passes its grace period
 * (undefined: none left). The maintenance ledger keeps that time, so an idle
 * topic is swept again only then.
 */
export async function sweepTopic(
  ctx: LogContext,
  topic: Topic,
  graceMs = orphanGraceMsDefault,
  released: ReadonlySet<string> = new Set(),
  /**
   * The topic as the catalog has it now. Read after the listing, so every
   * partition that could own a listed object is walked: a partition added during
   * the pass would otherwise look like it references nothing.
   */
  current: () => Promise<Topic | undefined> = async () => topic,
): Promise<{ deleted: number; nextDueAt: number | undefined }> {
  const prefix = topicPrefix(topic.topicId);
  const listed = await ctx.objects.list(prefix);
  const now = await current();
  // Deleted (or deleted and created again under a new id): sweepDeletedTopics' work.
  if (!now || now.topicId !== topic.topicId) return { deleted: 0, nextDueAt: undefined };
  topic = now;
  const referenced = new Set<string>();
  for (let p = 0; p < topic.partitionsCount; p++) {
    const pk = partitionKey(topic, p);
    const head = await ctx.index.readHead(pk);
    for (const e of head.entries) referenced.add(e.objectId);
    // chunks() lists every chunk or throws, never a part: an object missing from
    // `referenced` is deleted, so a partial list would lose live data.
    for (const chunk of await ctx.index.chunks(pk)) {
      for (const e of placeEntries(chunk.base, chunk.entries)) referenced.add(e.objectId);
    }
  }
  const cutoff = ctx.clock.now() - graceMs;
  const releasedCutoff = ctx.clock.now() - Math.min(graceMs, releasedGraceMs);
  let nextDueAt: number | undefined;
  const garbage = listed.filter((key) => {
    const id = key.slice(prefix.length);
    if (referenced.has(id)) return false;
    const isReleased = released.has(id);
    if (objectTime(id) <= (isReleased ? releasedCutoff : cutoff)) return true;
    const due = objectTime(id) + (isReleased ? Math.min(graceMs, releasedGraceMs) : graceMs);
    nextDueAt = nextDueAt === undefined ? due : Math.min(nextDueAt, due);
    return false;
  });
  await ctx.objects.deleteKeys(garbage);
  return { deleted: garbage.length, nextDueAt };
}

/**
 * Deletes what is left of topics no longer in the catalog (a deletion that
 * crashed midway). The live topics are read after the prefixes are listed, and
 * must be complete (TopicCatalog.list throws rather than answer in part): a
 * topic missing from a partial or older list would lose its data.
 */
export async function sweepDeletedTopics(ctx: LogContext, liveTopicIds: () => Promise<Set<string>>, graceMs = orphanGraceMsDefault): Promise<number> {
  let deleted = 0;
  const cutoff = ctx.clock.now() - graceMs;
  const prefixes = await ctx.objects.listPrefixes(topicsPrefix);
  const live = await liveTopicIds();
  for (const prefix of prefixes) {
    const topicId = prefix.slice(topicsPrefix.length, -1);
    if (live.has(topicId)) continue;
    const keys = await ctx.objects.list(prefix);
    const old = keys.filter((k) => objectTime(k.slice(prefix.length)) <= cutoff);
    await ctx.objects.deleteKeys(old);
    deleted += old.length;
  }
  return deleted;
}

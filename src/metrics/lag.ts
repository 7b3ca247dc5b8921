/**
 * Consumer lag of every group, computed when asked (a /metrics scrape, a
 * maintenance pass) from what is stored: each group's committed offsets and
 * each partition's high watermark. Nothing is kept between calls, so a deleted
 * group or topic simply stops appearing.
 *
 * Bounded: at most `groupsMax` groups (in group id order; `truncated` says
 * more exist), each read with at most `groupsInFlightMax` at once. A group
 * that fails to read is left out and named in `errors`.
 */
import type { Runtime } from '../runtime';
import { groupsOf, type PartitionLag } from '../groups/GroupService';
import { mapBounded } from '../mapBounded';

/** Groups one lag computation reads. STRAND_METRICS_GROUPS_MAX overrides it. */
export const lagGroupsMaxDefault = 100;
/** Groups whose lags are read at once. */
const groupsInFlightMax = 4;

export interface GroupLag {
  group: string;
  partitions: PartitionLag[];
}

export interface LagSnapshot {
  groups: GroupLag[];
  /** More groups exist than were read. */
  truncated: boolean;
  errors: string[];
}

export function lagGroupsMaxFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = Number(env.STRAND_METRICS_GROUPS_MAX);
  return Number.isInteger(raw) && raw >= 0 ? raw : lagGroupsMaxDefault;
}

export async function consumerLags(runtime: Runtime, groupsMax = lagGroupsMaxDefault): Promise<LagSnapshot> {
  const service = groupsOf(runtime);
  const all = (await service.list()).map((g) => g.groupId).sort();
  const ids = all.slice(0, groupsMax);
  const errors: string[] = [];
  const groups = await mapBounded(ids, groupsInFlightMax, async (group): Promise<GroupLag | undefined> => {
    try {
      return { group, partitions: await service.lags(group) };
    } catch (err) {
      errors.push(`${group}: ${String(err)}`);
      return undefined;
    }
  });
  return { groups: groups.filter((g): g is GroupLag => g !== undefined), truncated: all.length > ids.length, errors };
}

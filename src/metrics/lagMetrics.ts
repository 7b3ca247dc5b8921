/**
 * Consumer lag as CloudWatch metrics, for the maintenance pass: every group's
 * lag (src/metrics/lag.ts) as EMF lines (src/metrics/emf.ts). Apart from
 * emf.ts because it reads the groups table: the dispatch, in every
 * function's bundle, imports emf.ts only.
 */
import type { Runtime } from '../runtime';
import { consumerLags, lagGroupsMaxFromEnv, type LagSnapshot } from './lag';
import { emfEnabled, lagEmfLines, stdoutLines, type LineWriter } from './emf';

/**
 * The maintenance pass's consumer lag: every group's (bounded,
 * STRAND_METRICS_GROUPS_MAX) as EMF lines, in Lambda only (locally /metrics
 * computes lag at scrape time, and npm start's output stays readable).
 * Returns the snapshot it wrote, or undefined when it did nothing.
 */
export async function publishConsumerLag(runtime: Runtime, options: { write?: LineWriter; force?: boolean } = {}): Promise<LagSnapshot | undefined> {
  if (!options.force && !emfEnabled()) return undefined;
  const snapshot = await consumerLags(runtime, lagGroupsMaxFromEnv());
  const write = options.write ?? stdoutLines;
  for (const line of lagEmfLines(runtime.config.clusterId, snapshot, runtime.clock.now())) write(line);
  if (snapshot.truncated) runtime.logger.warn('consumer lag: more groups than STRAND_METRICS_GROUPS_MAX; the rest were not measured', { measured: snapshot.groups.length });
  for (const e of snapshot.errors) runtime.logger.warn('consumer lag: a group could not be read', { error: e });
  return snapshot;
}

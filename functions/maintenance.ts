/**
 * Lambda entry point for the maintenance pass (retention, index cleanup,
 * compaction, merging, object sweep), invoked by an EventBridge schedule.
 */
import { runMaintenance } from '../src/maintenance/runMaintenance';
import { runtimeFromEnvironment } from '../src/runtime';

export const handler = async (): Promise<{ topics: number; errors: string[] }> => {
  const runtime = runtimeFromEnvironment();
  const report = await runMaintenance(runtime);
  runtime.logger.info('maintenance pass', { report });
  return { topics: report.topics.length, errors: report.errors };
};

/**
 * Maintenance's CloudWatch metrics, as EMF lines on stdout (src/metrics/emf.ts
 * explains the format), dimension [ClusterId]:
 *
 *   MaintenancePassesCompleted     1 per planner run that planned every topic and handed out all
 *                                  its work (the "has not completed" alarm breaches when missing)
 *   MaintenancePartitionsChanged   partitions given a turn because they changed
 *   MaintenancePartitionsDue       … because their due time passed (retention by time, tombstones)
 *   MaintenancePartitionsMaintained turns completed by a worker
 *   MaintenancePartitionFailures   turns that failed (the error is in the log); alarmed
 *   MaintenancePartitionsLeft      turns a worker did not start before its deadline (next pass)
 *
 * The stack's alarms read these names (infra/maintenance.ts).
 */
import { emfDimensions, emfEnabled, metricsNamespace, stdoutLines, type LineWriter } from '../metrics/emf';

export const maintenanceMetricNames = {
  passesCompleted: 'MaintenancePassesCompleted',
  partitionsChanged: 'MaintenancePartitionsChanged',
  partitionsDue: 'MaintenancePartitionsDue',
  partitionsMaintained: 'MaintenancePartitionsMaintained',
  partitionFailures: 'MaintenancePartitionFailures',
  partitionsLeft: 'MaintenancePartitionsLeft',
} as const;

export type MaintenanceMetricName = (typeof maintenanceMetricNames)[keyof typeof maintenanceMetricNames];

export function maintenanceEmfLine(clusterId: string, values: Partial<Record<MaintenanceMetricName, number>>, timestamp: number): string {
  const entries = Object.entries(values).filter(([, v]) => v !== undefined) as [string, number][];
  return JSON.stringify({
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [{ Namespace: metricsNamespace, Dimensions: [[emfDimensions.cluster]], Metrics: entries.map(([Name]) => ({ Name, Unit: 'Count' })) }],
    },
    [emfDimensions.cluster]: clusterId,
    ...Object.fromEntries(entries),
  });
}

/** Writes the line in Lambda (or when forced); nothing elsewhere. */
export function publishMaintenanceMetrics(
  clusterId: string,
  values: Partial<Record<MaintenanceMetricName, number>>,
  timestamp: number,
  options: { write?: LineWriter; force?: boolean } = {},
): void {
  if (!options.force && !emfEnabled()) return;
  (options.write ?? stdoutLines)(maintenanceEmfLine(clusterId, values, timestamp));
}

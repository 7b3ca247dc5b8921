/**
 * How many worker invocations a maintenance pass hands work to on AWS
 * (src/maintenance/lambdaMaintenance.ts). No imports: the CDK stack reads it too.
 */

/** Environment variable: worker invocations per pass, overriding the reservation's. */
export const maintenanceWorkersEnvVar = 'STRAND_MAINTENANCE_WORKERS';
/** Workers when the function has no reserved concurrency to size them by. */
export const maintenanceWorkersDefault = 2;

/** Workers for a pass: the override, else the reservation less the planner, else the default. */
export function workersFor(reservedConcurrency: number | undefined, env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env[maintenanceWorkersEnvVar]);
  if (Number.isInteger(n) && n >= 1) return n;
  if (reservedConcurrency !== undefined && reservedConcurrency >= 2) return reservedConcurrency - 1;
  return maintenanceWorkersDefault;
}

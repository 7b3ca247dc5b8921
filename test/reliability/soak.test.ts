/**
 * The soak (issue 6, item 5), 20 seconds of it in the default suite: the same
 * `runSoak` as `npm run soak -- --minutes N` (bench/soak.ts). How: idempotent,
 * retrying producers and a two-member consumer group run against a local Strand
 * while S3 and DynamoDB faults and crashes are injected; then every acknowledged
 * record is read back exactly once at its offset and found delivered to the group.
 */
import { formatSoakReport, runSoak } from '../../bench/soak';

test('20 s under storage faults and crashes: every acknowledged record exactly once, none lost, the group drained', async () => {
  const report = await runSoak({ seconds: 20 });
  // Shown on failure, with the seed to replay it.
  const summary = formatSoakReport(report);
  expect({ violations: report.violations, summary }).toEqual({ violations: [], summary });
  expect(report.batchesAcknowledged).toBeGreaterThan(50);
  expect(report.faultsTotal).toBeGreaterThan(10);
  expect(report.log.checked).toBe(report.log.acknowledged);
  expect(report.log.lost).toEqual([]);
  expect(report.log.duplicated).toEqual([]);
  expect(report.group).toMatchObject({ missing: 0, phantom: 0, lag: 0 });
}, 60_000);

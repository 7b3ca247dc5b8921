import { atExpression, unqualifiedFunctionArn, wakeMinuteMs, wakeScheduleName, wakeScheduleRequest } from './wakeSchedule';

const at = (iso: string) => Date.parse(iso);

describe('wake-up schedules', () => {
  test('a wake is scheduled in the minute its work is due, or the next minute when that is now or past (Scheduler fires within the minute)', () => {
    const now = at('2026-12-01T04:47:20Z');
    expect(wakeMinuteMs(at('2026-12-01T04:49:45Z'), now)).toBe(at('2026-12-01T04:49:00Z'));
    expect(wakeMinuteMs(at('2026-12-01T04:47:50Z'), now)).toBe(at('2026-12-01T04:48:00Z'));
    expect(wakeMinuteMs(at('2026-12-01T04:40:00Z'), now)).toBe(at('2026-12-01T04:48:00Z'));
  });

  test('one name per minute, so concurrent invocations ask for one schedule; a one-time at() in UTC that deletes itself', () => {
    const minute = at('2026-12-01T04:48:00Z');
    expect(wakeScheduleName(minute)).toBe(wakeScheduleName(minute + 59_000));
    expect(wakeScheduleName(minute)).toMatch(/^[0-9a-zA-Z_.-]{1,64}$/);
    expect(atExpression(minute)).toBe('at(2026-12-01T04:48:00)');
    const req = wakeScheduleRequest(minute, { functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:d', roleArn: 'arn:aws:iam::123456789012:role/w', group: 'g' });
    expect(req).toMatchObject({
      GroupName: 'g',
      ScheduleExpression: 'at(2026-12-01T04:48:00)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: { Arn: 'arn:aws:lambda:eu-west-1:123456789012:function:d', RoleArn: 'arn:aws:iam::123456789012:role/w' },
    });
    expect(JSON.parse(req.Target?.Input ?? 'null')).toMatchObject({ source: 'strand.triggers', 'detail-type': 'Wake' });
  });

  test('the target is the function, not the version or alias that ran', () => {
    expect(unqualifiedFunctionArn('arn:aws:lambda:eu-west-1:123456789012:function:d:live')).toBe('arn:aws:lambda:eu-west-1:123456789012:function:d');
    expect(unqualifiedFunctionArn('arn:aws:lambda:eu-west-1:123456789012:function:d')).toBe('arn:aws:lambda:eu-west-1:123456789012:function:d');
  });
});

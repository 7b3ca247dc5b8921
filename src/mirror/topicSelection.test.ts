/** Topic selection and naming, pure: whole-name regexes, excludes, the two policies, loop prevention, internal topics. */
import fc from 'fast-check';
import { TopicSelection } from './topicSelection';

const east = (extra: Partial<ConstructorParameters<typeof TopicSelection>[0]> = {}) => new TopicSelection({ sourceClusterId: 'east', targetClusterId: 'west', ...extra });

describe('topic selection', () => {
  test('include and exclude match whole names', () => {
    const s = east({ include: 'orders.*|payments', exclude: '.*-audit' });
    const { selected, rejected } = s.select(['orders', 'orders-audit', 'my-orders', 'payments', 'payments2']);
    expect(selected.map((t) => t.source)).toEqual(['orders', 'payments']);
    expect(rejected.map((r) => r.topic).sort()).toEqual(['my-orders', 'orders-audit', 'payments2']);
  });

  test('prefixed names are <source cluster>.<topic>; identity keeps the name', () => {
    expect(east().targetName('orders')).toBe('east.orders');
    expect(east({ naming: 'identity' }).targetName('orders')).toBe('orders');
    expect(east().sourceName('east.orders')).toBe('orders');
    expect(east().sourceName('west.orders')).toBeUndefined();
  });

  test("a topic that came from the target (prefixed with the target's id) is never copied, nor internal topics", () => {
    const s = east();
    expect(s.whyNot('west.orders')).toMatch(/loop prevention/);
    expect(s.whyNot('strand-mirror.west.state')).toBe('internal topic');
    expect(s.whyNot('__consumer_offsets')).toBe('internal topic');
    expect(s.select(['strand-mirror.x.state']).rejected).toEqual([]);
  });

  test('a target name longer than 249 characters is refused with why', () => {
    expect(east().whyNot('x'.repeat(248))).toMatch(/at most 249/);
    expect(east({ naming: 'identity' }).whyNot('x'.repeat(249))).toBeUndefined();
  });

  test('active-active: what east copies to west is never copied back (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z][a-z0-9.-]{0,12}$/), { maxLength: 20 }), (topics) => {
        const eastToWest = east();
        const westToEast = new TopicSelection({ sourceClusterId: 'west', targetClusterId: 'east' });
        const onWest = eastToWest.select(topics).selected.map((t) => t.target);
        for (const t of westToEast.select(onWest).selected) expect(t.source.startsWith('east.')).toBe(false);
      }),
    );
  });
});

/**
 * Every compatibility level, with real schema evolutions of a `User` record:
 * adding a field with and without a default, removing a field, renaming one
 * (with and without an alias), changing a type, promoting int to long. How: for
 * each (level, evolution) a fresh subject gets the level, v1, then the evolution;
 * registration must succeed (200) or be refused (409) exactly as Avro's
 * resolution rules say. The transitive levels are shown on three-version
 * histories that pass against the latest version but not against the first.
 */
import { expectStatus } from '../support/api';
import { startTestStrand, type TestStrand } from '../support/localStrand';
import { expectIncompatible, register, registryRequest, setCompatibility, user } from './support';

let strand: TestStrand;
beforeAll(async () => {
  strand = await startTestStrand();
});
afterAll(() => strand.dispose());

type Evolution = Exclude<keyof typeof user, 'v1'>;
/** [BACKWARD: the new schema reads v1 data, FORWARD: v1 reads the new schema's data] */
const readable: Record<Evolution, [backward: boolean, forward: boolean]> = {
  addFieldWithDefault: [true, true],
  addFieldWithoutDefault: [false, true],
  removeField: [true, false],
  renameField: [false, false],
  renameFieldWithAlias: [true, false],
  changeType: [false, false],
  promoteIntToLong: [true, false],
};

const levels = ['BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE', 'NONE'] as const;

function allowed(level: (typeof levels)[number], evolution: Evolution): boolean {
  const [backward, forward] = readable[evolution];
  if (level === 'NONE') return true;
  if (level.startsWith('BACKWARD')) return backward;
  if (level.startsWith('FORWARD')) return forward;
  return backward && forward;
}

const cases = levels.flatMap((level) => (Object.keys(readable) as Evolution[]).map((evolution) => [level, evolution, allowed(level, evolution)] as const));

describe('compatibility levels against the previous version', () => {
  test.each(cases)('%s: %s is %s', async (level, evolution, ok) => {
    const subject = `cmp-${level}-${evolution}`;
    await setCompatibility(strand.http, subject, level);
    await register(strand.http, subject, user.v1);
    const check = await registryRequest(strand.http, 'POST', `/compatibility/subjects/${subject}/versions/latest`, { schema: JSON.stringify(user[evolution]) });
    expect(check.json).toEqual({ is_compatible: ok });
    const res = await registryRequest(strand.http, 'POST', `/subjects/${subject}/versions`, { schema: JSON.stringify(user[evolution]) });
    if (ok) {
      expectStatus(res, 200);
      expect((await registryRequest(strand.http, 'GET', `/subjects/${subject}/versions`)).json).toEqual([1, 2]);
    } else {
      expectIncompatible(res);
      expect((await registryRequest(strand.http, 'GET', `/subjects/${subject}/versions`)).json).toEqual([1]);
    }
  });
});

const rec = (fields: unknown[]) => ({ type: 'record', name: 'Hist', fields });
const a = { name: 'a', type: 'int' };
const bDefault = { name: 'b', type: 'string', default: '' };
const bRequired = { name: 'b', type: 'string' };

/** Histories where the third schema is compatible with the second but not with the first, for the level. */
const transitive = [
  // v3 reads v2 data (b present) but not v1 data (b missing, no default).
  { level: 'BACKWARD', history: [rec([a]), rec([a, bDefault]), rec([a, bRequired])] },
  // v2 reads v3 data (b missing, default) but v1 cannot (b required).
  { level: 'FORWARD', history: [rec([a, bRequired]), rec([a, bDefault]), rec([a])] },
  // v3 and v2 read each other's data; v3 cannot read v1's.
  { level: 'FULL', history: [rec([a]), rec([a, bDefault]), rec([a, bRequired])] },
] as const;

describe('transitive levels check every live version, the others only the latest', () => {
  test.each(transitive)('$level accepts the third schema, ${level}_TRANSITIVE refuses it', async ({ level, history }) => {
    for (const l of [level, `${level}_TRANSITIVE`]) {
      const subject = `hist-${l}`;
      await setCompatibility(strand.http, subject, l === level ? level : 'NONE');
      await register(strand.http, subject, history[0]);
      await register(strand.http, subject, history[1]);
      await setCompatibility(strand.http, subject, l);
      const res = await registryRequest(strand.http, 'POST', `/subjects/${subject}/versions`, { schema: JSON.stringify(history[2]) });
      if (l === level) expectStatus(res, 200);
      else expectIncompatible(res);
    }
  });

  test('a soft-deleted version no longer constrains transitive checks', async () => {
    const subject = 'hist-deleted';
    await setCompatibility(strand.http, subject, 'BACKWARD_TRANSITIVE');
    await register(strand.http, subject, rec([a]));
    await register(strand.http, subject, rec([a, bDefault]));
    expectIncompatible(await registryRequest(strand.http, 'POST', `/subjects/${subject}/versions`, { schema: JSON.stringify(rec([a, bRequired])) }));
    expectStatus(await registryRequest(strand.http, 'DELETE', `/subjects/${subject}/versions/1`), 200);
    expectStatus(await registryRequest(strand.http, 'POST', `/subjects/${subject}/versions`, { schema: JSON.stringify(rec([a, bRequired])) }), 200);
  });
});

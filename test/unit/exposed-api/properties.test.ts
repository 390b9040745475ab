// Properties of the admission model over generated input (fast-check, seeded
// so that a failure reproduces): the checks never throw and always answer; the
// mutation is idempotent and changes no meaning.
import t from 'tap';
import fc from 'fast-check';
import jsonpatch from 'fast-json-patch';
import { checkAndNormalise, checkExposedApi } from '../../../shared/exposed-api/check.ts';
import { withDefaults } from '../../../shared/exposed-api/defaults.ts';
import { hostileJson, plausible, shell } from '../../helpers/exposed-api-arbitraries.ts';

const RUNS = { seed: 20261207, numRuns: 2000 };

t.test('the checks never throw, and answer with a model or with problems', async (t) => {
  fc.assert(
    fc.property(fc.oneof(hostileJson, shell), (input) => {
      const result = checkAndNormalise(input);
      if ('model' in result) return typeof result.model.key.name === 'string';
      return result.problems.length > 0 && result.problems.every((p) => typeof p.message === 'string');
    }),
    RUNS,
  );
  t.pass(`${RUNS.numRuns} hostile inputs`);
});

t.test('mutation: a second one is an empty patch, and it changes no meaning', async (t) => {
  let accepted = 0;
  fc.assert(
    fc.property(plausible, (object) => {
      const once = withDefaults(object);
      if (jsonpatch.compare(once, withDefaults(once)).length > 0) return false;
      const before = checkAndNormalise(object);
      const after = checkAndNormalise(once);
      if (!('model' in before)) return !('model' in after);
      accepted += 1;
      return 'model' in after && JSON.stringify(after.model) === JSON.stringify(before.model);
    }),
    { ...RUNS, numRuns: 500 },
  );
  t.ok(accepted > 100, `${accepted} of 500 generated resources accepted`);
});

t.test('the checks are deterministic and leave their input alone', async (t) => {
  fc.assert(
    fc.property(fc.oneof(plausible, shell), (object) => {
      const copy = structuredClone(object);
      const first = checkExposedApi(object);
      const second = checkExposedApi(object);
      return JSON.stringify(first) === JSON.stringify(second) && JSON.stringify(object) === JSON.stringify(copy);
    }),
    { ...RUNS, numRuns: 500 },
  );
  t.pass('deterministic, input untouched');
});

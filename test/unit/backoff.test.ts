import t from 'tap';
import { backoffDelay } from '../../shared/backoff.ts';

const settings = { baseMs: 1000, maxMs: 300_000 };

t.test('grows exponentially, from the upper half of each step, and stops at the cap', async (t) => {
  const cases: [number, number, number][] = [
    [1, 500, 1000],
    [2, 1000, 2000],
    [3, 2000, 4000],
    [10, 150_000, 300_000],
    [40, 150_000, 300_000],
  ];
  for (const [attempt, low, high] of cases) {
    t.equal(
      backoffDelay(attempt, settings, () => 0),
      low,
      `attempt ${attempt}, lowest draw`,
    );
    t.equal(
      backoffDelay(attempt, settings, () => 1),
      high,
      `attempt ${attempt}, highest draw`,
    );
  }
});

t.test("a server's Retry-After is a floor, itself capped", async (t) => {
  t.equal(
    backoffDelay(1, settings, () => 0, 30_000),
    30_000,
  );
  t.equal(
    backoffDelay(10, settings, () => 1, 30_000),
    300_000,
    'a longer backoff stands',
  );
  t.equal(
    backoffDelay(1, settings, () => 0, 10 * 3600_000),
    300_000,
    'an absurd Retry-After is capped',
  );
});

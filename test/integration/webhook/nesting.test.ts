// Objects nested without bound (10,000 levels): both webhooks answer with a
// denial that names the field, never a 500, and keep serving.
import t from 'tap';
import { admissionReview, get, post } from '../../helpers/admission.ts';
import { exposedApi, seedExposedApi } from '../../helpers/resources.ts';
import { startTestWebhook } from '../../helpers/webhook.ts';

const webhook = await startTestWebhook();
t.teardown(() => webhook.close());

const LEVELS = 10_000;
/** JSON text nested `levels` deep; built as text, since the test's own JSON.stringify would overflow on the object. */
const deepJson = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
const MARK = '"__DEEP__"';
/** A review whose `spec.specification` (or another marked value) is the deep JSON. */
const reviewText = (review: object) => JSON.stringify(review).replace(MARK, deepJson(LEVELS));
const deepSpec = exposedApi({ specification: '__DEEP__' as never }, { name: 'deep' });

for (const path of ['/validate', '/mutate']) {
  t.test(`${path}: a spec.specification 10,000 levels deep is denied, naming the field`, async (t) => {
    const { status, json } = await post(webhook.agent, `${webhook.url}${path}`, reviewText(admissionReview(deepSpec)));
    t.equal(status, 200, 'an answer, not a server error');
    t.equal(json.response.allowed, false);
    t.match(json.response.status.message, /spec\.specification: is nested more than 100 levels deep/);
  });
}

t.test(
  'an update whose stored old object is that deep is checked as a change, and a fixed one is allowed',
  async (t) => {
    const fixed = exposedApi({}, { name: 'deep' });
    const review = admissionReview(fixed, { operation: 'UPDATE', oldObject: deepSpec });
    for (const path of ['/validate', '/mutate']) {
      const { status, json } = await post(webhook.agent, `${webhook.url}${path}`, reviewText(review));
      t.equal(status, 200, path);
      t.equal(json.response.allowed, true, `${path} allows the fix`);
    }
  },
);

t.test('a DELETE of a deep object is allowed (cleanup must never be blocked)', async (t) => {
  const review = admissionReview(null, { operation: 'DELETE', oldObject: deepSpec });
  const { status, json } = await post(webhook.agent, `${webhook.url}/validate`, reviewText(review));
  t.equal(status, 200);
  t.equal(json.response.allowed, true);
});

t.test('an inline OpenAPI document 10,000 levels deep is denied as a document (its own limit: 500)', async (t) => {
  const text = `{"swagger":"2.0","info":{"title":"x","version":"1"},"paths":{},"definitions":${deepJson(LEVELS)}}`;
  const { status, json } = await post(
    webhook.agent,
    `${webhook.url}/validate`,
    admissionReview(seedExposedApi({ specification: text })),
  );
  t.equal(status, 200);
  t.equal(json.response.allowed, false);
  t.match(json.response.status.message, /the specification is nested more than 500 levels deep at definitions\.a/);
});

t.test('the webhook still serves', async (t) => {
  t.equal((await get(webhook.agent, `${webhook.url}/healthz`)).status, 200);
});

// MONITORED_NAMESPACES: elsewhere another API operator serves ExposedAPIs; this webhook leaves them untouched.
import t from 'tap';
import { admissionReview, get, patchOf, post } from '../../helpers/admission.ts';
import { exposedApi } from '../../helpers/resources.ts';
import { queuedKeys, startTestWebhook } from '../../helpers/webhook.ts';

const webhook = await startTestWebhook({ MONITORED_NAMESPACES: 'components,odacompns-*' });
t.teardown(() => webhook.close());
const call = async (path: string, review: object) =>
  (await post(webhook.agent, `${webhook.url}${path}`, review)).json.response;

t.test('an ExposedAPI outside the monitored namespaces is neither checked, defaulted, denied nor queued', async (t) => {
  const invalid = exposedApi({ path: 'no-leading-slash', port: 99999 }, { namespace: 'elsewhere', name: 'theirs' });
  const validated = await call('/validate', admissionReview(invalid));
  t.equal(validated.allowed, true, 'not denied: not ours to judge');
  t.notOk(validated.warnings, 'no warnings');
  const mutated = await call('/mutate', admissionReview(invalid));
  t.equal(mutated.allowed, true);
  t.same(patchOf(mutated), [], 'no finalizer, no defaults');
  t.same(await queuedKeys(webhook.queue), [], 'nothing queued');
  const metrics = await get(webhook.agent, `${webhook.url}/metrics`);
  t.match(metrics.text, /apim_operator_webhook_admissions_total\{[^}]*result="ignored"[^}]*\} 1/);
});

t.test('inside them, by name or by glob, it is checked as always', async (t) => {
  for (const namespace of ['components', 'odacompns-42']) {
    const invalid = exposedApi({ path: 'no-leading-slash' }, { namespace, name: 'ours' });
    const validated = await call('/validate', admissionReview(invalid));
    t.equal(validated.allowed, false, `${namespace}: denied`);
    t.match(validated.status.message, /spec\.path/);
  }
});

// Every name the operator derives from an ExposedAPI's key, over a generated
// set of the longest legal keys and keys that differ only past any truncation
// point: valid for where it goes, and never shared by two keys.
import t from 'tap';
import { apiIdFor } from '../../../reconciler/render/api-id.ts';
import { subscriptionIdFor, subscriptionSecretName } from '../../../reconciler/render/subscription-secret.ts';
import { renderIngress } from '../../../reconciler/render/ingress.ts';
import { checkAndNormalise } from '../../../shared/exposed-api/check.ts';
import { exposedApi } from '../../helpers/resources.ts';

const API_ID = /^[a-z][a-z0-9-]{0,78}[a-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Strings of `length` legal characters, in variants that differ only at the end, in the middle, or by a dot. */
function variants(length: number, alphabet: 'label' | 'subdomain'): string[] {
  const base = (c: string) => `a${c.repeat(Math.max(0, length - 2))}${length > 1 ? 'z' : ''}`.slice(0, length);
  const out = new Set([base('b'), base('c')]);
  if (length >= 2) {
    out.add(`${base('b').slice(0, -1)}y`);
    out.add(`${base('b').slice(0, -1)}0`);
  }
  if (length >= 5) {
    const middle = Math.floor(length / 2);
    out.add(`${base('b').slice(0, middle)}-${base('b').slice(middle + 1)}`);
    if (alphabet === 'subdomain') out.add(`${base('b').slice(0, middle)}.${base('b').slice(middle + 1)}`);
  }
  return [...out];
}

const namespaces = [1, 2, 30, 62, 63].flatMap((n) => variants(n, 'label'));
const names = [1, 2, 40, 63, 64, 79, 80, 81, 200, 240, 243, 244, 252, 253].flatMap((n) => variants(n, 'subdomain'));

t.test(`${namespaces.length} namespaces × ${names.length} names: valid and unique everywhere`, async (t) => {
  const apiIds = new Map<string, string>();
  const secrets = new Map<string, string>();
  let checked = 0;
  const invalid: string[] = [];
  for (const namespace of namespaces) {
    for (const name of names) {
      const key = `${namespace}/${name}`;
      const result = checkAndNormalise(exposedApi({}, { name, namespace }));
      if (!('model' in result)) {
        invalid.push(`${key}: ${result.problems.map((p) => p.message).join('; ')}`);
        continue;
      }
      const apiId = apiIdFor(namespace, name);
      const subscription = subscriptionIdFor(apiId);
      const secret = subscriptionSecretName({ namespace, name });
      const ingress = renderIngress(result.model).metadata.name;
      if (!API_ID.test(apiId)) invalid.push(`${key}: API id ${apiId}`);
      if (subscription.length > 256 || !/^[a-z0-9-]+$/.test(subscription))
        invalid.push(`${key}: subscription ${subscription}`);
      if (secret.length > 253 || !DNS_SUBDOMAIN.test(secret)) invalid.push(`${key}: Secret ${secret}`);
      if (ingress.length > 253 || !DNS_SUBDOMAIN.test(ingress)) invalid.push(`${key}: Ingress ${ingress}`);
      const otherApi = apiIds.get(apiId);
      if (otherApi) invalid.push(`${key} and ${otherApi} share the API id ${apiId}`);
      apiIds.set(apiId, key);
      const secretKey = `${namespace}/${secret}`;
      const otherSecret = secrets.get(secretKey);
      if (otherSecret) invalid.push(`${key} and ${otherSecret} share the Secret ${secretKey}`);
      secrets.set(secretKey, key);
      checked += 1;
    }
  }
  t.same(invalid, [], 'no invalid or shared name');
  t.equal(checked, namespaces.length * names.length, 'every key of the set is a legal ExposedAPI');
  t.equal(new Set([...apiIds.keys()].map(subscriptionIdFor)).size, checked, 'subscription ids unique');
});

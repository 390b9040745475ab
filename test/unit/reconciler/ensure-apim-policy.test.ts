import t from 'tap';
import type { ApimApiState, ApimClient } from '../../../reconciler/clients/apim.ts';
import type { ensureApim as EnsureApim } from '../../../reconciler/steps/ensure-apim.ts';
import { model } from '../../helpers/golden.ts';
import { exposedApi } from '../../helpers/resources.ts';
import { countingXmlParser } from '../../helpers/counting-xml-parser.ts';

/** An APIM of one API that, like the real one, stores a policy reformatted and answers the write with what it stored. */
function apimOfOne(): { client: ApimClient; policy(): string | undefined; edit(xml: string): void; writes: string[] } {
  let api: ApimApiState | undefined;
  let policy: string | undefined;
  const writes: string[] = [];
  const reformat = (xml: string): string => xml.replace(/></g, '>\r\n  <').replace(/\/>/g, ' />');
  const client = {
    getApi: async () => api,
    putApi: async (id: string, definition: Omit<ApimApiState, 'id' | 'etag'>) => {
      writes.push('api');
      api = { ...definition, id, etag: 'e1' } as ApimApiState;
    },
    getPolicy: async () => policy,
    putPolicy: async (_id: string, xml: string) => {
      writes.push('policy');
      policy = reformat(xml);
      return policy;
    },
  } as unknown as ApimClient;
  return { client, policy: () => policy, edit: (xml) => (policy = xml), writes };
}

t.test(
  'a published policy is found unchanged by the next reconcile without parsing; one edited since is put back',
  async (t) => {
    const parser = countingXmlParser();
    const { ensureApim } = await t.mockImport<{ ensureApim: typeof EnsureApim }>(
      '../../../reconciler/steps/ensure-apim.ts',
      parser.mocks,
    );
    const apim = apimOfOne();
    const api = model(exposedApi());
    const settings = { policy: { quotaPeriodSeconds: 86400 } };
    const publish = await ensureApim(apim.client, api, 'http://svc.ns.svc.cluster.local', undefined, settings, false);
    t.same(publish.written, ['api-created', 'policy']);
    t.not(apim.policy(), undefined);

    const resync = await ensureApim(apim.client, api, 'http://svc.ns.svc.cluster.local', undefined, settings, true);
    t.same(resync, { apiId: publish.apiId, written: [], drift: [] }, 'APIM is found as published');
    t.equal(parser.parses(), 0, 'the stored text was known to mean the rendered one: no parse');

    apim.edit(apim.policy()!.replace('<inbound>', '<inbound>\r\n    <set-header name="x" exists-action="override" />'));
    const repaired = await ensureApim(apim.client, api, 'http://svc.ns.svc.cluster.local', undefined, settings, true);
    t.same(repaired.drift, ['policy'], 'a policy edited by hand is drift');
    t.same(apim.writes, ['api', 'policy', 'policy'], 'and is written again');
    t.equal(parser.parses(), 2, 'found by parsing both texts');
  },
);

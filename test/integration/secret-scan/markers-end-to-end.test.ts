// A small run of the product with marker secrets (as `npm run test:secrets`
// runs the whole suite): one ExposedAPI with an API key published, its key
// in a Secret, then deleted. Everything recorded of it holds no marker.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanRecording } from '../../../scripts/secret-scan/scan-recording.ts';
import { reconcilerUnderTest } from '../../helpers/reconciler-env.ts';
import { exposedApi } from '../../helpers/resources.ts';

const dir = mkdtempSync(join(tmpdir(), 'secret-scan-e2e-'));
// Set before any stand-in starts: they read it when they hand out a secret.
process.env.SECRET_SCAN_DIR = dir;
const NS = 'components';
const NAME = 'keyed';
const ref = { group: 'oda.tmforum.org', version: 'v1', namespace: NS, plural: 'exposedapis', name: NAME };

await t.test('an API with a key published and deleted, with marker secrets', async (t) => {
  const { world, custom } = await reconcilerUnderTest(t);
  const { kube } = world;
  const status = (): any => (kube.get('exposedapis', NS, NAME) as any)?.status;
  await custom.createNamespacedCustomObject({
    ...ref,
    body: exposedApi(
      {
        path: `/${NAME}/tmf-api/v4`,
        specification: { url: `${world.specs.url}/tmf620.json`, version: 'v4.0.0' },
        apiKeyVerification: { enabled: true },
      },
      { name: NAME, metadata: { finalizers: ['oda.tmforum.org/apim-cleanup'] } },
    ),
  });
  await world.giveAddress(NS, NAME);
  await kube.waitFor(() => status()?.apiStatus?.subscriptionKeySecret !== undefined, 60_000);
  const secret: any = kube.get('secrets', NS, status().apiStatus.subscriptionKeySecret);
  t.match(
    Buffer.from(secret.data.primaryKey, 'base64').toString('utf8'),
    /^MARKER-SUBSCRIPTION-KEY-[0-9a-f]+$/,
    'the key the product handled was a marker',
  );
  await custom.deleteNamespacedCustomObject(ref);
  await kube.waitFor(() => kube.get('exposedapis', NS, NAME) === undefined, 60_000);
  await world.idle();
});

t.test('what the run produced holds no marker', async (t) => {
  const { markers, scanned, leaks } = scanRecording(dir);
  t.same(leaks, [], 'no marker in any recorded output');
  t.ok(markers['CLIENT-SECRET'], 'the client secret was a marker');
  t.ok(markers['SUBSCRIPTION-KEY'], 'the subscription keys were markers');
  for (const kind of ['logs', 'jobs', 'kube', 'metrics'] as const)
    t.ok(scanned[kind].lines > 0, `${kind} recorded and searched: ${scanned[kind].lines} lines`);
});

import t, { type Test } from 'tap';
import { apiIdFor } from '../../../reconciler/render/api-id.ts';
import { canvasExposedApis, implementationsOf, productCatalogComponent } from '../../helpers/canvas-component.ts';
import { startComponentOperator } from '../../helpers/component-operator.ts';
import { reconcilerUnderTest } from '../../helpers/reconciler-env.ts';

const NS = 'components';
type Obj = Record<string, any>;

async function canvas(t: Test) {
  const { world } = await reconcilerUnderTest(t, { requireReadyEndpoints: true });
  const operator = startComponentOperator(world.kube.kubeconfig(), NS);
  t.teardown(() => operator.close());
  const component = (name: string): Obj | undefined => world.kube.get('components', NS, name) as Obj | undefined;
  const exposed = (name: string): Obj | undefined => world.kube.get('exposedapis', NS, name) as Obj | undefined;
  const entries = (name: string): Obj[] =>
    ['coreAPIs', 'managementAPIs', 'securityAPIs'].flatMap((list) => component(name)?.status?.[list] ?? []);
  /** Gives every core API's Ingress an address, as the ingress controller does once it sees them. */
  const addresses = async (c: Obj): Promise<void> => {
    for (const { object } of canvasExposedApis(c)) {
      if (object.spec.segment === 'coreFunction' && object.spec.apiType === 'openapi')
        await world.giveAddress(NS, object.metadata.name);
    }
  };
  const complete = (name: string) =>
    world.kube.waitFor(() => component(name)?.status?.['summary/status']?.deployment_status === 'Complete', 60_000);
  return { world, operator, component, exposed, entries, addresses, complete };
}

function assertEntriesMatchChildren(t: Test, entries: Obj[], exposed: (name: string) => Obj | undefined): void {
  for (const entry of entries) {
    const child = exposed(entry.name);
    t.ok(child, `${entry.name}: the entry names its ExposedAPI`);
    t.equal(entry.uid, child?.metadata.uid, `${entry.name}: same uid`);
    t.equal(child?.status?.apiStatus?.name, entry.name, `${entry.name}: apiStatus.name is the resource name`);
    t.equal(entry.url, child?.status?.apiStatus?.url, `${entry.name}: url copied`);
    t.equal(entry.developerUI, child?.status?.apiStatus?.developerUI, `${entry.name}: developerUI copied`);
    t.equal(entry.ready, true, `${entry.name}: ready`);
  }
}

t.test('a productcatalog component goes to Complete only once its Services have ready endpoints', async (t) => {
  const { world, operator, component, exposed, entries, addresses, complete } = await canvas(t);
  const chart = productCatalogComponent({ specs: world.specs.url });
  for (const service of implementationsOf(chart)) world.implementation(NS, service, { endpoints: [false] });
  await operator.install(chart);
  const name = chart.metadata.name;
  await addresses(component(name) as Obj);
  const children = canvasExposedApis(component(name) as Obj).map((c) => c.object.metadata.name);
  t.equal(children.length, 3, 'core, management and security APIs');

  // Published or in the mesh, but no Pod ready: every entry has its url, none is ready.
  await world.kube.waitFor(() => entries(name).length === 3 && entries(name).every((e) => e.url), 60_000);
  await world.idle();
  t.same(
    entries(name).map((e) => e.ready),
    [false, false, false],
  );
  t.equal(await operator.deploymentStatus(NS, name), 'In-Progress-CompCon');
  for (const child of children) {
    const conditions: Obj[] = exposed(child)?.status?.conditions ?? [];
    t.equal(conditions.find((c) => c.type === 'ImplementationReady')?.reason, 'NoReadyEndpoints', child);
    t.equal(conditions.find((c) => c.type === 'Ready')?.status, 'False', child);
  }
  t.ok(world.azure.arm.state().apis[apiIdFor(NS, children[0] as string)], 'the core API is in APIM already');

  for (const service of implementationsOf(chart)) world.implementation(NS, service, { endpoints: [false, true] });
  await complete(name);
  assertEntriesMatchChildren(t, entries(name), exposed);
  t.ok(
    entries(name).some((e) => e.developerUI),
    'the developer UI reaches the Component',
  );

  // A Pod goes unready again: the entry follows, true and false.
  world.implementation(NS, implementationsOf(chart)[0] as string, { endpoints: [false] });
  await world.kube.waitFor(() => component(name)?.status?.coreAPIs?.[0]?.ready === false, 30_000);
  await world.kube.waitFor(
    () => component(name)?.status?.['summary/status']?.deployment_status === 'In-Progress-CompCon',
    30_000,
  );
});

t.test('the status entry may come before or after the API is published', async (t) => {
  const { world, operator, component, exposed, entries, addresses, complete } = await canvas(t);

  // Before: the lists are written at once, while no Ingress has an address yet.
  const before = productCatalogComponent({ release: 'before', specs: world.specs.url });
  for (const service of implementationsOf(before)) world.implementation(NS, service);
  await operator.install(before);
  const beforeName = before.metadata.name;
  t.same(
    entries(beforeName).map((e) => e.url),
    [undefined, undefined, undefined],
    'the entries exist before any url',
  );
  await addresses(component(beforeName) as Obj);
  await complete(beforeName);
  assertEntriesMatchChildren(t, entries(beforeName), exposed);

  // After: every API is ready before the component operator writes its lists.
  const after = productCatalogComponent({ release: 'after', specs: world.specs.url });
  for (const service of implementationsOf(after)) world.implementation(NS, service);
  const afterName = after.metadata.name;
  await operator.install(after, {
    statusListsAfter: async () => {
      const names = canvasExposedApis(component(afterName) as Obj).map((c) => c.object.metadata.name);
      await addresses(component(afterName) as Obj);
      await world.kube.waitFor(() => names.every((n) => exposed(n)?.status?.implementation?.ready === true), 60_000);
    },
  });
  await complete(afterName);
  assertEntriesMatchChildren(t, entries(afterName), exposed);
});

t.test('upgrades add and remove APIs, nothing loops over a quiet minute, uninstall cleans up', async (t) => {
  const { world, operator, component, exposed, entries, addresses, complete } = await canvas(t);
  const v1 = productCatalogComponent({ specs: world.specs.url });
  const v2 = productCatalogComponent({ specs: world.specs.url, promotion: true });
  const v3 = productCatalogComponent({ specs: world.specs.url, promotion: true, withoutSecurity: true });
  for (const service of implementationsOf(v2)) world.implementation(NS, service);
  const name = v1.metadata.name;
  await operator.install(v1);
  await addresses(component(name) as Obj);
  await complete(name);

  await operator.upgrade(v2);
  t.equal(component(name)?.status?.coreAPIs?.length, 2, 'the added API has its entry');
  await addresses(component(name) as Obj);
  const promotion = `${name}-promotionmanagement-v4`;
  await world.kube.waitFor(() => component(name)?.status?.coreAPIs?.[1]?.ready === true, 60_000);
  await complete(name);
  t.ok(world.azure.arm.state().apis[apiIdFor(NS, promotion)], 'the added API is in APIM');
  assertEntriesMatchChildren(t, entries(name), exposed);

  const security = `${name}-partyrole`;
  t.ok(exposed(security), 'the security API is there before the second upgrade');
  await operator.upgrade(v3);
  await world.kube.waitFor(() => exposed(security) === undefined, 60_000);
  t.notOk(world.kube.get('ingresses', NS, security), 'its Ingress went with it');
  await complete(name);
  t.same(component(name)?.status?.securityAPIs, [], 'no security entry left');
  t.equal(entries(name).length, 3);
  assertEntriesMatchChildren(t, entries(name), exposed);

  // A quiet minute: the component operator rewrites the Component every 5 s, as kopf's resumes and touches do.
  await world.idle();
  const componentWrites = () =>
    world.kube.requests.filter(
      (r) => r.resource === 'components.oda.tmforum.org' && ['create', 'update', 'patch', 'delete'].includes(r.verb),
    ).length;
  const statusWrites = () =>
    world.kube.requests.filter(
      (r) => r.resource === 'exposedapis.oda.tmforum.org' && ['update', 'patch'].includes(r.verb),
    ).length;
  const [componentsAtStart, standInAtStart, statusAtStart, apimAtStart] = [
    componentWrites(),
    operator.writes(),
    statusWrites(),
    world.azure.arm.requests.filter((r) => r.method !== 'GET').length,
  ];
  const rewrites = 12;
  for (let i = 0; i < rewrites; i++) {
    await operator.rewrite(NS, name);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
  }
  await world.idle();
  const operatorComponentWrites = componentWrites() - componentsAtStart - (operator.writes() - standInAtStart);
  t.equal(operatorComponentWrites, 0, 'this operator wrote the Component not once in the quiet minute');
  t.equal(statusWrites() - statusAtStart, 0, 'nor any ExposedAPI');
  t.equal(world.azure.arm.requests.filter((r) => r.method !== 'GET').length - apimAtStart, 0, 'nor APIM');
  t.equal(await operator.deploymentStatus(NS, name), 'Complete', 'still Complete');

  const children = canvasExposedApis(component(name) as Obj).map((c) => c.object.metadata.name);
  await operator.uninstall(NS, name);
  await world.kube.waitFor(() => children.every((c) => exposed(c) === undefined), 60_000);
  for (const child of children) {
    t.notOk(world.azure.arm.state().apis[apiIdFor(NS, child)], `${child}: gone from APIM`);
    t.notOk(world.kube.get('ingresses', NS, child), `${child}: Ingress gone`);
  }
});

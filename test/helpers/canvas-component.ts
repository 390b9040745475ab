/**
 * What the ODA Canvas component operator makes of a Component: its
 * ExposedAPI children, shaped as `componentOperator.py` shapes them
 * (tmforum-oda/oda-canvas, source/operators/component-management). Two forms:
 *
 * - core APIs go through `normalize_apis` (one child per specification
 *   entry, named `<component>-<api>-<version>`, the version taken from the
 *   entry or inferred from its URL, else v4) and
 *   `constructAPIResourcePayload_core_exposed` (only the CRD's fields, the
 *   gatewayConfiguration keys lifted to the top, null ones left out);
 * - management and security APIs go through `constructAPIResourcePayload`:
 *   the Component's entry as it is, gatewayConfiguration flattened into it,
 *   named `<component>-<api>`.
 *
 * Both carry the segment and are adopted: owner reference, namespace and the
 * Component's labels (kopf.adopt). Pure, so that the forms test and the
 * component-operator stand-in share one reading of the Canvas.
 */

type Obj = Record<string, any>;

export const CANVAS_SEGMENTS = [
  { segment: 'coreFunction', statusKey: 'coreAPIs' },
  { segment: 'managementFunction', statusKey: 'managementAPIs' },
  { segment: 'securityFunction', statusKey: 'securityAPIs' },
] as const;
export type CanvasStatusKey = (typeof CANVAS_SEGMENTS)[number]['statusKey'];

export interface CanvasExposedApi {
  readonly segment: string;
  readonly statusKey: CanvasStatusKey;
  readonly object: Obj;
}

/** `infer_major_version_from_url`: `_v4.0.0_`, `/v4/` or `-v4.` in the URL. */
export function inferMajorVersion(url: unknown, fallback = 'v4'): string {
  if (typeof url !== 'string') return fallback;
  for (const pattern of [/_v(\d+)\./, /\/v(\d+)\//, /-v(\d+)\./]) {
    const match = pattern.exec(url);
    if (match) return `v${match[1]}`;
  }
  return fallback;
}

const EXPOSED_KEYS = [
  'apiType',
  'resources',
  'apiSDO',
  'implementation',
  'gatewayConfiguration',
  'path',
  'developerUI',
  'port',
];

/** `normalize_apis(list, "exposed")`: one flattened entry per specification entry. */
export function normalizeApis(apis: readonly Obj[]): Obj[] {
  return apis.flatMap((api) => {
    const rootUrl = api.url;
    const specs: Obj[] = Array.isArray(api.specification) && api.specification.length > 0 ? api.specification : [{}];
    return specs.map((spec) => {
      const url = spec.url ?? rootUrl;
      const version = spec.version ?? (url ? inferMajorVersion(url) : undefined) ?? 'v4';
      const entry: Obj = { name: api.name, id: api.id, _apiGroup: 'core-function-api', version };
      if (url) entry.url = url;
      for (const key of EXPOSED_KEYS) {
        if (key in spec) entry[key] = spec[key];
        else if (key in api) entry[key] = api[key];
      }
      entry.specification = [{ url: url ?? null, version }];
      return entry;
    });
  });
}

function adopted(component: Obj, name: string, spec: Obj): Obj {
  const { metadata } = component;
  return {
    apiVersion: 'oda.tmforum.org/v1',
    kind: 'ExposedAPI',
    metadata: {
      name: name.toLowerCase(),
      namespace: metadata.namespace,
      labels: { ...metadata.labels },
      ownerReferences: [
        {
          apiVersion: component.apiVersion,
          kind: 'Component',
          name: metadata.name,
          uid: metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec,
  };
}

function coreExposed(component: Obj, entry: Obj): Obj {
  const spec: Obj = {
    name: entry.name,
    apiType: entry.apiType ?? 'openapi',
    implementation: entry.implementation,
    path: entry.path,
    port: entry.port,
  };
  for (const key of ['developerUI', 'resources', 'required']) if (key in entry) spec[key] = entry[key];
  const gateway = entry.gatewayConfiguration;
  if (gateway && typeof gateway === 'object') {
    for (const key of ['apiKeyVerification', 'rateLimit', 'quota', 'OASValidation', 'CORS', 'template'])
      if (gateway[key] !== undefined && gateway[key] !== null) spec[key] = gateway[key];
  }
  spec.specification = entry.specification;
  spec.segment = 'coreFunction';
  const version = String(entry.version ?? 'v4')
    .toLowerCase()
    .replace(/\./g, '-');
  return adopted(component, `${component.metadata.name}-${String(entry.name ?? '').toLowerCase()}-${version}`, spec);
}

function flattened(component: Obj, api: Obj, segment: string): Obj {
  const { gatewayConfiguration, ...rest } = structuredClone(api);
  const spec: Obj = { ...rest, ...gatewayConfiguration, segment };
  return adopted(component, `${component.metadata.name}-${api.name}`, spec);
}

/** Every ExposedAPI the component operator creates for this Component, in its order. */
export function canvasExposedApis(component: Obj): CanvasExposedApi[] {
  return CANVAS_SEGMENTS.flatMap(({ segment, statusKey }) => {
    const apis: Obj[] = component.spec?.[segment]?.exposedAPIs ?? [];
    const objects =
      segment === 'coreFunction'
        ? normalizeApis(structuredClone(apis)).map((e) => coreExposed(component, e))
        : apis.map((api) => flattened(component, api, segment));
    return objects.map((object) => ({ segment, statusKey, object }));
  });
}

/** The apipolicy values of the CTK's productcatalog chart, unset ones rendered as `""`. */
export const CTK_GATEWAY_CONFIGURATION = Object.freeze({
  apiKeyVerification: { enabled: false, location: 'header' },
  rateLimit: { enabled: false, identifier: 'IP', limit: '6', interval: 'pm' },
  quota: { identifier: '', limit: '' },
  OASValidation: {
    requestEnabled: false,
    responseEnabled: false,
    allowUnspecifiedHeaders: false,
    allowUnspecifiedQueryParams: false,
    allowUnspecifiedCookies: false,
  },
  CORS: {
    enabled: false,
    allowCredentials: false,
    allowOrigins: 'https://allowed-origin.com, https://allowed-origin2.com',
    handlePreflightRequests: {
      enabled: false,
      allowHeaders:
        'Accept, X-Requested-With, Content-Type, Access-Control-Request-Method, Access-Control-Request-Headers',
      allowMethods: 'GET, POST',
      maxAge: 36000,
    },
  },
  template: '',
});

/** The fixtures hold two TM Forum documents; this one stands in for the party-role and promotion documents the CTK links to. */
const STAND_IN_DOCUMENT = 'TMF639-Resource_Inventory_Management-v5.0.0.oas.yaml';

export interface ProductCatalogOptions {
  readonly release?: string;
  readonly namespace?: string;
  /** Where the OpenAPI documents are served (the test's spec server). */
  readonly specs: string;
  /** Core APIs beyond the product catalog, as productcatalog-enhanced-v1 adds them. */
  readonly promotion?: boolean;
  /** Leave the security API out. */
  readonly withoutSecurity?: boolean;
}

/**
 * A Component as the CTK's productcatalog-v1 chart renders it (and, with
 * `promotion`, productcatalog-enhanced-v1's extra core API), with the
 * chart's apipolicy block as every API's gatewayConfiguration. The documents
 * are served by the test's spec server instead of GitHub.
 */
export function productCatalogComponent(options: ProductCatalogOptions): Obj {
  const release = options.release ?? 'r1';
  const name = `${release}-productcatalogmanagement`;
  const gatewayConfiguration = structuredClone(CTK_GATEWAY_CONFIGURATION);
  /** One OpenAPI entry as the chart renders them: served under the component's path, with a developer UI. */
  const openApi = (api: string, implementation: string, tmfPath: string, specification: Obj): Obj => ({
    name: api,
    specification: [specification],
    implementation: `${release}-${implementation}`,
    apiType: 'openapi',
    path: `/${name}/tmf-api/${tmfPath}/v4`,
    developerUI: `/${name}/tmf-api/${tmfPath}/v4/docs`,
    port: 8080,
    gatewayConfiguration,
  });
  const core: Obj[] = [
    openApi('productcatalogmanagement', 'prodcatapi', 'productCatalogManagement', {
      url: `${options.specs}/fixtures/TMF620-ProductCatalog-v4.0.0.swagger.json`,
    }),
  ];
  if (options.promotion) {
    core.push(
      openApi('promotionmanagement', 'promotionmanagement', 'promotionManagement', {
        url: `${options.specs}/fixtures/${STAND_IN_DOCUMENT}`,
        version: 'v4',
      }),
    );
  }
  const security: Obj[] = options.withoutSecurity
    ? []
    : [
        openApi('partyrole', 'partyroleapi', 'partyRoleManagement', {
          url: `${options.specs}/fixtures/${STAND_IN_DOCUMENT}`,
        }),
      ];
  return {
    apiVersion: 'oda.tmforum.org/v1',
    kind: 'Component',
    metadata: {
      name,
      namespace: options.namespace ?? 'components',
      labels: { 'oda.tmforum.org/componentName': name },
    },
    spec: {
      componentMetadata: {
        id: 'TMFC001',
        name: 'productcatalogmanagement',
        functionalBlock: 'CoreCommerce',
        version: '0.0.1',
        status: 'specified',
      },
      coreFunction: { exposedAPIs: core, dependentAPIs: [] },
      eventNotification: { publishedEvents: [], subscribedEvents: [] },
      managementFunction: {
        exposedAPIs: [
          {
            name: 'metrics',
            apiType: 'prometheus',
            implementation: `${name}-sm`,
            path: `/${name}/metrics`,
            port: 4000,
          },
        ],
      },
      securityFunction: { canvasSystemRole: 'Admin', exposedAPIs: security },
    },
  };
}

/** The implementing Services a Component's APIs need, one per distinct implementation. */
export function implementationsOf(component: Obj): string[] {
  return [...new Set(canvasExposedApis(component).map((e) => String(e.object.spec.implementation)))];
}

/**
 * A Component whose APIs take every path through the component operator
 * that the product catalog does not: a core API with two versions (each
 * with its own path), a core API with no specification (`[{url: null}]`), a
 * core API whose version comes from a `/v5/` URL, and a management OpenAPI
 * API with gatewayConfiguration (flattened as it is, blanks and all).
 */
export function everyCanvasFormComponent(options: { specs: string; namespace?: string }): Obj {
  const component = productCatalogComponent({ release: 'forms', specs: options.specs, namespace: options.namespace });
  const name = component.metadata.name;
  const gatewayConfiguration = structuredClone(CTK_GATEWAY_CONFIGURATION);
  component.spec.coreFunction.exposedAPIs.push(
    {
      name: 'resourceinventory',
      apiType: 'openapi',
      implementation: 'forms-resourceinventory',
      port: 8080,
      path: `/${name}/tmf-api/resourceInventory/v4`,
      specification: [
        { url: `${options.specs}/fixtures/TMF620-ProductCatalog-v4.0.0.swagger.json`, version: 'v4' },
        {
          url: `${options.specs}/fixtures/${STAND_IN_DOCUMENT}`,
          version: 'v5',
          path: `/${name}/tmf-api/resourceInventory/v5`,
        },
      ],
      gatewayConfiguration,
    },
    {
      name: 'nodocument',
      apiType: 'openapi',
      implementation: 'forms-nodocument',
      port: 8080,
      path: `/${name}/tmf-api/nodocument/v4`,
    },
    {
      name: 'inferred',
      apiType: 'openapi',
      implementation: 'forms-inferred',
      port: 8080,
      path: `/${name}/tmf-api/inferred/v5`,
      specification: [{ url: `${options.specs}/fixtures/v5/${STAND_IN_DOCUMENT}` }],
    },
  );
  component.spec.managementFunction.exposedAPIs.push({
    name: 'configuration',
    apiType: 'openapi',
    implementation: 'forms-configuration',
    port: 8080,
    path: `/${name}/tmf-api/configuration/v4`,
    specification: [{ url: `${options.specs}/fixtures/TMF620-ProductCatalog-v4.0.0.swagger.json` }],
    gatewayConfiguration,
  });
  return component;
}

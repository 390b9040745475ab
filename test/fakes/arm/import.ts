/** What an inline OpenAPI / Swagger import gives an API: its operations, title and backend URL. */
import { parse as parseYaml } from 'yaml';
import { validation } from './http.ts';

export interface ImportedOperation {
  readonly name: string;
  readonly method: string;
  readonly urlTemplate: string;
  readonly operationId?: string;
}

export interface ImportResult {
  readonly operations: ImportedOperation[];
  readonly title?: string;
  /** What APIM takes as serviceUrl when the request sends none: servers[0].url, or Swagger's scheme://host/basePath. */
  readonly serviceUrl?: string;
  readonly link?: string;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const FORMATS = [
  'openapi',
  'openapi+json',
  'openapi-link',
  'openapi+json-link',
  'swagger-json',
  'swagger-link-json',
  'wadl-xml',
  'wadl-link-json',
  'wsdl',
  'wsdl-link',
  'graphql-link',
];

function parseDocument(format: string, value: string): Record<string, unknown> {
  try {
    const doc: unknown = format === 'openapi' ? parseYaml(value) : JSON.parse(value);
    if (typeof doc === 'object' && doc !== null) return doc as Record<string, unknown>;
  } catch {
    /* answered below */
  }
  throw validation(`Parsing error(s): the ${format} document could not be parsed.`, [
    { code: 'ValidationError', target: 'value', message: `The ${format} document could not be parsed.` },
  ]);
}

function operationName(operationId: unknown, method: string, path: string): string {
  if (typeof operationId === 'string' && operationId.length > 0)
    return operationId.replace(/[^A-Za-z0-9-_]/g, '-').toLowerCase();
  return `${method}-${path}`
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .toLowerCase();
}

function backendOf(doc: Record<string, unknown>): string | undefined {
  const servers = doc.servers;
  if (Array.isArray(servers) && typeof servers[0]?.url === 'string') return servers[0].url as string;
  if (typeof doc.host === 'string') {
    const scheme = Array.isArray(doc.schemes) && typeof doc.schemes[0] === 'string' ? doc.schemes[0] : 'https';
    return `${scheme}://${doc.host}${typeof doc.basePath === 'string' ? doc.basePath : ''}`;
  }
  return undefined;
}

export function importDocument(format: string, value: string): ImportResult {
  if (!FORMATS.includes(format))
    throw validation(`Format '${format}' is not supported.`, [
      { code: 'ValidationError', target: 'format', message: `Unsupported format ${format}.` },
    ]);
  if (format.endsWith('-link') || format === 'wsdl-link') return { operations: [], link: value };
  if (!['openapi', 'openapi+json', 'swagger-json'].includes(format)) return { operations: [] };
  if (Buffer.byteLength(value) > 4 * 1024 * 1024)
    throw validation('Inline import documents are limited to 4 MB.', [
      { code: 'ValidationError', target: 'value', message: 'The document is larger than 4 MB.' },
    ]);
  const doc = parseDocument(format, value);
  const paths = (doc.paths ?? {}) as Record<string, Record<string, { operationId?: unknown }>>;
  const operations: ImportedOperation[] = [];
  for (const [path, item] of Object.entries(paths)) {
    for (const method of METHODS) {
      const op = item?.[method];
      if (op === undefined) continue;
      operations.push({
        name: operationName(op.operationId, method, path),
        method: method.toUpperCase(),
        urlTemplate: path,
        ...(typeof op.operationId === 'string' ? { operationId: op.operationId } : {}),
      });
    }
  }
  const title = (doc.info as { title?: unknown } | undefined)?.title;
  const serviceUrl = backendOf(doc);
  return { operations, ...(typeof title === 'string' ? { title } : {}), ...(serviceUrl ? { serviceUrl } : {}) };
}

/** The identity of an ExposedAPI everywhere in the product: jobs, logs, caches. */
export interface ResourceKey {
  readonly namespace: string;
  readonly name: string;
}

export function formatKey(key: ResourceKey): string {
  return `${key.namespace}/${key.name}`;
}

export function parseKey(text: string): ResourceKey | undefined {
  const parts = text.split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  return { namespace: parts[0], name: parts[1] };
}

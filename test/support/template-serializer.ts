/**
 * Snapshot serializer for synthesized templates: replaces values that change without any
 * change to what is deployed (asset hashes) with a placeholder, so a snapshot diff shows only
 * real changes to what will be deployed.
 */
const ASSET_HASH = /[0-9a-f]{64}/g;
const normalised = new WeakSet<object>();

function normalise(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(ASSET_HASH, '[ASSET HASH]');
  if (Array.isArray(value)) return value.map(normalise);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v)]));
  }
  return value;
}

type Print = (value: unknown, ...rest: unknown[]) => string;

export = {
  test(value: unknown): boolean {
    return value !== null && typeof value === 'object' && 'Resources' in value && !normalised.has(value);
  },
  serialize(
    value: object,
    config: unknown,
    indentation: string,
    depth: number,
    refs: unknown,
    printer: Print,
  ): string {
    const copy = normalise(value) as object;
    normalised.add(copy);
    return printer(copy, config, indentation, depth, refs);
  },
};

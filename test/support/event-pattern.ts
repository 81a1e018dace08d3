/**
 * Whether an EventBridge event matches a pattern, for the operators the blueprint's rules use:
 * a list of values (any of them), `{ prefix }`, `{ 'anything-but': { prefix } }` and
 * `{ 'anything-but': [values] }`, nested objects; a field the event lacks matches nothing, except
 * under `anything-but`, which EventBridge also does not match on an absent field.
 */
export function matchesEventPattern(
  pattern: Record<string, unknown>,
  event: Record<string, unknown>,
): boolean {
  return Object.entries(pattern).every(([key, expected]) => {
    const value = event[key];
    if (Array.isArray(expected)) {
      if (value === undefined) return false;
      const values = Array.isArray(value) ? (value as unknown[]) : [value];
      return values.some((v) => expected.some((e) => matchesValue(e, v)));
    }
    if (expected && typeof expected === 'object') {
      return (
        value !== null &&
        typeof value === 'object' &&
        matchesEventPattern(expected as Record<string, unknown>, value as Record<string, unknown>)
      );
    }
    throw new Error(`pattern field ${key}: expected a list or an object, got ${JSON.stringify(expected)}`);
  });
}

function matchesValue(expected: unknown, value: unknown): boolean {
  if (expected === null || typeof expected !== 'object') return expected === value;
  const rule = expected as Record<string, unknown>;
  if (typeof rule.prefix === 'string') return typeof value === 'string' && value.startsWith(rule.prefix);
  if ('anything-but' in rule) {
    const but = rule['anything-but'];
    if (Array.isArray(but)) return !but.includes(value);
    if (but && typeof (but as { prefix?: unknown }).prefix === 'string') {
      return typeof value === 'string' && !value.startsWith((but as { prefix: string }).prefix);
    }
    return value !== but;
  }
  throw new Error(`unsupported pattern operator ${JSON.stringify(expected)}`);
}

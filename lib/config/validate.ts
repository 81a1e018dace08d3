import type { z } from 'zod';
import { configSchema, type BlueprintConfig } from './schema';

/** A configuration that must not be synthesized; `problems` lists every field at fault. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`Invalid blueprint configuration (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates raw configuration and fills in defaults. Throws a ConfigError naming each field path,
 * the value found there and what is expected.
 */
export function validateConfig(raw: unknown, source = 'built-in defaults'): BlueprintConfig {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  throw new ConfigError(
    source,
    result.error.issues.map((issue) => describeIssue(issue, raw)),
  );
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys
      .map(
        (key) =>
          `${fieldPath([...issue.path, key])}: unknown field; check its spelling against docs/configuration-reference.md`,
      )
      .join('\n  - ');
  }
  const given = valueAt(raw, issue.path);
  // Cross-field checks name the value at fault, which may be a default the file did not set.
  const checked =
    issue.code === 'custom' ? (issue.params as { value?: unknown } | undefined)?.value : undefined;
  const found =
    checked !== undefined
      ? `got ${JSON.stringify(checked)}${given === undefined ? ' (default)' : ''}`
      : given !== undefined
        ? `got ${JSON.stringify(given)}`
        : 'missing';
  return `${fieldPath(issue.path)}: ${found}; ${issue.message.replace(/^Invalid input: /, '')}`;
}

function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, key) => (typeof key === 'number' ? `${text}[${key}]` : `${text}.${String(key)}`),
    'config',
  );
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let node: unknown = raw;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

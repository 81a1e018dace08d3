import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, validateConfig } from './validate';
import type { BlueprintConfig } from './schema';

/** The CDK context key naming the JSON configuration file: `cdk synth -c config=path/to/file.json`. */
export const CONFIG_CONTEXT_KEY = 'config';

/**
 * Reads and validates the configuration file, or returns the validated defaults when no file is
 * named. This is the only place the blueprint reads files for its configuration.
 */
export function loadConfig(path: string | undefined): BlueprintConfig {
  if (path === undefined || path === '') return validateConfig({});
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`cannot read the file: ${(err as Error).message}`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, [`not valid JSON: ${(err as Error).message}`]);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(file, ['config: expected a JSON object at the top level']);
  }
  return validateConfig(raw, file);
}

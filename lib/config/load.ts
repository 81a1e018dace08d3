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

/** Edit distance of two short strings (insertions, deletions, substitutions, transpositions). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * Context keys that look like a misspelt `config` (`-c conifg=my.json`): such a synth would
 * silently build the default blueprint. Feature flags (`@aws-cdk/...`) and settings are left alone.
 */
export function misspeltConfigKeys(contextKeys: readonly string[]): string[] {
  return contextKeys.filter((key) => {
    const k = key.toLowerCase();
    return (
      key !== CONFIG_CONTEXT_KEY &&
      !key.startsWith('@') &&
      (k === CONFIG_CONTEXT_KEY || distance(k, CONFIG_CONTEXT_KEY) <= 2 || k.startsWith('config'))
    );
  });
}

/**
 * The configuration named by the app's context, with where it came from; refuses a context key
 * that looks like a misspelt `config`.
 */
export function configFromContext(context: Record<string, unknown>): {
  config: BlueprintConfig;
  source: string;
} {
  const misspelt = misspeltConfigKeys(Object.keys(context));
  if (misspelt.length > 0) {
    throw new ConfigError(
      'the command line',
      misspelt.map(
        (key) =>
          `context key "${key}" looks like a misspelt "${CONFIG_CONTEXT_KEY}"; expected -c ${CONFIG_CONTEXT_KEY}=path/to/file.json`,
      ),
    );
  }
  const path = context[CONFIG_CONTEXT_KEY] as string | undefined;
  return {
    config: loadConfig(path),
    source: path === undefined || path === '' ? 'built-in defaults' : resolve(path),
  };
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';

/**
 * The default blueprint and the example configuration (`config/example.json`), each synthesized
 * once per test run with every rule pack by the global setup. Tests read their templates and
 * validation reports from disk instead of synthesizing them again.
 */
export const DEFAULT_APP_DIR_ENV = 'AISEG_DEFAULT_APP_DIR';
export const EXAMPLE_APP_DIR_ENV = 'AISEG_EXAMPLE_APP_DIR';
export const EXAMPLE_CONFIG = join(__dirname, '..', '..', 'config', 'example.json');

function appDir(env: string): string {
  const dir = process.env[env];
  if (!dir) throw new Error(`${env} is not set; run the tests through jest (global setup)`);
  return dir;
}

export function defaultAppDir(): string {
  return appDir(DEFAULT_APP_DIR_ENV);
}

export function exampleAppDir(): string {
  return appDir(EXAMPLE_APP_DIR_ENV);
}

export function readTemplateJson(stackId: string, dir = defaultAppDir()): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, `${stackId}.template.json`), 'utf8')) as Record<string, unknown>;
}

export function defaultTemplate(stackId: string): Template {
  return Template.fromJSON(readTemplateJson(stackId));
}

/** The stack ids of the default app, from the cloud assembly manifest. */
export function defaultStackIds(dir = defaultAppDir()): string[] {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, { type: string }>;
  };
  return Object.entries(manifest.artifacts)
    .filter(([, artifact]) => artifact.type === 'aws:cloudformation:stack')
    .map(([id]) => id);
}

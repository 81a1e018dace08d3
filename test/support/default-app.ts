import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';

/**
 * The default blueprint, synthesized once per test run with every rule pack by the global
 * setup. Tests read its templates and validation report from disk instead of synthesizing again.
 */
export const DEFAULT_APP_DIR_ENV = 'AISEG_DEFAULT_APP_DIR';

export function defaultAppDir(): string {
  const dir = process.env[DEFAULT_APP_DIR_ENV];
  if (!dir) throw new Error(`${DEFAULT_APP_DIR_ENV} is not set; run the tests through jest (global setup)`);
  return dir;
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

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildBlueprint, type Blueprint } from '../../lib/blueprint';
import { validateConfig } from '../../lib/config/validate';
import { addComplianceGate } from '../../lib/gate/compliance-gate';

const ROOT = join(__dirname, '..', '..');

/** The feature flags and settings of cdk.json, which jest does not read by itself. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  return cdkJson.context;
}

export interface TestAppOptions {
  readonly outdir?: string;
  /**
   * Run aws-cdk-lib's built-in CloudFormation validation when no gate replaces it. It costs about
   * 1.3 s to start per test file and 1.4 s per blueprint synth, and checks what the gated synth of
   * the default app (global setup) and of the example config already check; tests of the gate
   * itself and of reports of an ungated synth turn it on.
   * @default false
   */
  readonly builtinValidation?: boolean;
}

/**
 * A test app with the same flags as `cdk synth`, writing to a fresh directory. Validation
 * failures are written to the report instead of thrown, so tests can assert on them.
 */
export function testApp(options: TestAppOptions = {}): App {
  return new App({
    outdir: options.outdir ?? mkdtempSync(join(tmpdir(), 'aiseg-test-')),
    builtinCloudFormationValidation: options.builtinValidation ?? false,
    context: { ...cdkJsonContext(), '@aws-cdk/core:failSynthOnValidationErrors': false },
  });
}

export interface SynthOptions {
  /** Raw configuration, validated as the loader would. @default {} */
  readonly config?: unknown;
  /** Register the compliance gate. @default false */
  readonly gate?: boolean;
  readonly outdir?: string;
  /** See {@link TestAppOptions.builtinValidation}. @default false */
  readonly builtinValidation?: boolean;
  /** Changes the app after the blueprint is built, before synth (to inject a known-bad resource). */
  readonly mutate?: (app: App) => void;
}

/** Builds and synthesizes the blueprint; returns the app, its stacks and the assembly directory. */
export function synthBlueprint(options: SynthOptions = {}): {
  app: App;
  blueprint: Blueprint;
  outdir: string;
} {
  const app = testApp({ outdir: options.outdir, builtinValidation: options.builtinValidation });
  const blueprint = buildBlueprint(app, validateConfig(options.config ?? {}));
  options.mutate?.(app);
  if (options.gate) addComplianceGate(app);
  const assembly = app.synth();
  return { app, blueprint, outdir: assembly.directory };
}

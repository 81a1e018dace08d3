#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { buildBlueprint } from '../lib/blueprint';
import { CONFIG_CONTEXT_KEY, loadConfig } from '../lib/config/load';
import { ConfigError } from '../lib/config/validate';
import { addComplianceGate } from '../lib/gate/compliance-gate';
import { requirements, synthWarnings } from '../lib/preflight/requirements';

const app = new App();
try {
  const configPath = app.node.tryGetContext(CONFIG_CONTEXT_KEY) as string | undefined;
  buildBlueprint(app, loadConfig(configPath));
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(1);
}
addComplianceGate(app);
const assembly = app.synth();
for (const warning of synthWarnings(requirements(assembly.stacks))) console.error(warning);

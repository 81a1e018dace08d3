#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { buildBlueprint, recordConfigSource } from '../lib/blueprint';
import { configFromContext } from '../lib/config/load';
import { ConfigError } from '../lib/config/validate';
import { addComplianceGate } from '../lib/gate/compliance-gate';
import { requirements, synthWarnings } from '../lib/tools/preflight/requirements';

const app = new App();
try {
  const { config, source } = configFromContext(app.node.getAllContext() as Record<string, unknown>);
  console.error(`Configuration: ${source}`);
  recordConfigSource(buildBlueprint(app, config), source);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(1);
}
addComplianceGate(app);
const assembly = app.synth();
for (const warning of synthWarnings(requirements(assembly.stacks))) console.error(warning);

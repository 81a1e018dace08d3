#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { buildBlueprint, recordConfigSource } from '../lib/blueprint';
import { configFromContext } from '../lib/config/load';
import { expiredRisks } from '../lib/config/schema/review';
import { ConfigError } from '../lib/config/validate';
import { addComplianceGate } from '../lib/gate/compliance-gate';
import { requirements, synthWarnings } from '../lib/tools/preflight/requirements';

const app = new App();
try {
  const { config, source } = configFromContext(app.node.getAllContext() as Record<string, unknown>);
  console.error(`Configuration: ${source}`);
  recordConfigSource(buildBlueprint(app, config), source);
  for (const risk of expiredRisks(config.acceptedRisks, new Date().toISOString().slice(0, 10))) {
    console.error(
      `Warning: acceptedRisks ${risk.id} expired on ${risk.expires}: it covers nothing, so the verifier fails on "${risk.opening}" until it is renewed or the opening closed`,
    );
  }
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(1);
}
addComplianceGate(app);
const assembly = app.synth();
for (const warning of synthWarnings(requirements(assembly.stacks))) console.error(warning);

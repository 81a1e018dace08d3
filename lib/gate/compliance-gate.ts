import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import { ScopedCfnGuardValidator } from './scoped-guard';

/**
 * Registers every rule pack on the app root, so each stack (including those added later or
 * inside a Stage) is checked at synth and any unacknowledged finding fails it.
 */
export function addComplianceGate(app: App): void {
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app),
    new HIPAASecurityChecks(app),
    new NIST80053R5Checks(app),
    new ScopedCfnGuardValidator(),
  );
}

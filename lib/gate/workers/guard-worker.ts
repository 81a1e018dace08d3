import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import type { IPolicyValidationContextBeta1 } from 'aws-cdk-lib';
import { GUARD_WORKER_REPORTS, GUARD_WORKER_REQUEST } from './messages';

/**
 * Checks its share of the guard jobs one after the other, each template against only its own rule
 * files (explicit files: the plugin's own disabledRules falls back to the whole directory in some
 * layouts), and prints the reports.
 */
const reports = GUARD_WORKER_REQUEST.decode(process.argv[2]).map(({ index, rules, templatePath }) => ({
  index,
  report: new CfnGuardValidator({ controlTowerRulesEnabled: false, rules: [...rules] }).validate({
    templatePaths: [templatePath],
  } as IPolicyValidationContextBeta1),
}));
process.stdout.write(GUARD_WORKER_REPORTS.encode(reports));

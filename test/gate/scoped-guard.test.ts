import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ScopedCfnGuardValidator } from '../../lib/gate/scoped-guard';
import { defaultAppDir } from '../support/default-app';
import { testApp } from '../support/synth';

function findings(validator: { validate: CfnGuardValidator['validate'] }, dir: string): string[] {
  const templatePaths = readdirSync(dir)
    .filter((f) => f.endsWith('.template.json'))
    .map((f) => join(dir, f));
  const report = validator.validate({ templatePaths } as never);
  return report.violations
    .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.resourceLogicalId}`))
    .sort();
}

describe('ScopedCfnGuardValidator', () => {
  test('reports exactly what the full Control Tower rule set reports on the default blueprint', () => {
    const dir = defaultAppDir();
    const scoped = findings(new ScopedCfnGuardValidator(), dir);
    expect(scoped).toEqual(findings(new CfnGuardValidator(), dir));
    expect(scoped.length).toBeGreaterThan(0);
  });

  test('reports exactly what the full rule set reports on known-bad resources', () => {
    const app = testApp();
    const stack = new Stack(app, 'Bad');
    new s3.CfnBucket(stack, 'Bucket');
    new ec2.CfnSecurityGroup(stack, 'OpenGroup', {
      groupDescription: 'open',
      securityGroupIngress: [{ ipProtocol: '-1', cidrIp: '0.0.0.0/0' }],
    });
    const dir = app.synth().directory;
    const scoped = findings(new ScopedCfnGuardValidator(), dir);
    expect(scoped).toEqual(findings(new CfnGuardValidator(), dir));
    expect(scoped.some((f) => f.startsWith('s3_bucket_logging_enabled_check'))).toBe(true);
    expect(scoped.some((f) => f.includes('OpenGroup'))).toBe(true);
  });

  test('keeps the plugin name, so acknowledgement ids stay cdk-validator-cfnguard::<rule>', () => {
    expect(new ScopedCfnGuardValidator().name).toBe('cdk-validator-cfnguard');
  });
});

import { DefaultStackSynthesizer, Fn, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { BOOTSTRAP_ROLES } from './contract/bootstrap';

/**
 * The ARNs of the bootstrap roles a stack's synthesizer deploys through, qualifier included
 * (`@aws-cdk/core:bootstrapQualifier`, the CLI's `--qualifier`); none for a synthesizer that names
 * no such roles.
 */
export function bootstrapRoleArns(scope: Construct): string[] {
  const synthesizer = Stack.of(scope).synthesizer;
  if (!(synthesizer instanceof DefaultStackSynthesizer)) return [];
  const deploy = synthesizer.deployRoleArn;
  if (!deploy.includes('-deploy-role-')) {
    throw new Error(
      `the stack's deploy role ${deploy} is not named as the CDK bootstrap names it (cdk-<qualifier>-deploy-role-<account>-<region>)`,
    );
  }
  return BOOTSTRAP_ROLES.map((role) => Fn.sub(deploy.replace('-deploy-role-', `-${role}-role-`)));
}

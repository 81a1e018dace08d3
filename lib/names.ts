import { Aws, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { AirlockZone, DataZone } from './contract/classification';

/**
 * Names the blueprint fixes in advance, so that a policy in one stack can name a role or a bucket
 * of another without a cross-stack reference (which would make the stacks depend on each other
 * in a cycle: bucket policies name roles, role policies name buckets).
 */

/** A role of the blueprint: `${prefix}-${role}`, or `${prefix}-${segment}-${role}` for a segment's. */
export function roleName(prefix: string, role: string, segment?: string): string {
  return segment ? `${prefix}-${segment}-${role}` : `${prefix}-${role}`;
}

/** The ARN of a role of this account, as a string any stack can hold. */
export function roleArn(scope: IConstruct, name: string): string {
  return Stack.of(scope).formatArn({ service: 'iam', region: '', resource: 'role', resourceName: name });
}

/** A data zone's bucket: unique per account and region, at most 63 characters. */
export function dataBucketName(prefix: string, zone: DataZone | AirlockZone): string {
  return `${prefix}-${zone}-${Aws.ACCOUNT_ID}-${Aws.REGION}`;
}

export { boundaryPolicyName } from './contract/bootstrap';

/** The pseudonymization stage's function (its log group is `/aws/lambda/` and this name). */
export function pseudonymizationFunctionName(prefix: string): string {
  return `${prefix}-pseudonymization`;
}

/** The stage's range workflow (Step Functions), which transforms objects too large for one invocation. */
export function pseudonymizationWorkflowName(prefix: string): string {
  return `${prefix}-pseudonymize-large-objects`;
}

/** The stage's staging store, where the range workflow's runs keep their parts (at most 63 characters). */
export function pseudonymizationStagingBucketName(prefix: string): string {
  return `${prefix}-stage-parts-${Aws.ACCOUNT_ID}-${Aws.REGION}`;
}

/** The EventBridge rule that sends the raw zone's new objects to the stage. */
export function pseudonymizationRuleName(prefix: string): string {
  return `${prefix}-pseudonymize-raw-objects`;
}

/** The airlock's Object-Lock log of requests and decisions (at most 60 characters). */
export function airlockLogBucketName(prefix: string): string {
  return `${prefix}-airlock-log-${Aws.ACCOUNT_ID}-${Aws.REGION}`;
}

/** The airlock's functions: the desk people call, the worker and the exporter its workflows call. */
export function airlockFunctionName(prefix: string, part: 'desk' | 'worker' | 'exporter'): string {
  return `${prefix}-airlock-${part}`;
}

/** The airlock's import and export workflows (Step Functions state machines). */
export function airlockWorkflowName(prefix: string, direction: 'import' | 'export' = 'import'): string {
  return `${prefix}-airlock-${direction}`;
}

/** The EventBridge rule that starts the import workflow for each scan result of the import zone. */
export function airlockScanRuleName(prefix: string): string {
  return `${prefix}-airlock-scan-results`;
}

import { Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { flattenCfnReference } from './flatten-cfn-reference';

/**
 * The validation plugins whose findings the gate reports, by the name each writes into the
 * validation report. Acknowledgements carry this prefix so the report lists them with their reason.
 */
export type RulePack =
  'AwsSolutions' | 'HIPAA.Security' | 'NIST.800.53.R5' | 'cdk-validator-cfnguard' | 'CloudFormation-Validate';

/** A finding the blueprint accepts, with the compensating control that makes it acceptable. */
export interface Acknowledgement {
  readonly pack: RulePack;
  /**
   * The rule as its pack names it: `S1` or `IAM5[Resource::...]` for AwsSolutions,
   * `S3BucketReplicationEnabled` for HIPAA/NIST, the guard rule name for cfn-guard.
   */
  readonly rule: string;
  /** Why the finding is acceptable; name the control that compensates for it. */
  readonly reason: string;
}

const NAG_PACKS: ReadonlySet<RulePack> = new Set(['AwsSolutions', 'HIPAA.Security', 'NIST.800.53.R5']);
const MIN_REASON_LENGTH = 40;

/** The report id of an acknowledgement, e.g. `AwsSolutions::AwsSolutions-S1`. */
export function acknowledgementId(ack: Pick<Acknowledgement, 'pack' | 'rule'>): string {
  return NAG_PACKS.has(ack.pack) ? `${ack.pack}::${ack.pack}-${ack.rule}` : `${ack.pack}::${ack.rule}`;
}

/**
 * Acknowledges findings on one construct (and what it contains). Keep `scope` as narrow as the
 * pack allows: never a stack or the app.
 */
export function acknowledge(scope: IConstruct, ...acks: Acknowledgement[]): void {
  for (const ack of acks) {
    if (ack.reason.trim().length < MIN_REASON_LENGTH) {
      throw new Error(
        `Acknowledgement of ${acknowledgementId(ack)} at ${scope.node.path}: reason "${ack.reason}" is too short; ` +
          `expected at least ${MIN_REASON_LENGTH} characters naming the compensating control`,
      );
    }
    Validations.of(scope).acknowledge({ id: acknowledgementId(ack), reason: ack.reason });
  }
}

/**
 * Acknowledges the wildcard resources of an identity policy's Allow statements, each of which
 * cdk-nag reports as its own AwsSolutions-IAM5 finding whose id embeds the resource as the
 * template will hold it. The ids are worked out when the app is validated, after cross-stack
 * references are final, flattened as cdk-nag names its findings. `reason` says why a
 * resource may be a pattern.
 */
export function acknowledgeWildcardResources(
  policy: iam.CfnManagedPolicy | iam.CfnPolicy,
  reason: (resource: string) => string,
): void {
  policy.node.addValidation({
    validate: () => {
      const document = Stack.of(policy).resolve(policy.policyDocument) as {
        Statement?: { Effect: string; Resource?: unknown }[];
      };
      const wildcards = new Set(
        (document.Statement ?? [])
          .filter((s) => s.Effect === 'Allow')
          .flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]) as unknown[])
          .map((resource) => flattenCfnReference(resource))
          .filter((resource) => resource.includes('*')),
      );
      for (const resource of wildcards) {
        acknowledge(policy, {
          pack: 'AwsSolutions',
          rule: `IAM5[Resource::${resource}]`,
          reason: reason(resource),
        });
      }
      return [];
    },
  });
}

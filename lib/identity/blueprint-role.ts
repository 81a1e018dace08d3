import { Duration, Stack, Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { acknowledgeWildcardResources } from '../gate/acknowledge';
import { roleName } from '../names';
import { ROLE_TYPES } from '../contract/classification';
import { ROLE_TAG, ROLE_TYPE_TAG } from '../contract/tags';

/** A human session lasts at most this long. */
export const HUMAN_SESSION = Duration.hours(1);

/** The trust conditions of a human role assumed by IAM principals: MFA, used within the session's hour. */
export const HUMAN_TRUST_CONDITIONS = {
  Bool: { 'aws:MultiFactorAuthPresent': 'true' },
  NumericLessThan: { 'aws:MultiFactorAuthAge': String(HUMAN_SESSION.toSeconds()) },
};

/**
 * Who may assume a role of the blueprint. Principals are ARNs (of this account or another); none
 * means the account's IAM principals that an administrator allows.
 * - `people`, `mfa: 'iam'`: IAM users or roles whose sessions carry MFA, used within the hour.
 * - `people`, `mfa: 'identity-provider'`: federated or IAM Identity Center roles, whose identity
 *   provider enforces MFA (their sessions carry no `aws:MultiFactorAuthPresent`); principals are
 *   required, since the account's other principals must not pass without MFA.
 * - `machines`: named principals of software (an uploader), without MFA.
 * - `service`: an AWS service acting for this account only (confused-deputy protection).
 */
export type RoleTrust =
  | { readonly kind: 'people'; readonly mfa: 'iam'; readonly principals?: readonly string[] }
  | { readonly kind: 'people'; readonly mfa: 'identity-provider'; readonly principals: readonly string[] }
  | { readonly kind: 'machines'; readonly principals?: readonly string[] }
  | {
      readonly kind: 'service';
      readonly service: string;
      /**
       * `required` (default): the service must name this account as the source. `when-given`: it
       * must when it names one, for a service whose documentation does not say it always does
       * (ECR assuming a repository creation template's role); another account's request that
       * names itself is still refused.
       */
      readonly sourceAccount?: 'required' | 'when-given';
    };

/** A trust by people: through IAM with MFA, or through an identity provider that enforces it. */
export type PeopleTrust = Extract<RoleTrust, { readonly kind: 'people' }>;

export interface BlueprintRoleProps {
  readonly namePrefix: string;
  /** What the role is for; part of its name (`${prefix}-${role}`) and its `ai-segmentation:role` tag. */
  readonly role: string;
  /**
   * The `ai-segmentation:role` tag, where several roles share one purpose (an inference API
   * caller per application). @default the role
   */
  readonly purpose?: string;
  /** The segment the role belongs to, if any: its name becomes `${prefix}-${segment}-${role}`. */
  readonly segment?: string;
  readonly description: string;
  readonly trust: RoleTrust;
  /** The role's permissions; more come from `addToPrincipalPolicy` and the constructs' `grant*`. */
  readonly statements?: iam.PolicyStatement[];
}

/**
 * A role of the blueprint: a fixed name (policies in other stacks name it), its trust, one-hour
 * sessions for people, the role and role-type tags the verifier reads, and one managed policy that
 * holds every permission it is given (grants included) with its wildcard resources acknowledged.
 * The permission boundary is applied app-wide by an aspect.
 */
export class BlueprintRole extends iam.Role {
  /** Assumed by people (a `people` trust). */
  readonly human: boolean;
  /** The role's name as a plain string (`roleName` is a token), for policies that name it. */
  readonly fixedName: string;
  /** Where every permission of the role goes. */
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: BlueprintRoleProps) {
    const human = props.trust.kind === 'people';
    const name = roleName(props.namePrefix, props.role, props.segment);
    super(scope, id, {
      roleName: name,
      description: props.description,
      assumedBy: trustPrincipal(scope, props.trust),
      maxSessionDuration: human ? HUMAN_SESSION : undefined,
    });
    this.human = human;
    this.fixedName = name;
    Tags.of(this).add(ROLE_TAG, props.purpose ?? props.role);
    Tags.of(this).add(ROLE_TYPE_TAG, human ? ROLE_TYPES.human : ROLE_TYPES.service);
    // A sibling of the role, as it has always been: its logical id must not change.
    this.policy = new iam.ManagedPolicy(scope, `${id}-Policy`, {
      managedPolicyName: `${name}-policy`,
      description: `Permissions of ${name}`,
      roles: [this],
      statements: props.statements,
    });
    acknowledgeWildcardResources(this.policy.node.defaultChild as iam.CfnManagedPolicy, (resource) =>
      resource === '*'
        ? 'Only the statements whose sid starts with Unscoped use *: List and Describe actions, the ECR log-in token, ' +
          'metrics and the network interfaces of work in a VPC, none of which can be scoped to a resource ARN.'
        : 'The pattern stays inside what the blueprint owns: objects of one data zone or of the audit bucket, or names ' +
          "under the blueprint's prefix (stacks, firewalls, repositories, log groups, CDK bootstrap roles) or SageMaker work that the guardrail conditions bind.",
    );
  }

  /** Adds to the role's managed policy (never an inline policy), so grants land beside its other rights. */
  override addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    this.policy.addStatements(statement);
    return { statementAdded: true, policyDependable: this.policy };
  }
}

function principals(arns?: readonly string[]): iam.PrincipalBase {
  return arns && arns.length > 0
    ? new iam.CompositePrincipal(...arns.map((arn) => new iam.ArnPrincipal(arn)))
    : new iam.AccountRootPrincipal();
}

function trustPrincipal(scope: Construct, trust: RoleTrust): iam.IPrincipal {
  switch (trust.kind) {
    case 'people':
      if (trust.mfa === 'iam') return principals(trust.principals).withConditions(HUMAN_TRUST_CONDITIONS);
      if (trust.principals.length === 0) {
        throw new Error('a role trusted through an identity provider needs the principals it trusts');
      }
      return principals(trust.principals);
    case 'machines':
      return principals(trust.principals);
    case 'service':
      return new iam.ServicePrincipal(trust.service).withConditions({
        [trust.sourceAccount === 'when-given' ? 'StringEqualsIfExists' : 'StringEquals']: {
          'aws:SourceAccount': Stack.of(scope).account,
        },
      });
  }
}

import {
  CfnResource,
  Duration,
  Reference,
  Stack,
  Tags,
  Token,
  Tokenization,
  type IResolvable,
} from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Dependable, type Construct, type IDependable } from 'constructs';
import { acknowledgeWildcardResources } from '../gate/acknowledge';
import { roleName } from '../names';
import { ROLE_TYPES } from '../contract/classification';
import {
  IAM_POLICY_QUOTAS,
  PSEUDO_PARAMETER_LENGTH,
  UNBOUNDED_VALUE_LENGTH,
  referenceLength,
} from '../contract/iam-quotas';
import { TRUSTS_NO_ONE_METADATA_KEY } from '../contract/metadata';
import { MFA_TAG, ROLE_TAG, ROLE_TYPE_TAG } from '../contract/tags';

/** A human session lasts at most this long. */
export const HUMAN_SESSION = Duration.hours(1);

/** The trust conditions of a human role assumed by IAM principals: MFA, used within the session's hour. */
export const HUMAN_TRUST_CONDITIONS = {
  Bool: { 'aws:MultiFactorAuthPresent': 'true' },
  NumericLessThan: { 'aws:MultiFactorAuthAge': String(HUMAN_SESSION.toSeconds()) },
};

/**
 * Who may assume a role of the blueprint. Principals are role or user ARNs (of this account or
 * another), never an account root: a role whose principals are unset trusts no one (its trust
 * policy denies every principal) until the config names them. `field` is the config field that
 * names them, for the synth warning and the preflight.
 * - `people`, `mfa: 'iam'`: IAM users or roles named in the trust policy's principal, whose
 *   sessions carry MFA used within the hour.
 * - `people`, `mfa: 'identity-provider'`: federated or IAM Identity Center roles, whose identity
 *   provider enforces MFA (their sessions carry no `aws:MultiFactorAuthPresent`, so an MFA
 *   condition would lock them out); named by `aws:PrincipalArn` (patterns allowed, as Identity
 *   Center's role names end in a suffix that changes when a permission set is re-provisioned)
 *   under their accounts' roots.
 * - `machines`: named principals of software (an uploader), without MFA; an external id when given.
 * - `service`: an AWS service acting for this account only (confused-deputy protection).
 * Every trust of people or machines also lets a caller set a source identity
 * (`sts:SetSourceIdentity`), which CloudTrail then records on every call of the session and of
 * the roles it chains to; without it, a caller whose session carries one could not assume the role.
 */
export type RoleTrust =
  | {
      readonly kind: 'people';
      readonly mfa: HumanMfa;
      readonly principals?: readonly string[];
      readonly field: string;
      /**
       * Each session must carry a source identity, which then names the person (a Studio user
       * profile's owner): for IAM users, their user name; for roles and federated people, one their
       * calling session already carries (an identity provider sets it), not one chosen at this
       * hop. @default false
       */
      readonly sourceIdentity?: boolean;
    }
  | {
      readonly kind: 'machines';
      readonly principals?: readonly string[];
      readonly field: string;
      /** The `sts:ExternalId` a caller must present (a third party's uploader). */
      readonly externalId?: string;
    }
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
      /** The resources of the service (ARN patterns) for which the role is assumed. @default any of the account's */
      readonly sourceArns?: readonly string[];
    };

/** Who enforces the MFA of people: IAM (the session's MFA keys) or the identity provider they federate through. */
export type HumanMfa = 'iam' | 'identity-provider';

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
 * sessions for people, the role and role-type tags the verifier reads, and managed policies that
 * hold every permission it is given (grants included), as many as IAM's size quota needs (one
 * unless the config makes the role's reach long), with their wildcard resources acknowledged.
 * The permission boundary is applied app-wide by an aspect.
 */
export class BlueprintRole extends iam.Role {
  /** Assumed by people (a `people` trust). */
  readonly human: boolean;
  /** The role's name as a plain string (`roleName` is a token), for policies that name it. */
  readonly fixedName: string;
  /** The first of the role's managed policies, which hold every permission it is given (`permissionPolicies`). */
  readonly policy: iam.ManagedPolicy;
  /** The config names no principal for it: its trust policy denies everyone. */
  readonly trustsNoOne: boolean;

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
    this.trustsNoOne = props.trust.kind !== 'service' && !props.trust.principals?.length;
    Tags.of(this).add(ROLE_TAG, props.purpose ?? props.role);
    Tags.of(this).add(ROLE_TYPE_TAG, human ? ROLE_TYPES.human : ROLE_TYPES.service);
    if (props.trust.kind === 'people') Tags.of(this).add(MFA_TAG, props.trust.mfa);
    if (props.trust.kind !== 'service' && this.trustsNoOne) {
      (this.node.defaultChild as iam.CfnRole).addMetadata(TRUSTS_NO_ONE_METADATA_KEY, props.trust.field);
    }
    this.policyScope = scope;
    this.policyId = id;
    // A sibling of the role, as it has always been: its logical id must not change.
    this.policy = this.managedPolicy(`${id}-Policy`, `${name}-policy`);
    this.policies.push({ policy: this.policy, size: 0 });
    for (const statement of props.statements ?? []) this.addToPrincipalPolicy(statement);
  }

  /** The role's managed policies: `policy`, then any that took the statements it had no room for. */
  get permissionPolicies(): readonly iam.ManagedPolicy[] {
    return this.policies.map((p) => p.policy);
  }

  /**
   * Every managed policy of the role, as one thing to depend on: read when the app is synthesized,
   * so a policy added after the dependency is taken is waited for too.
   */
  readonly permissions: IDependable = (() => {
    const dependable = {};
    const policies = () => this.policies.map((p) => p.policy);
    Dependable.implement(dependable, {
      get dependencyRoots() {
        return policies();
      },
    });
    return dependable;
  })();

  /**
   * Adds to the role's managed policies (never an inline policy), so grants land beside its other
   * rights: to the first with room for the statement, or to a new one when none has. The size is
   * estimated before CloudFormation resolves references, each counted at its longest
   * (`statementSize`); the verifier checks the resolved sizes over the templates.
   */
  override addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    const stack = Stack.of(this);
    for (const { part, size } of splitByResources(stack, statement)) {
      let target = this.policies.find((p) => p.size + size <= POLICY_BUDGET);
      if (!target) {
        const n = this.policies.length + 1;
        target = {
          policy: this.managedPolicy(`${this.policyId}-Policy${n}`, `${this.fixedName}-policy-${n}`),
          size: 0,
        };
        // A statement that moves between policies on an update is granted by the new one before
        // the first gives it up: CloudFormation updates the first after the others.
        this.policy.node.addDependency(target.policy);
        this.policies.push(target);
      }
      target.size += size;
      target.policy.addStatements(part);
    }
    return { statementAdded: true, policyDependable: this.permissions };
  }

  private readonly policies: { policy: iam.ManagedPolicy; size: number }[] = [];
  private readonly policyScope: Construct;
  private readonly policyId: string;

  private managedPolicy(id: string, name: string): iam.ManagedPolicy {
    const policy = new iam.ManagedPolicy(this.policyScope, id, {
      managedPolicyName: name,
      description: `Permissions of ${this.fixedName}`,
      roles: [this],
    });
    acknowledgeWildcardResources(policy.node.defaultChild as iam.CfnManagedPolicy, (resource) =>
      resource === '*'
        ? 'Only the statements whose sid starts with Unscoped use *: List and Describe actions, the ECR log-in token, ' +
          'metrics and the network interfaces of work in a VPC, none of which can be scoped to a resource ARN.'
        : 'The pattern stays inside what the blueprint owns: objects of one data zone or of the audit bucket, or names ' +
          "under the blueprint's prefix (stacks, firewalls, repositories, log groups, CDK bootstrap roles) or SageMaker work that the guardrail conditions bind.",
    );
    return policy;
  }
}

/**
 * What a managed policy of a blueprint role may hold by estimate: IAM's quota less the policy's
 * own frame (`{"Version":"2012-10-17","Statement":[]}`) and a margin for statements merged when
 * the policy is minimized.
 */
const POLICY_BUDGET = IAM_POLICY_QUOTAS.managed - 200;

/**
 * A statement too long for one policy, as statements of the same effect, actions and conditions
 * over consecutive runs of its resources (sids numbered), each within the budget; any other
 * statement as it is. Each with its size (`statementSize`), measured once.
 */
function splitByResources(
  stack: Stack,
  statement: iam.PolicyStatement,
): { part: iam.PolicyStatement; size: number }[] {
  const total = statementSize(stack, statement);
  if (total <= POLICY_BUDGET || statement.resources.length < 2 || statement.notResources.length > 0) {
    return [{ part: statement, size: total }];
  }
  const sizes = statement.resources.map((r) => stringSize(stack, r) + 1);
  const frame = total - sizes.reduce((a, b) => a + b, 0) + 8;
  const runs: string[][] = [[]];
  let size = frame;
  statement.resources.forEach((resource, i) => {
    if (size + sizes[i] > POLICY_BUDGET && runs[runs.length - 1].length > 0) {
      runs.push([]);
      size = frame;
    }
    runs[runs.length - 1].push(resource);
    size += sizes[i];
  });
  return runs.map((resources, i) => {
    const part = new iam.PolicyStatement({
      ...(statement.sid ? { sid: `${statement.sid}${i + 1}` } : {}),
      effect: statement.effect,
      actions: statement.actions,
      notActions: statement.notActions,
      resources,
      conditions: statement.conditions as Record<string, unknown>,
    });
    return { part, size: statementSize(stack, part) };
  });
}

/**
 * The characters a statement takes once CloudFormation resolves it, at most: its JSON without
 * white space, with each reference to a resource at the longest value it can take (an ARN with
 * a generated name, a fixed-form id) and each pseudo parameter at its longest
 * (lib/contract/iam-quotas.ts, which the verifier's measure of the templates shares).
 */
export function statementSize(stack: Stack, statement: iam.PolicyStatement): number {
  return jsonSize(stack, statement.toStatementJson());
}

function jsonSize(stack: Stack, value: unknown): number {
  if (typeof value === 'string') return stringSize(stack, value);
  if (Array.isArray(value)) return 2 + value.reduce<number>((n, v) => n + jsonSize(stack, v) + 1, 0);
  if (Token.isUnresolved(value)) return intrinsicSize(stack, stack.resolve(value));
  if (value === null || typeof value !== 'object') return JSON.stringify(value)?.length ?? 0;
  return Object.entries(value as Record<string, unknown>).reduce<number>(
    (n, [k, v]) => n + k.length + 3 + jsonSize(stack, v) + 1,
    2,
  );
}

/** A string with its tokens at their longest values, quoted. */
function stringSize(stack: Stack, value: string): number {
  if (!Token.isUnresolved(value)) return JSON.stringify(value).length;
  let size = 2;
  Tokenization.reverseString(value).mapTokens({
    mapToken: (token: IResolvable) => {
      size += tokenSize(stack, token);
      return '';
    },
  });
  // The literal parts, without the tokens.
  size += value.replace(/\$\{Token\[[^\]]+\]\}/g, '').length;
  return size;
}

function tokenSize(stack: Stack, token: IResolvable): number {
  if (Reference.isReference(token) && CfnResource.isCfnResource(token.target)) {
    const target = token.target;
    const length = referenceLength({
      type: target.cfnResourceType,
      stackName: Stack.of(target).stackName,
      logicalId: Stack.of(target).getLogicalId(target),
      attribute: token.displayName,
    });
    if (length !== undefined) return length;
  }
  return intrinsicSize(stack, stack.resolve(token)) - 2;
}

/** A resolved intrinsic (or plain value) as a JSON string at its longest, quoted. */
function intrinsicSize(stack: Stack, resolved: unknown): number {
  if (typeof resolved === 'string') return JSON.stringify(resolved).length;
  if (resolved !== null && typeof resolved === 'object' && !Array.isArray(resolved)) {
    const [[fn, arg]] = Object.entries(resolved as Record<string, unknown>);
    if (fn === 'Ref' && typeof arg === 'string' && arg in PSEUDO_PARAMETER_LENGTH) {
      return PSEUDO_PARAMETER_LENGTH[arg] + 2;
    }
    if (fn === 'Fn::Join' && Array.isArray(arg) && Array.isArray(arg[1])) {
      return (arg[1] as unknown[]).reduce<number>((n, v) => n + intrinsicSize(stack, v) - 2, 2);
    }
  }
  return UNBOUNDED_VALUE_LENGTH + 2;
}

/** What a trust of people or machines lets its principals do: assume the role, carrying their source identity. */
const ASSUME = ['sts:AssumeRole', 'sts:SetSourceIdentity'];

/**
 * The trust policy of people or machines as its statements, which the role's construction adds
 * to its trust policy (an `IAssumeRolePrincipal`): the named principals with their conditions, or,
 * with none named, one statement that denies every principal.
 */
class NamedPrincipals extends iam.PrincipalBase implements iam.IAssumeRolePrincipal {
  constructor(private readonly statements: readonly iam.PolicyStatement[]) {
    super();
  }

  get policyFragment(): iam.PrincipalPolicyFragment {
    return new iam.PrincipalPolicyFragment({
      AWS: this.statements
        .flatMap((s) => (s.effect === iam.Effect.ALLOW ? s.principals : []))
        .flatMap((p) => p.policyFragment.principalJson.AWS ?? []),
    });
  }

  override addToAssumeRolePolicy(document: iam.PolicyDocument): void {
    document.addStatements(...this.statements);
  }

  override dedupeString(): string | undefined {
    return undefined;
  }

  override toString(): string {
    return 'NamedPrincipals';
  }
}

/** The account root of each account a list of principal ARNs names, once each. */
function accountsOf(arns: readonly string[]): iam.IPrincipal[] {
  const roots = [...new Set(arns.map((arn) => arn.replace(/:(role|user)\/.*$/, ':root')))];
  return roots.map((root) => new iam.ArnPrincipal(root));
}

function trustPrincipal(scope: Construct, trust: RoleTrust): iam.IPrincipal {
  if (trust.kind === 'service') {
    return new iam.ServicePrincipal(trust.service).withConditions({
      [trust.sourceAccount === 'when-given' ? 'StringEqualsIfExists' : 'StringEquals']: {
        'aws:SourceAccount': Stack.of(scope).account,
      },
      ...(trust.sourceArns ? { ArnLike: { 'aws:SourceArn': [...trust.sourceArns] } } : {}),
    });
  }
  const arns = trust.principals ?? [];
  if (arns.length === 0) {
    return new NamedPrincipals([
      new iam.PolicyStatement({
        sid: 'NoPrincipalIsNamed',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ASSUME,
      }),
    ]);
  }
  // A source identity set upstream (by the identity provider, or where the session began), never
  // at this hop: `aws:SourceIdentity` is the one the calling session already carries.
  const carried = { Null: { 'aws:SourceIdentity': 'false' } };
  if (trust.kind === 'people' && trust.mfa === 'identity-provider') {
    return new NamedPrincipals([
      new iam.PolicyStatement({
        sid: 'TheNamedFederatedRoles',
        principals: accountsOf(arns),
        actions: ASSUME,
        conditions: {
          ArnLike: { 'aws:PrincipalArn': arns.length === 1 ? arns[0] : [...arns] },
          ...(trust.sourceIdentity ? carried : {}),
        },
      }),
    ]);
  }
  if (trust.kind === 'people' && trust.sourceIdentity) {
    // An IAM user's source identity must be its own name; a role's session must already carry one.
    const users = arns.filter((arn) => /:user\//.test(arn));
    const roles = arns.filter((arn) => !/:user\//.test(arn));
    return new NamedPrincipals([
      ...(users.length > 0
        ? [
            new iam.PolicyStatement({
              sid: 'TheNamedUsersWithMfaAsThemselves',
              principals: users.map((arn) => new iam.ArnPrincipal(arn)),
              actions: ASSUME,
              conditions: {
                ...HUMAN_TRUST_CONDITIONS,
                StringEquals: { 'sts:SourceIdentity': '${aws:username}' },
              },
            }),
          ]
        : []),
      ...(roles.length > 0
        ? [
            new iam.PolicyStatement({
              sid: 'TheNamedPeopleWithMfaAndSourceIdentity',
              principals: roles.map((arn) => new iam.ArnPrincipal(arn)),
              actions: ASSUME,
              conditions: { ...HUMAN_TRUST_CONDITIONS, ...carried },
            }),
          ]
        : []),
    ]);
  }
  const conditions: Record<string, Record<string, unknown>> = trust.kind === 'people'
    ? HUMAN_TRUST_CONDITIONS
    : trust.externalId
      ? { StringEquals: { 'sts:ExternalId': trust.externalId } }
      : {};
  return new NamedPrincipals([
    new iam.PolicyStatement({
      sid: trust.kind === 'people' ? 'TheNamedPeopleWithMfa' : 'TheNamedMachines',
      principals: arns.map((arn) => new iam.ArnPrincipal(arn)),
      actions: ASSUME,
      ...(Object.keys(conditions).length > 0 ? { conditions } : {}),
    }),
  ]);
}

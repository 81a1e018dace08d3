import { createHash } from 'node:crypto';
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import type { StackTemplate } from './assembly';
import type { Statement } from './policy';
import type { Resolver } from './resolve';

/**
 * The policy engine: AWS's authorization logic (explicit deny, identity and resource policies,
 * permission boundaries, VPC endpoint policies, KMS key-policy trust, cross-account rules, every
 * condition operator) as `@cloud-copilot/iam-simulate` implements it, fed with the assembly's
 * policies once their symbolic values are made concrete.
 */

/** The outcome of one request: the engine's decision, or why it could not decide. */
export type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied' | `error: ${string}`;

export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: Statement[];
}

/** One request, as the engine evaluates it. */
export interface EngineRequest {
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  readonly resourceAccount: string;
  readonly context: Record<string, string | string[]>;
  readonly identityPolicies: readonly PolicyDocument[];
  readonly boundary?: readonly PolicyDocument[];
  readonly resourcePolicy?: PolicyDocument;
  readonly endpointPolicy?: PolicyDocument;
  /** For S3: whether the bucket's Block Public Access restricts public bucket policies (RestrictPublicBuckets). */
  readonly blockPublicAccess?: boolean;
}

/**
 * Decisions already taken in this process, by a hash of the request: the copies of one assembly a
 * test suite verifies share most of their requests.
 */
const decided = new Map<string, Promise<Decision>>();

/** Digests of the policy documents of a run: the same documents come with request after request. */
const digests = new WeakMap<object, string>();

function digest(doc: object | undefined): string {
  if (doc === undefined) return '-';
  let known = digests.get(doc);
  if (known === undefined) {
    known = createHash('sha256').update(JSON.stringify(doc)).digest('base64');
    digests.set(doc, known);
  }
  return known;
}

/** Forgets the decisions taken so far (to measure the engine's cost). */
export function forgetDecisions(): void {
  decided.clear();
}

/** Evaluates one request; an error (a policy AWS would refuse, an unknown action) is returned, never hidden. */
export function evaluate(request: EngineRequest): Promise<Decision> {
  const { identityPolicies, boundary, resourcePolicy, endpointPolicy, context, ...rest } = request;
  const key = [
    JSON.stringify(rest),
    JSON.stringify(context),
    digest(identityPolicies),
    digest(boundary),
    digest(resourcePolicy),
    digest(endpointPolicy),
  ].join('\u0000');
  let decision = decided.get(key);
  if (!decision) {
    decision = simulate(request);
    decided.set(key, decision);
  }
  return decision;
}

async function simulate(request: EngineRequest): Promise<Decision> {
  const named = (docs: readonly PolicyDocument[] | undefined, kind: string) =>
    docs?.map((policy, i) => ({ name: `${kind}${i}`, policy: withVersion(policy) }));
  const simulation: Simulation = {
    request: {
      principal: request.principal,
      action: request.action,
      resource: { resource: request.resource, accountId: request.resourceAccount },
      contextVariables: request.context,
    },
    identityPolicies: named(request.identityPolicies, 'identity') ?? [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    permissionBoundaryPolicies: named(request.boundary, 'boundary'),
    vpcEndpointPolicies: named(request.endpointPolicy ? [request.endpointPolicy] : undefined, 'endpoint'),
    ...(request.resourcePolicy ? { resourcePolicy: withVersion(request.resourcePolicy) } : {}),
    additionalSettings: { s3: { blockPublicAccess: request.blockPublicAccess ?? false } },
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') return `error: ${JSON.stringify(result.errors)}`;
  return result.overallResult;
}

const withVersion = (policy: PolicyDocument) => ({ Version: '2012-10-17', ...policy });

/** The placeholders symbolic pseudo parameters take: an environment-agnostic stack names no account. */
export interface Placeholders {
  readonly account: string;
  readonly region: string;
  readonly partition: string;
}

export const AGNOSTIC: Placeholders = { account: '111111111111', region: 'xx-region-1', partition: 'aws' };

/**
 * Makes resolved values concrete for the engine: pseudo parameters take placeholders, and the
 * resolver's `ref|stack/id` and `att|stack/id|attribute` become stable names; a role's, key's or
 * bucket's `Arn` becomes an ARN of its kind, so that resource patterns and ARN conditions match
 * as they would in AWS. The same symbol always becomes the same name.
 */
export class Concretizer {
  constructor(
    private readonly r: Resolver,
    readonly places: Placeholders = AGNOSTIC,
  ) {}

  value<T>(v: T): T {
    if (typeof v === 'string') return this.text(v) as T;
    if (Array.isArray(v)) return v.map((x: unknown) => this.value(x)) as T;
    if (v !== null && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.value(x)])) as T;
    return v;
  }

  /** A resolved policy document, made concrete. */
  policy(doc: unknown, stack: StackTemplate): PolicyDocument {
    const resolved = this.r.resolve(doc, stack) as { Statement?: unknown } | undefined;
    const statements = resolved?.Statement;
    return this.value({
      Statement: (Array.isArray(statements) ? statements : statements ? [statements] : []) as Statement[],
    });
  }

  private text(s: string): string {
    const { account, region, partition } = this.places;
    const whole = /^att\|([^/|]+)\/([^|]+)\|Arn$/.exec(s);
    const target = whole ? this.r.target(s) : undefined;
    if (whole && target) {
      // The ARN of a resource of the assembly: in its own stack's account and region.
      const [own, where] = [
        this.r.resolve({ Ref: 'AWS::AccountId' }, target.stack),
        this.r.resolve({ Ref: 'AWS::Region' }, target.stack),
      ];
      const name = symbol(whole[1], whole[2]);
      const [acct, reg] = [this.text(String(own)), this.text(String(where))];
      if (target.resource.Type === 'AWS::KMS::Key') return `arn:${partition}:kms:${reg}:${acct}:key/${name}`;
      if (target.resource.Type === 'AWS::IAM::Role') return `arn:${partition}:iam::${acct}:role/${name}`;
      if (target.resource.Type === 'AWS::S3::Bucket') return `arn:${partition}:s3:::${name}`;
    }
    return s
      .replace(/\$\{AWS::AccountId\}/g, account)
      .replace(/\$\{AWS::Region\}/g, region)
      .replace(/\$\{AWS::Partition\}/g, partition)
      .replace(/\$\{AWS::URLSuffix\}/g, 'amazonaws.com')
      .replace(
        /(?:ref|att)\|([^/|]+)\/([A-Za-z0-9]+)(?:\|([A-Za-z0-9.]+))?/g,
        (_m, stack: string, id: string, attr: string | undefined) => symbol(stack, id, attr),
      );
  }
}

const symbol = (stack: string, id: string, attr?: string) =>
  `${stack}-${id}${attr ? `-${attr}` : ''}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');

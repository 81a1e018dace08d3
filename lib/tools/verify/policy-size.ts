import {
  IAM_POLICY_QUOTAS,
  PSEUDO_PARAMETER_LENGTH,
  UNBOUNDED_VALUE_LENGTH,
  referenceLength,
} from '../../contract/iam-quotas';
import type { Assembly } from './assembly';
import { allResources, type LocatedResource, type Resolver } from './resolve';

export type PolicyKind = keyof typeof IAM_POLICY_QUOTAS;

/** A policy's size once CloudFormation resolves it, estimated from the largest value each reference can take. */
export interface PolicySize {
  readonly kind: PolicyKind;
  readonly stack: string;
  /** The managed policy, or the role whose inline policies or trust policy it is. */
  readonly logicalId: string;
  readonly estimate: number;
  readonly quota: number;
  /** References whose value the templates do not bound: each counted as `UNBOUNDED_REFERENCE` characters. */
  readonly unbounded: readonly string[];
}

/** What a reference the templates do not bound is counted as. */
export const UNBOUNDED_REFERENCE = UNBOUNDED_VALUE_LENGTH;

/** The longest value a resolver placeholder (`ref|`, `att|`, `${AWS::...}`, `{az0}`) can take. */
function placeholderLength(placeholder: string, assembly: Assembly, unbounded: string[]): number {
  const pseudo = /^\$\{(AWS::[A-Za-z]+)\}$/.exec(placeholder);
  if (pseudo) return PSEUDO_PARAMETER_LENGTH[pseudo[1]] ?? count(unbounded, placeholder);
  if (/^\{az\d+\}$/.test(placeholder)) return 'ap-southeast-5a'.length;
  if (placeholder.startsWith('{map:')) return count(unbounded, placeholder);
  const reference = /^(ref|att)\|([^/|]+)\/([A-Za-z0-9]+)(?:\|([A-Za-z0-9.]+))?$/.exec(placeholder);
  const stack = reference && assembly.stacks.find((s) => s.id === reference[2]);
  const resource = stack?.template.Resources?.[reference![3]];
  if (!reference || !stack || !resource) return count(unbounded, placeholder);
  const [, kind, , logicalId, attribute] = reference;
  return (
    referenceLength({
      type: resource.Type,
      stackName: stack.stackName,
      logicalId,
      attribute: kind === 'ref' ? 'Ref' : attribute,
    }) ?? count(unbounded, placeholder)
  );
}

function count(unbounded: string[], placeholder: string): number {
  unbounded.push(placeholder);
  return UNBOUNDED_REFERENCE;
}

/** Placeholders the resolver leaves in strings: a reference runs until a `/`, `:` or quote ends its logical id. */
const PLACEHOLDER =
  /(?:ref|att)\|[^/|"]+\/[A-Za-z0-9]+(?:\|[A-Za-z0-9.]+)?|\$\{AWS::[A-Za-z]+\}|\{az\d+\}|\{map:[^}]*\}|unresolved\|[^"]*/g;

/** The characters IAM counts in a resolved document: its JSON without white space outside strings. */
export function estimatedLength(resolved: unknown, assembly: Assembly, unbounded: string[]): number {
  const text = JSON.stringify(resolved) ?? '';
  let length = text.length;
  for (const match of text.matchAll(PLACEHOLDER)) {
    const placeholder = match[0];
    length -= placeholder.length;
    length += placeholder.startsWith('unresolved|')
      ? count(unbounded, placeholder)
      : placeholderLength(placeholder, assembly, unbounded);
  }
  return length;
}

/**
 * Every managed policy, every role's inline policies (its `Policies` and the `AWS::IAM::Policy`
 * resources attached to it) and every role's trust policy, with the size IAM would count; and
 * every role's count of attached managed policies (its `ManagedPolicyArns` and the managed
 * policies of the assembly that name it).
 */
export function policySizes(assembly: Assembly, r: Resolver): PolicySize[] {
  const resources = allResources(assembly);
  const sizes: PolicySize[] = [];
  const measure = (kind: PolicyKind, at: LocatedResource, documents: readonly unknown[]) => {
    const unbounded: string[] = [];
    const estimate = documents.reduce<number>(
      (sum, doc) => sum + estimatedLength(r.resolve(doc, at.stack), assembly, unbounded),
      0,
    );
    sizes.push({
      kind,
      stack: at.stack.id,
      logicalId: at.id,
      estimate,
      quota: IAM_POLICY_QUOTAS[kind],
      unbounded: [...new Set(unbounded)],
    });
  };
  const attached = new Map<string, unknown[]>();
  for (const policy of resources.filter((x) => x.resource.Type === 'AWS::IAM::Policy')) {
    const roles = r.resolve(policy.resource.Properties?.Roles ?? [], policy.stack);
    for (const role of Array.isArray(roles) ? roles : []) {
      const key = String(role);
      attached.set(key, [...(attached.get(key) ?? []), policy.resource.Properties?.PolicyDocument]);
    }
  }
  const attachedManaged = new Map<string, number>();
  for (const policy of resources.filter((x) => x.resource.Type === 'AWS::IAM::ManagedPolicy')) {
    const roles = r.resolve(policy.resource.Properties?.Roles ?? [], policy.stack);
    for (const role of Array.isArray(roles) ? roles : []) {
      attachedManaged.set(String(role), (attachedManaged.get(String(role)) ?? 0) + 1);
    }
  }
  for (const located of resources) {
    const { resource, stack, id } = located;
    if (resource.Type === 'AWS::IAM::ManagedPolicy') {
      measure('managed', located, [resource.Properties?.PolicyDocument]);
    } else if (resource.Type === 'AWS::IAM::Role') {
      measure('trust', located, [resource.Properties?.AssumeRolePolicyDocument]);
      const inline = ((resource.Properties?.Policies ?? []) as { PolicyDocument: unknown }[]).map(
        (p) => p.PolicyDocument,
      );
      // An attached policy names the role by its Ref: its name, or `ref|` when generated.
      const name = resource.Properties?.RoleName;
      const keys = [`ref|${stack.id}/${id}`, ...(name === undefined ? [] : [String(r.resolve(name, stack))])];
      const more = keys.flatMap((k) => attached.get(k) ?? []);
      if (inline.length + more.length > 0) measure('inlinePerRole', located, [...inline, ...more]);
      const arns = resource.Properties?.ManagedPolicyArns;
      sizes.push({
        kind: 'managedPerRole',
        stack: stack.id,
        logicalId: id,
        estimate:
          (Array.isArray(arns) ? arns.length : 0) +
          keys.reduce((n, k) => n + (attachedManaged.get(k) ?? 0), 0),
        quota: IAM_POLICY_QUOTAS.managedPerRole,
        unbounded: [],
      });
    }
  }
  return sizes;
}

/** The policies over their quota, largest first. */
export function oversizedPolicies(assembly: Assembly, r: Resolver): PolicySize[] {
  return policySizes(assembly, r)
    .filter((p) => p.estimate > p.quota)
    .sort((a, b) => b.estimate - a.estimate);
}

/** What an oversized policy means, for a reviewer and for whoever has to fix it. */
export function describeOversized(p: PolicySize): string {
  if (p.kind === 'managedPerRole') {
    return `role ${p.stack}/${p.logicalId} would have ${p.estimate} managed policies attached, over IAM's default quota of ${p.quota} per role: IAM refuses the attachment at deploy unless the account's quota is raised (at most 20)`;
  }
  const what = {
    managed: 'managed policy',
    inlinePerRole: "role's inline policies together",
    trust: "role's trust policy",
  }[p.kind];
  const unbounded =
    p.unbounded.length > 0
      ? ` (${p.unbounded.length} reference(s) the templates do not bound counted as ${UNBOUNDED_REFERENCE} characters each)`
      : '';
  return `${what} ${p.stack}/${p.logicalId} would be about ${p.estimate.toLocaleString('en-US')} characters once CloudFormation resolves it, over IAM's quota of ${p.quota.toLocaleString('en-US')}${unbounded}: IAM refuses it at deploy`;
}

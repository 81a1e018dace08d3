import { defaultStackIds, readTemplateJson } from './default-app';
import type { Template } from 'aws-cdk-lib/assertions';
import { resourcesOf as templateResources, statements, type Resource } from './template';

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
  Principal?: unknown;
}

/** An identity policy of the app: a managed policy, a policy, or a role's inline policy. */
export interface IdentityPolicy {
  readonly where: string;
  readonly statements: Statement[];
  /** Logical ids of the roles it applies to. */
  readonly roles: string[];
}

const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];
export const actionsOf = (s: Statement) => list(s.Action);
export const resourcesOf = (s: Statement) => list(s.Resource);

/** Every identity policy in the default app's templates, inline role policies included. */
export function identityPolicies(stackIds = defaultStackIds()): IdentityPolicy[] {
  return stackIds.flatMap((stack) => {
    const resources = readTemplateJson(stack).Resources as Record<string, Resource>;
    return Object.entries(resources).flatMap(([id, r]): IdentityPolicy[] => {
      const props = r.Properties ?? {};
      const roles = list(props.Roles as { Ref?: string }[] | undefined).map(
        (x) => x.Ref ?? JSON.stringify(x),
      );
      if (r.Type === 'AWS::IAM::ManagedPolicy' || r.Type === 'AWS::IAM::Policy') {
        const document = props.PolicyDocument as { Statement: Statement[] };
        return [{ where: `${stack}/${id}`, statements: document.Statement, roles }];
      }
      if (r.Type === 'AWS::IAM::Role') {
        return list(
          props.Policies as { PolicyName: string; PolicyDocument: { Statement: Statement[] } }[],
        ).map((p) => ({
          where: `${stack}/${id}/${p.PolicyName}`,
          statements: p.PolicyDocument.Statement,
          roles: [id],
        }));
      }
      return [];
    });
  });
}

/** Every role of the default app: stack, logical id and properties. */
export function roles(
  stackIds = defaultStackIds(),
): { stack: string; id: string; props: Record<string, unknown> }[] {
  return stackIds.flatMap((stack) =>
    Object.entries(readTemplateJson(stack).Resources as Record<string, Resource>)
      .filter(([, r]) => r.Type === 'AWS::IAM::Role')
      .map(([id, r]) => ({ stack, id, props: r.Properties ?? {} })),
  );
}

/** `{"Fn::Join": ["", ["arn:", ..., ":role/aiseg-x"]]}` -> `aiseg-x`; other values as JSON. */
export function roleNameOf(arn: unknown): string {
  const text = JSON.stringify(arn);
  return /:role\/([\w+=,.@-]+)"\]\]\}$/.exec(text)?.[1] ?? text;
}

/** The statements of the managed policy attached to a role, by role name. */
export function policyOfRole(t: Template, name: string): Statement[] {
  const resources = templateResources(t);
  const found = Object.entries(resources).find(
    ([, r]) => r.Type === 'AWS::IAM::Role' && r.Properties?.RoleName === name,
  );
  if (!found) throw new Error(`no role named ${name}`);
  const [, policy] = Object.entries(resources).find(
    ([, r]) =>
      r.Type === 'AWS::IAM::ManagedPolicy' &&
      (r.Properties?.Roles as { Ref: string }[]).some((ref) => ref.Ref === found[0]),
  )!;
  return statements(policy.Properties?.PolicyDocument) as unknown as Statement[];
}

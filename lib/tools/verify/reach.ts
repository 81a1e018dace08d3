/**
 * Administrative reach: with a CDK bootstrap template given to the verifier, which principals can
 * change the blueprint's own policies (the zones' bucket policies, the keys' policies, the roles'
 * policies), directly or through CloudFormation: a principal that may assume the bootstrap's deploy
 * role starts CloudFormation, which acts as the execution role, whatever that role's policies allow.
 * Each step is decided by the policy engine on the concrete documents.
 */
import { AssemblyError } from './assembly';
import { evaluate, type Decision, type Placeholders, type PolicyDocument } from './engine';
import { ADMIN_POLICY, type AccessPrincipal, type Zone } from './matrix';
import type { CfnTemplate } from '../bootstrap/scoped';

/** A role of the bootstrap, made concrete for the engine. */
export interface BootstrapRole {
  readonly arn: string;
  readonly trust: PolicyDocument;
  readonly identity: readonly PolicyDocument[];
  /** Managed policies the verifier cannot read (by ARN), taken to allow everything. */
  readonly unreadable: readonly string[];
}

export interface BootstrapRoles {
  readonly deploy: BootstrapRole;
  readonly execution: BootstrapRole;
}

const NO_VALUE = Symbol('AWS::NoValue');

/**
 * The deploy and execution roles of a CDK bootstrap template, in one account, region and
 * qualifier: parameters take their defaults (the qualifier the assembly's stacks name), conditions
 * and intrinsic functions are evaluated, `AdministratorAccess` and managed policies the template
 * does not define are taken to allow everything.
 */
export function bootstrapRoles(
  template: CfnTemplate,
  places: Placeholders,
  qualifier: string,
): BootstrapRoles {
  const resources = template.Resources ?? {};
  const params: Record<string, unknown> = {};
  for (const [name, parameter] of Object.entries(template.Parameters ?? {})) {
    const p = parameter as { Type?: string; Default?: unknown };
    const given = p.Default ?? '';
    params[name] =
      p.Type === 'CommaDelimitedList' && typeof given === 'string' ? given.split(',').filter(Boolean) : given;
  }
  params.Qualifier = qualifier;
  const pseudo: Record<string, unknown> = {
    'AWS::AccountId': places.account,
    'AWS::Region': places.region,
    'AWS::Partition': places.partition,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::NoValue': NO_VALUE,
  };
  const roleArnOf = (id: string) => {
    const name = resources[id]?.Properties?.RoleName;
    return `arn:${places.partition}:iam::${places.account}:role/${String(name === undefined ? id : value(name))}`;
  };
  const attribute = (id: string, attr: string) => {
    if (attr === 'Arn' && resources[id]?.Type === 'AWS::IAM::Role') return roleArnOf(id);
    return `${id}.${attr}`;
  };
  const ref = (name: string): unknown => {
    if (name in pseudo) return pseudo[name];
    if (name in params) return params[name];
    if (resources[name]?.Type === 'AWS::IAM::ManagedPolicy') return `policy-in-template|${name}`;
    return name;
  };
  const condition = (name: string): boolean => {
    const c = template.Conditions?.[name];
    if (c === undefined) throw new AssemblyError(`the bootstrap template has no condition ${name}`);
    return Boolean(value(c));
  };
  const sub = (text: string, vars: Record<string, unknown> = {}) =>
    text.replace(/\$\{([^}!]+)\}/g, (_m, key: string) => {
      if (key in vars) return String(value(vars[key]));
      const [id, attr] = key.split('.');
      return String(attr ? attribute(id, attr) : ref(key));
    });
  function value(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(value).filter((x) => x !== NO_VALUE);
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    const [key] = Object.keys(o);
    const arg = o[key];
    if (Object.keys(o).length === 1) {
      switch (key) {
        case 'Ref':
          return ref(String(arg));
        case 'Fn::Sub':
          return Array.isArray(arg)
            ? sub(String(arg[0]), (arg[1] ?? {}) as Record<string, unknown>)
            : sub(String(arg));
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(arg) ? arg.map(String) : String(arg).split('.');
          return attribute(id, attr);
        }
        case 'Fn::If': {
          const [c, yes, no] = arg as [string, unknown, unknown];
          return value(condition(c) ? yes : no);
        }
        case 'Fn::Equals': {
          const [a, b] = (arg as unknown[]).map(value);
          return JSON.stringify(a) === JSON.stringify(b);
        }
        case 'Fn::Not':
          return !value((arg as unknown[])[0]);
        case 'Fn::And':
          return (arg as unknown[]).every((x) => Boolean(value(x)));
        case 'Fn::Or':
          return (arg as unknown[]).some((x) => Boolean(value(x)));
        case 'Condition':
          return condition(String(arg));
        case 'Fn::Join': {
          const [sep, parts] = arg as [string, unknown];
          return (value(parts) as unknown[]).map(String).join(sep);
        }
        case 'Fn::Split': {
          const [sep, text] = arg as [string, unknown];
          return String(value(text)).split(sep);
        }
        case 'Fn::Select': {
          const [index, items] = arg as [unknown, unknown];
          return (value(items) as unknown[])[Number(value(index))];
        }
      }
    }
    return Object.fromEntries(
      Object.entries(o)
        .map(([k, x]) => [k, value(x)] as const)
        .filter(([, x]) => x !== NO_VALUE),
    );
  }

  const role = (id: string): BootstrapRole => {
    const r = resources[id];
    if (r?.Type !== 'AWS::IAM::Role') {
      throw new AssemblyError(`the bootstrap template has no role ${id}: is it a CDK bootstrap template?`);
    }
    const p = r.Properties ?? {};
    const inline = ((value(p.Policies) ?? []) as { PolicyDocument: PolicyDocument }[]).map(
      (x) => x.PolicyDocument,
    );
    const unreadable: string[] = [];
    const managed = ((value(p.ManagedPolicyArns) ?? []) as string[]).flatMap((arn): PolicyDocument[] => {
      const own = /^policy-in-template\|(.+)$/.exec(arn);
      if (own) return [value(resources[own[1]].Properties?.PolicyDocument) as PolicyDocument];
      // Read-only policies of AWS grant nothing the reach is about; any other is taken at its worst.
      if (/:iam::aws:policy\/(AWSCloudFormationReadOnlyAccess|ReadOnlyAccess)$/.test(arn)) return [];
      if (!/:iam::aws:policy\/AdministratorAccess$/.test(arn)) unreadable.push(arn);
      return [ADMIN_POLICY];
    });
    return {
      arn: roleArnOf(id),
      trust: value(p.AssumeRolePolicyDocument) as PolicyDocument,
      identity: [...inline, ...managed],
      unreadable,
    };
  };
  return { deploy: role('DeploymentActionRole'), execution: role('CloudFormationExecutionRole') };
}

/** What a principal can change of the blueprint, by kind of policy. */
export interface ReachRow {
  readonly principal: string;
  /** It may assume the bootstrap's deploy role (and with it start CloudFormation as the execution role). */
  readonly deploys: boolean;
  /** For each kind: how many of the blueprint's it changes itself, and how many through CloudFormation. */
  readonly bucketPolicies: { direct: number; throughCloudFormation: number; of: number };
  readonly keyPolicies: { direct: number; throughCloudFormation: number; of: number };
  readonly rolePolicies: { direct: number; throughCloudFormation: number; of: number };
}

export interface AdministrativeReach {
  readonly deployRole: string;
  readonly executionRole: string;
  /** Managed policies of the bootstrap the verifier could not read, taken to allow everything. */
  readonly unreadable: readonly string[];
  readonly rows: ReachRow[];
}

/** Which principals can change the zones' bucket policies, the keys' policies and the roles' policies. */
export async function administrativeReach(
  principals: readonly AccessPrincipal[],
  zones: readonly Zone[],
  bootstrap: BootstrapRoles,
  organisation: string,
  /** CloudFormation stack names by stack id: a role without a RoleName is named after its stack. */
  stackNames: ReadonlyMap<string, string> = new Map(),
): Promise<AdministrativeReach> {
  const ask = (
    who: {
      arn: string;
      account: string;
      identity: readonly PolicyDocument[];
      boundary?: readonly PolicyDocument[];
    },
    action: string,
    resource: string,
    resourceAccount: string,
    resourcePolicy?: PolicyDocument,
    extra: Record<string, string> = {},
  ): Promise<Decision> =>
    evaluate({
      principal: who.arn,
      action,
      resource,
      resourceAccount,
      identityPolicies: [...who.identity],
      ...(who.boundary ? { boundary: [...who.boundary] } : {}),
      ...(resourcePolicy ? { resourcePolicy } : {}),
      context: {
        'aws:PrincipalArn': who.arn,
        'aws:PrincipalAccount': who.account,
        'aws:PrincipalOrgID': organisation,
        'aws:SecureTransport': 'true',
        'aws:MultiFactorAuthPresent': 'true',
        'aws:MultiFactorAuthAge': '60',
        ...extra,
      },
    });
  const [, partition, , , account] = bootstrap.deploy.arn.split(':');
  const buckets = [...new Map(zones.map((z) => [z.bucketArn, z])).values()];
  const keys = [...new Map(zones.map((z) => [z.keyArn, z])).values()];
  // A role CloudFormation names is `<stack name>-<logical id>-<suffix>`: that is the ARN its policy is changed at.
  const roles = principals
    .filter((p) => p.kind === 'role')
    .map((p) => {
      const stackName = p.stack ? stackNames.get(p.stack) : undefined;
      return p.name === `${p.stack}/${p.logicalId}` && stackName
        ? { ...p, arn: `${p.arn.split(':role/')[0]}:role/${stackName}-${p.logicalId}-generated` }
        : p;
    });
  /** What one identity changes: bucket policies, key policies, role policies. */
  const changes = async (who: Parameters<typeof ask>[0]) => {
    const count = async (checks: Promise<Decision>[]) =>
      (await Promise.all(checks)).filter((d) => d === 'Allowed').length;
    return {
      buckets: await count(
        buckets.map((z) => ask(who, 's3:PutBucketPolicy', z.bucketArn, z.account, z.bucketPolicy)),
      ),
      keys: await count(keys.map((z) => ask(who, 'kms:PutKeyPolicy', z.keyArn, z.account, z.keyPolicy))),
      roles: await count(roles.map((r) => ask(who, 'iam:PutRolePolicy', r.arn, r.account))),
    };
  };
  const execution = { arn: bootstrap.execution.arn, account, identity: bootstrap.execution.identity };
  const deploy = { arn: bootstrap.deploy.arn, account, identity: bootstrap.deploy.identity };
  // CloudFormation acts as the execution role when the deploy role may start it with that role.
  const starts =
    (await ask(
      deploy,
      'cloudformation:ExecuteChangeSet',
      `arn:${partition}:cloudformation:*:${account}:stack/x/y`,
      account,
    )) === 'Allowed' &&
    (await ask(deploy, 'iam:PassRole', execution.arn, account, undefined, {
      'iam:PassedToService': 'cloudformation.amazonaws.com',
    })) === 'Allowed';
  const throughCloudFormation = starts ? await changes(execution) : { buckets: 0, keys: 0, roles: 0 };
  const rows: ReachRow[] = [];
  for (const p of principals.filter((x) => x.kind !== 'another-account')) {
    const deploys =
      (await ask(p, 'sts:AssumeRole', bootstrap.deploy.arn, account, bootstrap.deploy.trust)) === 'Allowed';
    const direct = await changes(p);
    const through = deploys ? throughCloudFormation : { buckets: 0, keys: 0, roles: 0 };
    rows.push({
      principal: p.name,
      deploys,
      bucketPolicies: { direct: direct.buckets, throughCloudFormation: through.buckets, of: buckets.length },
      keyPolicies: { direct: direct.keys, throughCloudFormation: through.keys, of: keys.length },
      rolePolicies: { direct: direct.roles, throughCloudFormation: through.roles, of: roles.length },
    });
  }
  return {
    deployRole: bootstrap.deploy.arn,
    executionRole: bootstrap.execution.arn,
    unreadable: [...bootstrap.deploy.unreadable, ...bootstrap.execution.unreadable],
    rows,
  };
}

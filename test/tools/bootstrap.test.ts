import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CLI_BOOTSTRAP_TEMPLATE, main } from '../../scripts/bootstrap-template';
import { deployServices, scopedBootstrapTemplate, type CfnTemplate } from '../../lib/tools/bootstrap/scoped';
import { readAssembly } from '../../lib/tools/verify/assembly';
import { evaluate, type PolicyDocument } from '../../lib/tools/verify/engine';
import { defaultAppDir, exampleAppDir } from '../support/default-app';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const base = parse(readFileSync(CLI_BOOTSTRAP_TEMPLATE, 'utf8')) as CfnTemplate;
const templates = (dir: string) => readAssembly(dir).stacks.map((s) => s.template as unknown as CfnTemplate);

/**
 * A bootstrap template's value with its `Fn::Sub`s, `Ref`s and `Fn::If`s filled in for one account,
 * region and qualifier, the CLI's parameters at their defaults.
 */
function concrete<T>(value: T): T {
  const vars: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::AccountId': ACCOUNT,
    'AWS::Region': REGION,
    Qualifier: 'hnb659fds',
  };
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o['Fn::Sub'] === 'string')
        return o['Fn::Sub'].replace(/\$\{([^}]+)\}/g, (_, k: string) => vars[k]);
      if (typeof o.Ref === 'string' && vars[o.Ref]) return vars[o.Ref];
      // The CLI's DenyExternalId parameter defaults to true.
      if (Array.isArray(o['Fn::If'])) {
        const [condition, yes, no] = o['Fn::If'] as [string, unknown, unknown];
        return walk(condition === 'ShouldDenyExternalId' ? yes : no);
      }
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return walk(value) as T;
}

describe('the scoped CDK bootstrap', () => {
  const services = deployServices([...templates(defaultAppDir()), ...templates(exampleAppDir())]);
  const scoped = scopedBootstrapTemplate(base, {
    namePrefix: 'aiseg',
    services,
    deployers: [`arn:aws:iam::${ACCOUNT}:role/DeployPipeline`],
  });
  const role = (id: string) => scoped.Resources[id].Properties ?? {};

  test('covers every resource namespace of the default and example blueprints; refuses one it does not know', () => {
    expect(services).toEqual(
      expect.arrayContaining(['ec2', 'kms', 'network-firewall', 'sagemaker', 'states']),
    );
    expect(services).not.toContain('iam');
    expect(services).not.toContain('s3');
    expect(() => deployServices([{ Resources: { Db: { Type: 'AWS::RDS::DBInstance' } } }])).toThrow(
      /AWS::RDS.*DEPLOY_SERVICES/,
    );
  });

  test.each(['DeploymentActionRole', 'FilePublishingRole', 'ImagePublishingRole', 'LookupRole'])(
    '%s trusts the platform admin role and the named deployers, not every principal of the account (engine-evaluated)',
    async (id) => {
      const trust = concrete(role(id).AssumeRolePolicyDocument) as PolicyDocument;
      const assume = (principal: string, context: Record<string, string> = {}) =>
        evaluate({
          principal,
          action: 'sts:AssumeRole',
          resource: `arn:aws:iam::${ACCOUNT}:role/cdk-hnb659fds-x`,
          resourceAccount: ACCOUNT,
          // Each caller's own policy allows it: only the trust stands in the way.
          identityPolicies: [
            { Statement: [{ Effect: 'Allow', Action: 'sts:*', Resource: '*' }] },
          ] as PolicyDocument[],
          resourcePolicy: trust,
          context: { 'aws:PrincipalArn': principal, 'aws:PrincipalAccount': ACCOUNT, ...context },
        });
      expect(await assume(`arn:aws:iam::${ACCOUNT}:role/aiseg-platform-admin`)).toBe('Allowed');
      // As the CLI's own trust does: no session that names an external id.
      expect(
        await assume(`arn:aws:iam::${ACCOUNT}:role/aiseg-platform-admin`, { 'sts:ExternalId': 'vendor-123' }),
      ).not.toBe('Allowed');
      expect(await assume(`arn:aws:iam::${ACCOUNT}:role/DeployPipeline`)).toBe('Allowed');
      expect(await assume(`arn:aws:iam::${ACCOUNT}:role/PowerUserAccess`)).not.toBe('Allowed');
      expect(await assume(`arn:aws:iam::${ACCOUNT}:role/aiseg-data-scientist`)).not.toBe('Allowed');
    },
  );

  test("CloudFormation's execution role holds the blueprint's policy, never AdministratorAccess", () => {
    expect(role('CloudFormationExecutionRole').ManagedPolicyArns).toEqual([
      { Ref: 'BlueprintExecutionPolicy' },
    ]);
    expect(JSON.stringify(scoped)).not.toContain('AdministratorAccess');
    // The rest of the CLI's template is as it was (its version output included).
    expect(scoped.Outputs).toEqual(base.Outputs);
    expect(base.Resources.CloudFormationExecutionRole.Properties?.ManagedPolicyArns).not.toEqual(
      role('CloudFormationExecutionRole').ManagedPolicyArns,
    );
  });

  describe('what CloudFormation may do with it (engine-evaluated)', () => {
    const policy = concrete(
      scoped.Resources.BlueprintExecutionPolicy.Properties?.PolicyDocument,
    ) as PolicyDocument;
    const exec = `arn:aws:iam::${ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-${ACCOUNT}-${REGION}`;
    const may = (action: string, resource: string, context: Record<string, string> = {}) =>
      evaluate({
        principal: exec,
        action,
        resource,
        resourceAccount: ACCOUNT,
        identityPolicies: [policy],
        context: { 'aws:PrincipalArn': exec, 'aws:PrincipalAccount': ACCOUNT, ...context },
      });
    const boundary = `arn:aws:iam::${ACCOUNT}:policy/aiseg-permission-boundary`;

    test("the blueprint's buckets, roles and policies; no other bucket or role", async () => {
      expect(await may('s3:PutBucketPolicy', 'arn:aws:s3:::aiseg-raw-123456789012-eu-west-1')).toBe(
        'Allowed',
      );
      expect(await may('s3:PutBucketPolicy', 'arn:aws:s3:::payroll-exports')).toBe('ImplicitlyDenied');
      expect(await may('iam:PutRolePolicy', `arn:aws:iam::${ACCOUNT}:role/aiseg-ingestion`)).toBe('Allowed');
      expect(
        await may('iam:PutRolePolicy', `arn:aws:iam::${ACCOUNT}:role/OrganizationAccountAccessRole`),
      ).toBe('ImplicitlyDenied');
      // The services of the blueprint, on any of their resources.
      expect(
        await may(
          'network-firewall:UpdateRuleGroup',
          `arn:aws:network-firewall:${REGION}:${ACCOUNT}:stateful-rulegroup/x`,
        ),
      ).toBe('Allowed');
    });

    test("every role it creates carries the blueprint's boundary, which it cannot take off; no users or keys", async () => {
      const role = `arn:aws:iam::${ACCOUNT}:role/aiseg-network-x`;
      expect(await may('iam:CreateRole', role, { 'iam:PermissionsBoundary': boundary })).toBe('Allowed');
      expect(await may('iam:CreateRole', role)).toBe('ExplicitlyDenied');
      expect(
        await may('iam:CreateRole', role, {
          'iam:PermissionsBoundary': `arn:aws:iam::${ACCOUNT}:policy/aiseg-open`,
        }),
      ).toBe('ExplicitlyDenied');
      expect(await may('iam:DeleteRolePermissionsBoundary', role)).toBe('ExplicitlyDenied');
      expect(await may('iam:CreateUser', `arn:aws:iam::${ACCOUNT}:user/aiseg-backdoor`)).toBe(
        'ExplicitlyDenied',
      );
      expect(await may('iam:CreateAccessKey', `arn:aws:iam::${ACCOUNT}:user/aiseg-backdoor`)).toBe(
        'ExplicitlyDenied',
      );
      expect(await may('organizations:LeaveOrganization', '*')).toBe('ImplicitlyDenied');
      // Not AdministratorAccess to a role of the blueprint's name: only the blueprint's own policies.
      const attach = (policy: string) => may('iam:AttachRolePolicy', role, { 'iam:PolicyARN': policy });
      expect(await attach('arn:aws:iam::aws:policy/AdministratorAccess')).toBe('ExplicitlyDenied');
      expect(await attach(`arn:aws:iam::${ACCOUNT}:policy/aiseg-ingestion-policy`)).toBe('Allowed');
      // Every managed policy a role of either blueprint names (aws-cdk-lib's handler roles take
      // Lambda's basic execution policy): else the stack holding it could not deploy.
      const named = [defaultAppDir(), exampleAppDir()].flatMap((dir) =>
        readAssembly(dir).stacks.flatMap((stack) =>
          Object.values(stack.template.Resources ?? {})
            .filter((r) => r.Type === 'AWS::IAM::Role')
            .flatMap((r) => (r.Properties?.ManagedPolicyArns ?? []) as unknown[]),
        ),
      );
      expect(named.length).toBeGreaterThan(0);
      for (const arn of new Set(named.map((a) => JSON.stringify(concrete(a))))) {
        const policyArn = JSON.parse(arn) as unknown;
        // The blueprint's own are Refs to its managed policies, named under its prefix.
        if (typeof policyArn !== 'string') continue;
        expect([policyArn, await attach(policyArn)]).toEqual([policyArn, 'Allowed']);
      }
    });

    test("what every deploy needs: the bootstrap version parameter, AWS Config's service-linked role", async () => {
      expect(
        await may(
          'ssm:GetParameters',
          `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/cdk-bootstrap/hnb659fds/version`,
        ),
      ).toBe('Allowed');
      expect(
        await may(
          'iam:PassRole',
          `arn:aws:iam::${ACCOUNT}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig`,
          { 'iam:PassedToService': 'config.amazonaws.com' },
        ),
      ).toBe('Allowed');
      // Its own variant: a later plain `cdk bootstrap` does not silently put the CLI's back.
      expect((scoped.Parameters?.BootstrapVariant as { Default: string }).Default).toBe(
        'AI Segmentation Blueprint: scoped for aiseg',
      );
    });
  });

  test('the command writes it from an assembly and a config; a bad deployer or a missing assembly is refused', () => {
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const out = join(mkdtempSync(join(tmpdir(), 'aiseg-bootstrap-')), 'bootstrap.yaml');
    expect(main([exampleAppDir(), '--config', 'config/example.json', '--out', out])).toBe(0);
    const text = readFileSync(out, 'utf8');
    // CloudFormation refuses YAML anchors and aliases; the trust's shared condition must not make one.
    expect(text).not.toMatch(/[&*]a\d+\b/);
    const written = parse(text) as CfnTemplate;
    expect(JSON.stringify(written.Resources.DeploymentActionRole.Properties)).toContain(
      'role/acme-ai-platform-admin',
    );
    expect(main([exampleAppDir(), '--deployer', 'arn:aws:iam::123:root', '--out', out])).toBe(2);
    expect(main([join(tmpdir(), 'no-such-assembly'), '--out', out])).toBe(2);
    expect(errors.mock.calls.map(([m]) => String(m))).toEqual([
      expect.stringContaining('--deployer arn:aws:iam::123:root: expected a role ARN'),
      expect.stringContaining('no cloud assembly here'),
    ]);
    jest.restoreAllMocks();
  });
});

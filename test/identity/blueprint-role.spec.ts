import { Stack, type App, type Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { BlueprintRole, type RoleTrust } from '../../lib/identity/blueprint-role';
import { readAssembly } from '../../lib/tools/verify/assembly';
import { policySizes } from '../../lib/tools/verify/policy-size';
import { Resolver } from '../../lib/tools/verify/resolve';
import { gateCheck } from '../support/gate-check';
import { testApp } from '../support/synth';

const ENV = { account: '111122223333', region: 'eu-west-1' };

function roleIn(stack: Stack, id: string, trust: RoleTrust): BlueprintRole {
  return new BlueprintRole(stack, id, {
    namePrefix: 'acme',
    role: id,
    description: `The ${id} role`,
    trust,
    statements: [
      new iam.PolicyStatement({ sid: 'ReadOne', actions: ['s3:GetObject'], resources: ['arn:aws:s3:::b/k'] }),
    ],
  });
}

function roleResource(t: Template, name: string): { Properties: Record<string, unknown> } {
  const [role] = Object.values(t.findResources('AWS::IAM::Role', { Properties: { RoleName: name } }));
  if (!role) throw new Error(`no role ${name}`);
  return role as { Properties: Record<string, unknown> };
}

const tags = (role: { Properties: Record<string, unknown> }) =>
  Object.fromEntries((role.Properties.Tags as { Key: string; Value: string }[]).map((t) => [t.Key, t.Value]));

/** A role of each trust; the service role is also granted a right after it is made. */
function build(scope: App | Stage): Stack {
  const stack = new Stack(scope, 'Roles', { env: ENV });
  roleIn(stack, 'analyst', {
    kind: 'people',
    mfa: 'iam',
    principals: ['arn:aws:iam::111122223333:user/ana'],
    field: 'identities.analysts',
  });
  roleIn(stack, 'clinician', {
    kind: 'people',
    mfa: 'identity-provider',
    principals: [
      'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_Clinician_*',
      'arn:aws:iam::444455556666:role/Clinicians',
    ],
    field: 'identities.clinicians',
  });
  roleIn(stack, 'uploader', {
    kind: 'machines',
    principals: ['arn:aws:iam::444455556666:role/lab-uploader'],
    field: 'identities.ingestion',
    externalId: 'lab-7f3a',
  });
  roleIn(stack, 'unnamed', { kind: 'people', mfa: 'iam', field: 'identities.unnamed' });
  roleIn(stack, 'unnamed-machine', { kind: 'machines', principals: [], field: 'identities.ingestion' });
  const service = roleIn(stack, 'stage', { kind: 'service', service: 'lambda.amazonaws.com' });
  service.addToPrincipalPolicy(
    new iam.PolicyStatement({ sid: 'Granted', actions: ['sqs:SendMessage'], resources: ['*'] }),
  );
  return stack;
}

const ASSUME = ['sts:AssumeRole', 'sts:SetSourceIdentity'];

describe('BlueprintRole', () => {
  const gate = gateCheck('blueprint-role', build);
  const stack = build(testApp());
  const t = Template.fromStack(stack);

  test('people with IAM sessions: MFA used within the hour, one-hour sessions, tagged human', () => {
    const role = roleResource(t, 'acme-analyst');
    expect(role.Properties.MaxSessionDuration).toBe(3600);
    expect(role.Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'TheNamedPeopleWithMfa',
          Action: ASSUME,
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::111122223333:user/ana' },
          Condition: {
            Bool: { 'aws:MultiFactorAuthPresent': 'true' },
            NumericLessThan: { 'aws:MultiFactorAuthAge': '3600' },
          },
        },
      ],
    });
    expect(tags(role)).toMatchObject({
      'ai-segmentation:role': 'analyst',
      'ai-segmentation:role-type': 'human',
      'ai-segmentation:mfa': 'iam',
    });
  });

  test('people through an identity provider: their accounts, only the named roles by aws:PrincipalArn (the provider enforces MFA)', () => {
    const role = roleResource(t, 'acme-clinician');
    expect(role.Properties.MaxSessionDuration).toBe(3600);
    expect((role.Properties.AssumeRolePolicyDocument as { Statement: unknown[] }).Statement).toEqual([
      {
        Sid: 'TheNamedFederatedRoles',
        Action: ASSUME,
        Effect: 'Allow',
        Principal: { AWS: ['arn:aws:iam::111122223333:root', 'arn:aws:iam::444455556666:root'] },
        Condition: {
          ArnLike: {
            'aws:PrincipalArn': [
              'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_Clinician_*',
              'arn:aws:iam::444455556666:role/Clinicians',
            ],
          },
        },
      },
    ]);
    expect(tags(role)).toMatchObject({
      'ai-segmentation:role-type': 'human',
      'ai-segmentation:mfa': 'identity-provider',
    });
  });

  test('machines: the named principals with their external id, no MFA, default sessions, tagged service', () => {
    const role = roleResource(t, 'acme-uploader');
    expect(role.Properties.MaxSessionDuration).toBeUndefined();
    expect((role.Properties.AssumeRolePolicyDocument as { Statement: unknown[] }).Statement).toEqual([
      {
        Sid: 'TheNamedMachines',
        Action: ASSUME,
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::444455556666:role/lab-uploader' },
        Condition: { StringEquals: { 'sts:ExternalId': 'lab-7f3a' } },
      },
    ]);
    expect(tags(role)['ai-segmentation:role-type']).toBe('service');
    expect(tags(role)['ai-segmentation:mfa']).toBeUndefined();
  });

  test('no principal named: the trust denies everyone (never the account root), and the role says which field would name them', () => {
    for (const [name, field] of [
      ['acme-unnamed', 'identities.unnamed'],
      ['acme-unnamed-machine', 'identities.ingestion'],
    ]) {
      const role = roleResource(t, name) as { Properties: Record<string, unknown>; Metadata?: unknown };
      expect((role.Properties.AssumeRolePolicyDocument as { Statement: unknown[] }).Statement).toEqual([
        { Sid: 'NoPrincipalIsNamed', Action: ASSUME, Effect: 'Deny', Principal: { AWS: '*' } },
      ]);
      expect(role.Metadata).toMatchObject({ 'ai-segmentation:trusts-no-one': field });
      expect(JSON.stringify(role.Properties)).not.toMatch(/:root/);
    }
    expect((roleResource(t, 'acme-analyst') as { Metadata?: unknown }).Metadata).toBeUndefined();
  });

  test('a service: only for this account', () => {
    const [statement] = (
      roleResource(t, 'acme-stage').Properties.AssumeRolePolicyDocument as {
        Statement: Record<string, unknown>[];
      }
    ).Statement;
    expect(statement.Principal).toEqual({ Service: 'lambda.amazonaws.com' });
    expect(statement.Condition).toEqual({ StringEquals: { 'aws:SourceAccount': '111122223333' } });
  });

  test('every right, grants included, is in its one managed policy; no inline policy', () => {
    t.resourceCountIs('AWS::IAM::Policy', 0);
    const policies = Object.values(
      t.findResources('AWS::IAM::ManagedPolicy', { Properties: { ManagedPolicyName: 'acme-stage-policy' } }),
    ) as { Properties: { PolicyDocument: { Statement: { Sid: string }[] }; Roles: unknown[] } }[];
    expect(policies).toHaveLength(1);
    expect(policies[0].Properties.PolicyDocument.Statement.map((s) => s.Sid)).toEqual(['ReadOne', 'Granted']);
    expect(policies[0].Properties.Roles).toHaveLength(1);
  });

  test("rights beyond one policy's quota go to more managed policies, each within it, every right in exactly one", () => {
    const app = testApp();
    const logStack = new Stack(app, 'Logs', { env: ENV });
    const groups = Array.from(
      { length: 100 },
      (_, i) => new logs.LogGroup(logStack, `FunctionLogs${i}LogGroup`),
    );
    const roles = new Stack(app, 'Big', { env: ENV });
    const role = roleIn(roles, 'reader', { kind: 'service', service: 'lambda.amazonaws.com' });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadTheLogs',
        actions: ['logs:FilterLogEvents', 'logs:GetLogEvents'],
        resources: groups.map((g) => g.logGroupArn),
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'Later', actions: ['s3:ListBucket'], resources: ['arn:aws:s3:::b'] }),
    );
    const policies = Template.fromStack(roles).findResources('AWS::IAM::ManagedPolicy') as Record<
      string,
      {
        Properties: {
          ManagedPolicyName: string;
          PolicyDocument: { Statement: { Sid: string; Action: unknown; Resource: unknown }[] };
          Roles: unknown[];
        };
      }
    >;
    const byName = Object.fromEntries(
      Object.values(policies).map((p) => [p.Properties.ManagedPolicyName, p.Properties]),
    );
    expect(Object.keys(byName).sort()).toEqual(['acme-reader-policy', 'acme-reader-policy-2']);
    expect(role.permissionPolicies).toHaveLength(2);
    for (const p of Object.values(byName))
      expect(p.Roles).toEqual([{ Ref: expect.stringMatching(/^reader/) }]);
    // The log statement, too long for one policy, is split by its resources: every group once.
    const statements = Object.values(byName).flatMap((p) => p.PolicyDocument.Statement);
    expect(statements.map((s) => s.Sid).sort()).toEqual(['Later', 'ReadOne', 'ReadTheLogs1', 'ReadTheLogs2']);
    const logReads = statements.filter((s) => s.Sid.startsWith('ReadTheLogs'));
    for (const s of logReads) expect(s.Action).toEqual(['logs:FilterLogEvents', 'logs:GetLogEvents']);
    const named = logReads.flatMap((s) => (s.Resource as unknown[]).map((r) => JSON.stringify(r)));
    expect(named).toHaveLength(groups.length);
    expect(new Set(named).size).toBe(groups.length);
    // On an update, a statement moving between them is granted by the new policy before the first gives it up.
    const [firstId, secondId] = ['acme-reader-policy', 'acme-reader-policy-2'].map(
      (name) => Object.entries(policies).find(([, p]) => p.Properties.ManagedPolicyName === name)![0],
    );
    const json = Template.fromStack(roles).toJSON() as {
      Resources: Record<string, { DependsOn?: string[] }>;
    };
    expect(json.Resources[firstId].DependsOn).toContain(secondId);
    // Measured as CloudFormation will resolve it, each fits IAM's quota.
    const assembly = readAssembly(app.synth().directory);
    const sizes = policySizes(assembly, new Resolver(assembly)).filter(
      (p) => p.stack === 'Big' && p.kind === 'managed',
    );
    expect(sizes).toHaveLength(2);
    for (const size of sizes) expect(size.estimate).toBeLessThanOrEqual(size.quota);
    expect(Math.max(...sizes.map((x) => x.estimate))).toBeGreaterThan(6_144 / 2);
  });

  test('passes the gate: its one wildcard is acknowledged with the reason', () => {
    expect(gate.unacknowledged()).toEqual([]);
  });
});

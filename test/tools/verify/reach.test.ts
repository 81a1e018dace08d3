import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CLI_BOOTSTRAP_TEMPLATE } from '../../../scripts/bootstrap-template';
import { main } from '../../../scripts/verify';
import {
  deployServices,
  scopedBootstrapTemplate,
  type CfnTemplate,
} from '../../../lib/tools/bootstrap/scoped';
import { readAssembly } from '../../../lib/tools/verify/assembly';
import { bootstrapRoles } from '../../../lib/tools/verify/reach';
import { renderMarkdown, verify, type VerificationReport } from '../../../lib/tools/verify/verify';
import { exampleAppDir } from '../../support/default-app';

/**
 * The verifier's administrative reach on the example's templates: with the CLI's default bootstrap
 * every principal of the account deploys (and so rewrites every zone's policy through
 * CloudFormation); with the scoped bootstrap only the platform admin does.
 */
const ORGANIZATION = 'o-a1b2c3d4e5';
const assembly = readAssembly(exampleAppDir());
const cli = parse(readFileSync(CLI_BOOTSTRAP_TEMPLATE, 'utf8')) as CfnTemplate;
const scoped = scopedBootstrapTemplate(cli, {
  namePrefix: 'acme-ai',
  services: deployServices(assembly.stacks.map((s) => s.template as unknown as CfnTemplate)),
});
const reachWith = async (template: CfnTemplate) =>
  (
    await verify(assembly, {
      organizationId: ORGANIZATION,
      bootstrap: { template, source: 'bootstrap.yaml' },
    })
  ).administrativeReach!;
const row = (reach: NonNullable<VerificationReport['administrativeReach']>, principal: string) =>
  reach.rows.find((r) => r.principal === principal)!;

describe('administrative reach (--bootstrap-template)', () => {
  let withCli: NonNullable<VerificationReport['administrativeReach']>;
  let withScoped: NonNullable<VerificationReport['administrativeReach']>;
  beforeAll(async () => {
    [withCli, withScoped] = await Promise.all([reachWith(cli), reachWith(scoped)]);
  });

  test("the CLI's bootstrap: any principal of the account deploys, and through CloudFormation rewrites every zone's, key's and role's policy", () => {
    const admin = row(withCli, 'another admin in this account');
    expect(admin.deploys).toBe(true);
    expect(admin.bucketPolicies).toEqual({ direct: 0, throughCloudFormation: 6, of: 6 });
    expect(admin.keyPolicies.throughCloudFormation).toBe(admin.keyPolicies.of);
    expect(row(withCli, 'acme-ai-platform-admin').deploys).toBe(true);
    // The zones' policies stop every other principal changing them directly.
    expect(withCli.rows.every((r) => r.bucketPolicies.direct === 0)).toBe(true);
  });

  test('the scoped bootstrap: only the platform admin deploys; every other principal reaches no zone policy', () => {
    const admin = row(withScoped, 'another admin in this account');
    expect(admin.deploys).toBe(false);
    expect(admin.bucketPolicies.throughCloudFormation).toBe(0);
    // An administrator of the account still administers keys and roles through IAM: no template limits that.
    expect(admin.keyPolicies.direct).toBe(admin.keyPolicies.of);
    expect(withScoped.rows.filter((r) => r.deploys).map((r) => r.principal)).toEqual([
      'acme-ai-platform-admin',
    ]);
    const platform = row(withScoped, 'acme-ai-platform-admin');
    expect(platform.bucketPolicies).toEqual({ direct: 0, throughCloudFormation: 6, of: 6 });
    // Every role of the assembly, those CloudFormation names after their stack included.
    expect(platform.rolePolicies.throughCloudFormation).toBe(platform.rolePolicies.of);
    for (const name of ['acme-ai-data-scientist', 'acme-ai-ingestion', 'acme-ai-airlock-worker']) {
      const r = row(withScoped, name);
      expect([r.deploys, r.bucketPolicies.throughCloudFormation, r.keyPolicies.direct]).toEqual([
        false,
        0,
        0,
      ]);
    }
  });

  test('the execution policy decides what CloudFormation reaches: without the S3 statement, no bucket policy', async () => {
    const narrower = JSON.parse(JSON.stringify(scoped)) as CfnTemplate;
    const doc = narrower.Resources.BlueprintExecutionPolicy.Properties!.PolicyDocument as {
      Statement: { Sid: string }[];
    };
    doc.Statement = doc.Statement.filter((s) => s.Sid !== 'TheBucketsOfTheBlueprint');
    const reach = await reachWith(narrower);
    expect(row(reach, 'acme-ai-platform-admin').bucketPolicies.throughCloudFormation).toBe(0);
  });

  test('a managed policy it cannot read is taken to allow everything, and named', () => {
    const other = JSON.parse(JSON.stringify(cli)) as CfnTemplate;
    other.Resources.CloudFormationExecutionRole.Properties!.ManagedPolicyArns = [
      'arn:aws:iam::123456789012:policy/CorporateDeploy',
    ];
    const roles = bootstrapRoles(
      other,
      { account: '123456789012', region: 'eu-west-1', partition: 'aws' },
      'hnb659fds',
    );
    expect(roles.execution.unreadable).toEqual(['arn:aws:iam::123456789012:policy/CorporateDeploy']);
    expect(roles.execution.identity).toContainEqual({
      Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
    });
    expect(roles.deploy.arn).toBe(
      'arn:aws:iam::123456789012:role/cdk-hnb659fds-deploy-role-123456789012-eu-west-1',
    );
  });

  test('the report shows the table; the command refuses a file it cannot read', async () => {
    const md = renderMarkdown(
      await verify(assembly, {
        organizationId: ORGANIZATION,
        bootstrap: { template: scoped, source: 'scoped.yaml' },
      }),
    );
    expect(md).toContain('## Administrative reach');
    expect(md).toMatch(/\| acme-ai-platform-admin \| yes \| 6 through CloudFormation \(of 6\) \|/);
    const dir = mkdtempSync(join(tmpdir(), 'aiseg-reach-'));
    const bad = join(dir, 'bootstrap.yaml');
    writeFileSync(bad, 'Resources: [unclosed');
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(await main([exampleAppDir(), '--bootstrap-template', bad, '--out', join(dir, 'out')])).toBe(2);
    expect(String(errors.mock.calls[0][0])).toMatch(/--bootstrap-template .*cannot read it as YAML or JSON/);
    // YAML, but not a bootstrap template.
    writeFileSync(bad, 'Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n');
    expect(await main([exampleAppDir(), '--bootstrap-template', bad, '--out', join(dir, 'out')])).toBe(2);
    expect(String(errors.mock.calls[1][0])).toMatch(
      /no role DeploymentActionRole: is it a CDK bootstrap template/,
    );
    jest.restoreAllMocks();
  });
});

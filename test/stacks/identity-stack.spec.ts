import { Template } from 'aws-cdk-lib/assertions';
import { DATA_ZONES } from '../../lib/contract/classification';
import { DEFAULT_SEGMENTS } from '../../lib/config/schema';
import {
  BOUNDARY_ACTIONS,
  MIRROR_BOUNDARY_ACTIONS,
  PSEUDONYMIZATION_BOUNDARY_ACTIONS,
  PSEUDONYMIZATION_STAGING_DELETE,
} from '../../lib/identity/boundary';
import { readAssembly } from '../../lib/tools/verify/assembly';
import { evaluate, type PolicyDocument } from '../../lib/tools/verify/engine';
import { Resolver } from '../../lib/tools/verify/resolve';
import { defaultAppDir, defaultTemplate, exampleAppDir } from '../support/default-app';
import {
  actionsOf,
  identityPolicies,
  policyOfRole,
  resourcesOf,
  roleNameOf,
  roles,
  type Statement,
} from '../support/iam';
import { readReport } from '../support/report';
import { synthBlueprint } from '../support/synth';
import { only, statements } from '../support/template';

const identity = defaultTemplate('Identity');
const HUMAN = ['platform-admin', 'data-scientist', 'ml-engineer', 'auditor', 'pipeline-operator'];

/** Policies that grant: attached to a role (the permission boundary is attached to none; it only caps). */
const granting = () => identityPolicies().filter((p) => p.roles.length > 0);

const bySid = (list: Statement[], sid: string) => {
  const found = list.find((s) => s.Sid === sid);
  if (!found) throw new Error(`no statement ${sid}`);
  return found;
};

describe('every IAM policy of the app', () => {
  const policies = identityPolicies();
  const allows = policies.flatMap((p) =>
    p.statements.filter((s) => s.Effect === 'Allow').map((s) => ({ p, s })),
  );

  test('there are policies to check', () => {
    expect(policies.length).toBeGreaterThan(10);
  });

  test('grants no wildcard action', () => {
    const wildcards = allows.filter(({ s }) => actionsOf(s).some((a) => a.includes('*')));
    expect(wildcards.map(({ p, s }) => `${p.where} ${s.Sid ?? ''}`)).toEqual([]);
  });

  test('grants * as a resource only in statements marked Unscoped, and in the boundary', () => {
    const star = allows.filter(({ s }) => resourcesOf(s).includes('*'));
    expect(star.length).toBeGreaterThan(0);
    for (const { p, s } of star) {
      expect(`${p.where} ${s.Sid}`).toMatch(
        / Unscoped\w+$|PermissionBoundary.* (CeilingOfTheBlueprintsRoles|CeilingOfThePackageMirrorsToken|CeilingOfThePseudonymizationStage)$/,
      );
    }
  });

  test('every wildcard resource is acknowledged for reviewers, with its reason', () => {
    const suppressed = readReport(defaultAppDir())
      .pluginReports.flatMap((r) => r.suppressedViolations ?? [])
      .filter((v) => v.ruleName.startsWith('AwsSolutions-IAM5[Resource::'));
    const patterns = allows.flatMap(({ s }) => resourcesOf(s)).filter((r) => JSON.stringify(r).includes('*'));
    expect(patterns.length).toBeGreaterThan(0);
    // One suppressed finding per distinct wildcard resource per policy; each with a reason.
    expect(suppressed.length).toBeGreaterThanOrEqual(new Set(patterns.map((r) => JSON.stringify(r))).size);
    for (const finding of suppressed) expect((finding.reason ?? '').length).toBeGreaterThan(40);
  });

  test('every action a role is granted is within the boundary (or the boundary would cut it)', () => {
    // The mirrors' actions have ceilings of their own, bound to the caches and the domain.
    // Passing roles has a ceiling of its own: the segments' SageMaker execution roles, to SageMaker.
    const ceiling = new Set<string>([
      ...BOUNDARY_ACTIONS,
      ...Object.values(MIRROR_BOUNDARY_ACTIONS).flat(),
      ...PSEUDONYMIZATION_BOUNDARY_ACTIONS,
      ...PSEUDONYMIZATION_STAGING_DELETE,
      'iam:PassRole',
    ]);
    const outside = allows
      .filter(({ p }) => !p.where.includes('PermissionBoundary'))
      .flatMap(({ p, s }) =>
        actionsOf(s)
          .filter((a) => !ceiling.has(a))
          .map((a) => `${p.where}: ${a}`),
      );
    expect(outside).toEqual([]);
  });

  test("the one delete a role may make is of the stage's staged parts, by the stage alone", () => {
    const deletes = allows.filter(({ s }) => actionsOf(s).some((a) => a.startsWith('s3:Delete')));
    expect(deletes.map(({ p, s }) => `${p.where} ${s.Sid}`)).toEqual([
      expect.stringMatching(/^Audit\/PermissionBoundary.* CeilingOfTheStagingStoresDeletes$/) as string,
      expect.stringMatching(/^Identity\/pseudonymizationPolicy.* StageRangeParts$/) as string,
    ]);
    const [ceiling, grant] = deletes;
    expect(actionsOf(ceiling.s)).toEqual(['s3:DeleteObject']);
    expect(JSON.stringify(resourcesOf(ceiling.s))).toMatch(
      /^\[\{"Fn::Join":\["",\["arn:",\{"Ref":"AWS::Partition"\},":s3:::aiseg-stage-parts-",\{"Ref":"AWS::AccountId"\},"-",\{"Ref":"AWS::Region"\},"\/\*"\]\]\}\]$/,
    );
    expect(JSON.stringify(resourcesOf(grant.s))).toContain('PseudonymizationStaging');
  });
});

describe('every role of the app', () => {
  const all = roles();

  test('has the permission boundary, aws-cdk-lib custom-resource roles included', () => {
    expect(all.length).toBeGreaterThan(10);
    for (const role of all) {
      expect(JSON.stringify(role.props.PermissionsBoundary)).toMatch(/:policy\/aiseg-permission-boundary"/);
    }
    expect(all.some((r) => r.id.startsWith('CustomVpcRestrictDefaultSG'))).toBe(true);
  });

  test('with no principal configured, the human and machine roles trust no one (never the account root), last one hour at most', () => {
    const humans = all.filter((r) => HUMAN.some((h) => r.props.RoleName === `aiseg-${h}`));
    expect(humans).toHaveLength(HUMAN.length);
    const unnamed = all.filter((r) => /-(ingestion|caller-[a-z0-9-]+)$/.test(String(r.props.RoleName)));
    expect(unnamed.length).toBeGreaterThan(0);
    for (const role of [...humans, ...unnamed]) {
      if (humans.includes(role)) expect(role.props.MaxSessionDuration).toBe(3600);
      expect(statements(role.props.AssumeRolePolicyDocument)).toEqual([
        {
          Sid: 'NoPrincipalIsNamed',
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
        },
      ]);
    }
    expect(JSON.stringify(all.map((r) => r.props.AssumeRolePolicyDocument))).not.toMatch(/:root/);
  });

  test('service roles trust only their service, for this account', () => {
    const services = all.filter((r) =>
      /-(sagemaker|pseudonymization|inference-api)$/.test(String(r.props.RoleName)),
    );
    // A SageMaker role per segment but the pipeline one, the stage's, the inference API's.
    expect(services.length).toBe(DEFAULT_SEGMENTS.filter((s) => s.kind !== 'pipeline').length + 2);
    for (const role of services) {
      const [trust] = statements(role.props.AssumeRolePolicyDocument);
      expect(trust.Condition).toEqual({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } });
      expect(JSON.stringify(trust.Principal)).toMatch(/"Service":"(sagemaker|lambda)\.amazonaws\.com"/);
    }
  });
});

test('the development role reads the package mirrors (PyPI and npm of the blueprint domain); no role publishes or reads another domain', () => {
  const codeArtifact = (name: string) =>
    policyOfRole(identity, name).filter((s) => actionsOf(s).some((a) => a.startsWith('codeartifact:')));
  const development = codeArtifact('aiseg-development-sagemaker');
  expect(development.flatMap(actionsOf).sort()).toEqual([
    'codeartifact:GetAuthorizationToken',
    'codeartifact:GetRepositoryEndpoint',
    'codeartifact:ReadFromRepository',
  ]);
  expect(
    JSON.stringify(development.map((s) => s.Resource))
      .match(/:(domain|repository)\/[^"]+/g)
      ?.sort(),
  ).toEqual([':domain/aiseg-packages', ':repository/aiseg-packages/npm', ':repository/aiseg-packages/pypi']);
  const bearer = policyOfRole(identity, 'aiseg-development-sagemaker').find((s) =>
    actionsOf(s).includes('sts:GetServiceBearerToken'),
  );
  expect(bearer?.Condition).toEqual({ StringEquals: { 'sts:AWSServiceName': 'codeartifact.amazonaws.com' } });
  for (const name of ['aiseg-training-sagemaker', 'aiseg-inference-sagemaker'])
    expect(codeArtifact(name)).toEqual([]);
  const everyAction = identityPolicies().flatMap((p) => p.statements.flatMap(actionsOf));
  expect(
    everyAction.filter((a) => /^codeartifact:(Publish|Put|Delete|Update|Create|Copy|Associate)/.test(a)),
  ).toEqual([]);
});

test('the ML engineer fills the image caches, only under their prefixes; the SageMaker roles only pull from them', () => {
  const cacheArns = (statement: Statement | undefined) =>
    JSON.stringify(statement?.Resource)
      .match(/repository\/aiseg\/[^"]+/g)
      ?.sort();
  const caches = ['repository/aiseg/ecr-public/*', 'repository/aiseg/k8s/*', 'repository/aiseg/quay/*'];
  const fill = policyOfRole(identity, 'aiseg-ml-engineer').find((s) => s.Sid === 'FillTheImageCaches');
  expect(actionsOf(fill!)).toEqual(
    expect.arrayContaining(['ecr:BatchImportUpstreamImage', 'ecr:CreateRepository']),
  );
  expect(cacheArns(fill)).toEqual(caches);
  for (const name of [
    'aiseg-development-sagemaker',
    'aiseg-training-sagemaker',
    'aiseg-inference-sagemaker',
  ]) {
    const statements = policyOfRole(identity, name);
    // A notebook's own CreateRepository would make a repository without the creation template.
    expect(statements.flatMap(actionsOf)).not.toContain('ecr:CreateRepository');
    expect(statements.flatMap(actionsOf)).not.toContain('ecr:BatchImportUpstreamImage');
    const pull = statements.find((s) => s.Sid === 'PullTheOrganisationsImages');
    expect(cacheArns(pull)).toEqual(caches);
  }
});

describe('data access of the roles', () => {
  /** The data zones a role's policy names, by zone. */
  const zonesOf = (name: string, actions: string[]) =>
    DATA_ZONES.filter((zone) =>
      policyOfRole(identity, name).some(
        (s) =>
          actionsOf(s).some((a) => actions.includes(a)) &&
          JSON.stringify(s.Resource).includes(`"aiseg-data"`) &&
          JSON.stringify(s.Resource).includes(`Zone${zone}Bucket`),
      ),
    );

  test('the training role reads curated, writes models, and cannot read raw', () => {
    expect(zonesOf('aiseg-training-sagemaker', ['s3:GetObject'])).toEqual(['curated']);
    expect(zonesOf('aiseg-training-sagemaker', ['s3:PutObject'])).toEqual(['models']);
  });

  test('the inference role reads model artifacts and writes only what its endpoints capture', () => {
    expect(zonesOf('aiseg-inference-sagemaker', ['s3:GetObject'])).toEqual(['models']);
    const puts = policyOfRole(identity, 'aiseg-inference-sagemaker').filter((s) =>
      actionsOf(s).includes('s3:PutObject'),
    );
    expect(puts).toHaveLength(1);
    expect(resourcesOf(puts[0]).map((r) => JSON.stringify(r))).toEqual([
      expect.stringMatching(/Zonemodels.*\/data-capture\/\*"\]\]\}$/),
    ]);
  });

  test('pseudonymization reads raw and writes curated and quarantine; the data scientist reads curated', () => {
    expect(zonesOf('aiseg-pseudonymization', ['s3:GetObject'])).toEqual(['raw']);
    expect(zonesOf('aiseg-pseudonymization', ['s3:PutObject'])).toEqual(['curated', 'quarantine']);
    expect(zonesOf('aiseg-data-scientist', ['s3:GetObject'])).toEqual(['curated']);
    expect(zonesOf('aiseg-ingestion', ['s3:PutObject'])).toEqual(['raw']);
  });

  test('the auditor reads the audit records and logs, and no data zone', () => {
    expect(zonesOf('aiseg-auditor', ['s3:GetObject', 's3:ListBucket'])).toEqual([]);
    const auditor = policyOfRole(identity, 'aiseg-auditor');
    expect(JSON.stringify(bySid(auditor, 'ReadTheAuditRecords').Resource)).toMatch(/AuditBucket/);
    expect(JSON.stringify(auditor)).not.toMatch(/aiseg-data"/);
  });

  test('keys are used for zones only through S3', () => {
    for (const name of ['aiseg-training-sagemaker', 'aiseg-pseudonymization', 'aiseg-data-scientist']) {
      for (const s of policyOfRole(identity, name).filter((x) =>
        /^(Decrypt|Encrypt)\w+Zone$/.test(x.Sid ?? ''),
      )) {
        expect(JSON.stringify(s.Condition)).toMatch(/"kms:ViaService":\{"Fn::Join":\["",\["s3\./);
      }
    }
  });
});

describe('SageMaker guardrails', () => {
  const dev = policyOfRole(identity, 'aiseg-development-sagemaker');
  const jobs = bySid(dev, 'CreateJobsOnlyInATrainingSegmentIsolatedAndEncrypted');

  test('jobs created from development run only in the training VPC, isolated, encrypted, with its key', () => {
    expect(jobs.Action).toEqual(['sagemaker:CreateProcessingJob', 'sagemaker:CreateTrainingJob']);
    const subnets = jobs.Condition?.['ForAllValues:StringEquals']?.['sagemaker:VpcSubnets'] as unknown[];
    const groups = jobs.Condition?.['ForAllValues:StringEquals']?.[
      'sagemaker:VpcSecurityGroupIds'
    ] as unknown[];
    expect(subnets).toHaveLength(2);
    for (const subnet of subnets) {
      expect(JSON.stringify(subnet)).toMatch(/"StackName":"aiseg-network-training".*workloadSubnet/);
    }
    expect(groups).toHaveLength(1);
    expect(JSON.stringify(groups)).toMatch(/aiseg-network-training.*WorkloadSecurityGroup/);
    expect(jobs.Condition?.Null).toEqual({
      'sagemaker:VpcSubnets': 'false',
      'sagemaker:VpcSecurityGroupIds': 'false',
    });
    expect(jobs.Condition?.Bool).toEqual({
      'sagemaker:NetworkIsolation': 'true',
      'sagemaker:InterContainerTrafficEncryption': 'true',
    });
    expect(JSON.stringify(jobs.Condition?.StringEquals?.['sagemaker:VolumeKmsKey'])).toMatch(
      /SegmentKeytraining/,
    );
    expect(JSON.stringify(jobs.Condition?.StringEquals?.['sagemaker:OutputKmsKey'])).toMatch(
      /Keyproprietary/,
    );
  });

  test('no statement anywhere creates SageMaker work without the guardrail conditions', () => {
    const creating = granting().flatMap((p) =>
      p.statements.filter(
        (s) =>
          s.Effect === 'Allow' &&
          actionsOf(s).some((a) =>
            [
              'sagemaker:CreateTrainingJob',
              'sagemaker:CreateProcessingJob',
              'sagemaker:CreateModel',
            ].includes(a),
          ),
      ),
    );
    expect(creating).toHaveLength(2);
    for (const s of creating) {
      expect(s.Condition?.Null).toMatchObject({ 'sagemaker:VpcSubnets': 'false' });
      expect(s.Condition?.Bool?.['sagemaker:NetworkIsolation']).toBe('true');
    }
  });

  test('the data scientist creates nothing; they work through Studio as the development role', () => {
    expect(policyOfRole(identity, 'aiseg-data-scientist').flatMap(actionsOf)).toEqual(
      expect.not.arrayContaining([expect.stringMatching(/^sagemaker:Create(?!PresignedDomainUrl)/)]),
    );
  });

  test('models are created only in the inference VPC, isolated; endpoint configurations only with its key', () => {
    const ml = policyOfRole(identity, 'aiseg-ml-engineer');
    const model = bySid(ml, 'CreateModelsOnlyInAnInferenceSegmentIsolated');
    expect(JSON.stringify(model.Condition?.['ForAllValues:StringEquals'])).toMatch(/aiseg-network-inference/);
    expect(JSON.stringify(model.Condition?.['ForAllValues:StringEquals'])).not.toMatch(
      /aiseg-network-(training|development)/,
    );
    expect(model.Condition?.Bool).toEqual({ 'sagemaker:NetworkIsolation': 'true' });
    const config = bySid(ml, 'CreateEndpointConfigsOnlyWithTheSegmentKey');
    expect(JSON.stringify(config.Condition)).toMatch(/SegmentKeyinference/);
  });

  test("roles are passed only to SageMaker, and only the right segments' execution roles", () => {
    const passes = granting().flatMap((p) =>
      p.statements.filter((s) => s.Effect === 'Allow' && actionsOf(s).includes('iam:PassRole')),
    );
    expect(passes).toHaveLength(2);
    for (const s of passes) {
      expect(s.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } });
    }
    expect(resourcesOf(bySid(dev, 'PassOnlyTheSegmentsExecutionRoles')).map(roleNameOf)).toEqual([
      'aiseg-training-sagemaker',
    ]);
  });
});

describe('SageMaker Studio in the development segment', () => {
  const workload = defaultTemplate('Workload-development');
  const [, domain] = only(workload, 'AWS::SageMaker::Domain');

  test('VPC only, IAM auth, encrypted with the segment key, running as the development role, retained', () => {
    expect(domain).toMatchObject({ DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' });
    expect(domain.Properties).toMatchObject({ AppNetworkAccessType: 'VpcOnly', AuthMode: 'IAM' });
    expect(JSON.stringify(domain.Properties?.KmsKeyId)).toMatch(/SegmentKeydevelopment/);
    expect(
      roleNameOf((domain.Properties?.DefaultUserSettings as { ExecutionRole: unknown }).ExecutionRole),
    ).toBe('aiseg-development-sagemaker');
    expect(JSON.stringify(domain.Properties?.SubnetIds)).toMatch(/aiseg-network-development.*workloadSubnet/);
    expect(domain.Properties?.Tags).toEqual(
      expect.arrayContaining([{ Key: 'DataClassification', Value: 'pii' }]),
    );
  });

  test("what a person does in Studio as the execution role carries their profile's name: the domain sets it, only the Studio role's trust lets SageMaker", () => {
    expect(domain.Properties?.DomainSettings).toMatchObject({
      ExecutionRoleIdentityConfig: 'USER_PROFILE_NAME',
    });
    const trustOf = (name: string) =>
      statements(roles().find((r) => r.props.RoleName === name)!.props.AssumeRolePolicyDocument);
    expect(trustOf('aiseg-development-sagemaker')).toContainEqual({
      Sid: 'StudioSetsTheUsersSourceIdentity',
      Effect: 'Allow',
      Action: 'sts:SetSourceIdentity',
      Principal: { Service: 'sagemaker.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    });
    for (const other of ['aiseg-training-sagemaker', 'aiseg-inference-sagemaker'])
      expect(JSON.stringify(trustOf(other))).not.toContain('sts:SetSourceIdentity');
  });
});

describe('Studio can start apps: the execution role may manage apps and spaces of its own domain only', () => {
  const workload = defaultTemplate('Workload-development');
  const [domainId] = only(workload, 'AWS::SageMaker::Domain');
  const [, policy] = only(workload, 'AWS::IAM::ManagedPolicy');
  const list = statements(policy.Properties?.PolicyDocument) as unknown as Statement[];
  const scoped = (resource: string, name: unknown) => ({
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        ':sagemaker:',
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        `:${resource}/`,
        ...(Array.isArray(name) ? name : [name]),
      ],
    ],
  });
  const domain = { 'Fn::GetAtt': [domainId, 'DomainId'] };

  test('is attached to the development execution role', () => {
    expect(policy.Properties?.Roles).toEqual(['aiseg-development-sagemaker']);
  });

  test('each Studio call is named, on the resources of this domain', () => {
    expect(list.map((s) => [s.Action, s.Resource])).toEqual([
      ['sagemaker:DescribeDomain', scoped('domain', domain)],
      ['sagemaker:DescribeUserProfile', scoped('user-profile', [domain, '/*'])],
      [
        [
          'sagemaker:AddTags',
          'sagemaker:CreateSpace',
          'sagemaker:DeleteSpace',
          'sagemaker:DescribeSpace',
          'sagemaker:UpdateSpace',
        ],
        scoped('space', [domain, '/*']),
      ],
      [
        ['sagemaker:AddTags', 'sagemaker:CreateApp', 'sagemaker:DeleteApp', 'sagemaker:DescribeApp'],
        scoped('app', [domain, '/*']),
      ],
      [['sagemaker:ListApps', 'sagemaker:ListSpaces', 'sagemaker:ListUserProfiles'], '*'],
    ]);
  });

  test('the boundary lets the calls through', () => {
    const ceiling: readonly string[] = BOUNDARY_ACTIONS;
    for (const action of list.flatMap(actionsOf)) expect(ceiling).toContain(action);
  });
});

describe('configured principals', () => {
  const { blueprint } = synthBlueprint({
    config: {
      identities: {
        dataScientists: ['arn:aws:iam::123456789012:role/DataScience'],
        ingestion: ['arn:aws:iam::123456789012:role/Transfer'],
        breakGlass: { enabled: true, principals: ['arn:aws:iam::123456789012:role/Incident'] },
      },
    },
  });
  const t = Template.fromStack(blueprint.identity);
  const trustOf = (name: string) => {
    const [, role] = only(t, 'AWS::IAM::Role', { RoleName: name });
    return statements(role.Properties?.AssumeRolePolicyDocument)[0];
  };

  test('only they may assume their roles, humans with MFA used within the hour; the ingestion role is a machine role', () => {
    const mfa = {
      Bool: { 'aws:MultiFactorAuthPresent': 'true' },
      NumericLessThan: { 'aws:MultiFactorAuthAge': '3600' },
    };
    expect(trustOf('aiseg-data-scientist')).toMatchObject({
      Principal: { AWS: 'arn:aws:iam::123456789012:role/DataScience' },
      Condition: mfa,
    });
    expect(trustOf('aiseg-break-glass')).toMatchObject({
      Principal: { AWS: 'arn:aws:iam::123456789012:role/Incident' },
      Condition: mfa,
    });
    expect(trustOf('aiseg-ingestion')).toEqual({
      Sid: 'TheNamedMachines',
      Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::123456789012:role/Transfer' },
    });
  });

  test('break-glass reads every zone', () => {
    expect(
      policyOfRole(t, 'aiseg-break-glass')
        .filter((s) => s.Sid?.startsWith('Read'))
        .map((s) => s.Sid),
    ).toEqual(DATA_ZONES.map((z) => `Read${z[0].toUpperCase()}${z.slice(1)}Zone`));
  });
});

describe('the boundary on passing roles', () => {
  const assembly = readAssembly(exampleAppDir());
  const resolver = new Resolver(assembly);
  const audit = assembly.stacks.find((x) => x.id === 'Audit')!;
  const boundary = Object.values(audit.template.Resources ?? {})
    .filter((r) => r.Type === 'AWS::IAM::ManagedPolicy')
    .map(
      (r) =>
        resolver.resolve(r.Properties ?? {}, audit) as {
          ManagedPolicyName?: string;
          PolicyDocument: PolicyDocument;
        },
    )
    .filter((p) => p.ManagedPolicyName === 'acme-ai-permission-boundary')
    .map((p) => p.PolicyDocument);
  const ACCOUNT = '123456789012';
  const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/acme-ai-${name}`;
  /** A blueprint role whose own policy would pass any role to any service, under the boundary. */
  const pass = (target: string, service: string) =>
    evaluate({
      principal: role('ml-engineer'),
      action: 'iam:PassRole',
      resource: role(target),
      resourceAccount: ACCOUNT,
      identityPolicies: [{ Statement: [{ Effect: 'Allow', Action: 'iam:PassRole', Resource: '*' }] }],
      boundary,
      context: { 'aws:PrincipalArn': role('ml-engineer'), 'iam:PassedToService': service },
    });

  test("lets a blueprint role pass only the segments' SageMaker execution roles, only to SageMaker", async () => {
    expect(boundary).toHaveLength(1);
    expect(await pass('training-oncology-sagemaker', 'sagemaker.amazonaws.com')).toBe('Allowed');
    // A function's role, to Lambda (a function that runs as the stage reads all raw phi), or to anything else.
    expect(await pass('pseudonymization', 'lambda.amazonaws.com')).toBe('ImplicitlyDenied');
    expect(await pass('airlock-worker', 'lambda.amazonaws.com')).toBe('ImplicitlyDenied');
    expect(await pass('training-oncology-sagemaker', 'lambda.amazonaws.com')).toBe('ImplicitlyDenied');
    expect(await pass('ingestion', 'ec2.amazonaws.com')).toBe('ImplicitlyDenied');
  });
});

describe("the platform admin deploys through the bootstrap's exact roles", () => {
  const assembly = readAssembly(exampleAppDir());
  const resolver = new Resolver(assembly);
  const stack = assembly.stacks.find((x) => x.id === 'Identity')!;
  const ACCOUNT = '123456789012';
  const admin = `arn:aws:iam::${ACCOUNT}:role/acme-ai-platform-admin`;
  const policies = Object.values(stack.template.Resources ?? {})
    .filter((r) => r.Type === 'AWS::IAM::ManagedPolicy')
    .map(
      (r) =>
        resolver.resolve(r.Properties ?? {}, stack) as {
          ManagedPolicyName?: string;
          PolicyDocument: PolicyDocument;
        },
    )
    .filter((p) => p.ManagedPolicyName === 'acme-ai-platform-admin-policy')
    .map((p) => p.PolicyDocument);
  const assume = (role: string) =>
    evaluate({
      principal: admin,
      action: 'sts:AssumeRole',
      resource: `arn:aws:iam::${ACCOUNT}:role/${role}`,
      resourceAccount: ACCOUNT,
      identityPolicies: policies,
      context: { 'aws:PrincipalArn': admin, 'aws:PrincipalAccount': ACCOUNT },
    });

  test('deploy, publishing and look-up roles of the qualifier the stacks name; not the execution role, another qualifier or region', async () => {
    expect(policies).toHaveLength(1);
    for (const role of ['deploy', 'file-publishing', 'image-publishing', 'lookup'])
      expect(await assume(`cdk-hnb659fds-${role}-role-${ACCOUNT}-eu-west-1`)).toBe('Allowed');
    expect(await assume(`cdk-hnb659fds-cfn-exec-role-${ACCOUNT}-eu-west-1`)).toBe('ImplicitlyDenied');
    expect(await assume(`cdk-other1234-deploy-role-${ACCOUNT}-eu-west-1`)).toBe('ImplicitlyDenied');
    expect(await assume(`cdk-hnb659fds-deploy-role-${ACCOUNT}-us-east-1`)).toBe('ImplicitlyDenied');
  });
});

describe('SageMaker Studio: each person opens only their own profile, from the configured ranges', () => {
  const assembly = readAssembly(exampleAppDir());
  const resolver = new Resolver(assembly);
  const of = (id: string) => assembly.stacks.find((x) => x.id === id)!;
  const resourcesOfType = (id: string, type: string) =>
    Object.entries(of(id).template.Resources ?? {})
      .filter(([, r]) => r.Type === type)
      .map(([logicalId, r]) => ({
        logicalId,
        r,
        props: resolver.resolve(r.Properties ?? {}, of(id)) as Record<string, unknown>,
      }));
  const ACCOUNT = '123456789012';
  const ROLE = `arn:aws:iam::${ACCOUNT}:role/acme-ai-data-scientist`;
  const policy = resourcesOfType('Identity', 'AWS::IAM::ManagedPolicy')
    .filter(({ props }) => props.ManagedPolicyName === 'acme-ai-data-scientist-policy')
    .map(({ props }) => props.PolicyDocument as PolicyDocument);
  const profile = (owner: string) => `arn:aws:sagemaker:eu-west-1:${ACCOUNT}:user-profile/d-abc123/${owner}`;
  const open = (
    owner: string,
    context: { sourceIdentity?: string; ip?: string; blueprint?: string; name?: string } = {},
  ) =>
    evaluate({
      principal: ROLE,
      action: 'sagemaker:CreatePresignedDomainUrl',
      resource: profile(context.name ?? owner),
      resourceAccount: ACCOUNT,
      identityPolicies: policy,
      context: {
        'aws:PrincipalArn': ROLE,
        'aws:SourceIp': context.ip ?? '203.0.113.40',
        ...(context.sourceIdentity !== undefined ? { 'aws:SourceIdentity': context.sourceIdentity } : {}),
        'aws:ResourceTag/ai-segmentation:owner': owner,
        'sagemaker:ResourceTag/ai-segmentation:owner': owner,
        'sagemaker:ResourceTag/ai-segmentation:blueprint': context.blueprint ?? 'acme-ai',
      },
    });

  test('a user profile per configured person in the development domain, tagged with its owner, retained', () => {
    const profiles = resourcesOfType('Workload-development', 'AWS::SageMaker::UserProfile');
    expect(profiles.map(({ props }) => props.UserProfileName).sort()).toEqual(['alice-chen', 'bob-okafor']);
    for (const { r, props } of profiles) {
      expect(props.Tags).toContainEqual({ Key: 'ai-segmentation:owner', Value: props.UserProfileName });
      expect(r).toMatchObject({ DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' });
    }
  });

  test("the presigned URL only for the profile whose owner is the session's source identity, of the blueprint, from the ranges", async () => {
    expect(policy).toHaveLength(1);
    expect(await open('alice-chen', { sourceIdentity: 'alice-chen' })).toBe('Allowed');
    expect(await open('bob-okafor', { sourceIdentity: 'alice-chen' })).not.toBe('Allowed');
    expect(await open('alice-chen')).not.toBe('Allowed');
    expect(await open('alice-chen', { sourceIdentity: 'alice-chen', ip: '198.51.100.9' })).not.toBe(
      'Allowed',
    );
    expect(await open('alice-chen', { sourceIdentity: 'alice-chen', blueprint: 'other' })).not.toBe(
      'Allowed',
    );
    // Bob's profile re-tagged with Alice as its owner: its name is still Bob's.
    expect(await open('alice-chen', { sourceIdentity: 'alice-chen', name: 'bob-okafor' })).not.toBe(
      'Allowed',
    );
  });

  test('the data scientist trust requires a source identity: an IAM user its own name, a role session one it carries', () => {
    const [role] = resourcesOfType('Identity', 'AWS::IAM::Role').filter(
      ({ props }) => props.RoleName === 'acme-ai-data-scientist',
    );
    expect(statements(role.props.AssumeRolePolicyDocument)).toEqual([
      expect.objectContaining({
        Condition: expect.objectContaining({ Null: { 'aws:SourceIdentity': 'false' } }),
      }),
    ]);
    const { blueprint } = synthBlueprint({
      config: {
        identities: {
          dataScientists: ['arn:aws:iam::123456789012:user/alice-chen', 'arn:aws:iam::123456789012:role/Lab'],
        },
      },
    });
    const [, user] = only(Template.fromStack(blueprint.identity), 'AWS::IAM::Role', {
      RoleName: 'aiseg-data-scientist',
    });
    const trust = statements(user.Properties?.AssumeRolePolicyDocument);
    expect(trust.find((s) => s.Sid === 'TheNamedUsersWithMfaAsThemselves')?.Condition).toMatchObject({
      StringEquals: { 'sts:SourceIdentity': '${aws:username}' },
      Bool: { 'aws:MultiFactorAuthPresent': 'true' },
    });
    expect(trust.find((s) => s.Sid === 'TheNamedPeopleWithMfaAndSourceIdentity')?.Condition).toMatchObject({
      Null: { 'aws:SourceIdentity': 'false' },
    });
  });
});

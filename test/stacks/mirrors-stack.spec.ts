import { imageCachePrefix, IMAGE_CACHES, MAX_CACHE_PREFIX } from '../../lib/mirrors';
import { defaultTemplate } from '../support/default-app';
import { only, statements, type Resource } from '../support/template';

const template = defaultTemplate('Mirrors');
const ofType = (type: string) => Object.entries(template.findResources(type)) as [string, Resource][];
const [keyId] = only(template, 'AWS::KMS::Key');
const keyArn = { 'Fn::GetAtt': [keyId, 'Arn'] };

test('one CodeArtifact domain, encrypted with the mirrors key, kept, classified public', () => {
  const [, domain] = only(template, 'AWS::CodeArtifact::Domain');
  expect(domain.Properties).toMatchObject({ DomainName: 'aiseg-packages', EncryptionKey: keyArn });
  expect(domain.Properties?.Tags).toContainEqual({ Key: 'DataClassification', Value: 'public' });
  expect([domain.DeletionPolicy, domain.UpdateReplacePolicy]).toEqual(['RetainExceptOnCreate', 'Retain']);
  const [, key] = only(template, 'AWS::KMS::Key');
  expect(key.Properties).toMatchObject({ EnableKeyRotation: true });
  expect(key.DeletionPolicy).toBe('Retain');
});

test('a PyPI and an npm repository, each fetching from its public registry and nothing else', () => {
  const repositories = ofType('AWS::CodeArtifact::Repository').map(([, r]) => r);
  expect(repositories.map((r) => [r.Properties?.RepositoryName, r.Properties?.ExternalConnections])).toEqual([
    ['pypi', ['public:pypi']],
    ['npm', ['public:npmjs']],
  ]);
  for (const r of repositories) {
    expect(r.Properties?.DomainName).toEqual({ 'Fn::GetAtt': ['PackageDomain', 'Name'] });
    // No upstream repository and no policy of its own: who reads is decided by IAM in this account.
    expect(r.Properties?.Upstreams).toBeUndefined();
    expect(r.Properties?.PermissionsPolicyDocument).toBeUndefined();
    expect(r.DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(r.Properties?.Tags).toContainEqual({ Key: 'DataClassification', Value: 'public' });
  }
});

test('nobody publishes into the mirrors: a package group per format blocks publishing, whatever IAM allows', () => {
  const groups = ofType('AWS::CodeArtifact::PackageGroup').map(([, g]) => g.Properties);
  expect(groups.map((g) => [g?.Pattern, g?.OriginConfiguration])).toEqual([
    ['/pypi/*', { Restrictions: { Publish: { RestrictionMode: 'BLOCK' } } }],
    ['/npm/*', { Restrictions: { Publish: { RestrictionMode: 'BLOCK' } } }],
  ]);
  for (const g of groups) expect(g?.DomainName).toEqual({ 'Fn::GetAtt': ['PackageDomain', 'Name'] });
});

test('pull-through caches of the registries that need no credentials, each created after its template', () => {
  const rules = ofType('AWS::ECR::PullThroughCacheRule');
  expect(rules.map(([, r]) => r.Properties)).toEqual([
    {
      EcrRepositoryPrefix: 'aiseg/ecr-public',
      UpstreamRegistry: 'ecr-public',
      UpstreamRegistryUrl: 'public.ecr.aws',
    },
    { EcrRepositoryPrefix: 'aiseg/quay', UpstreamRegistry: 'quay', UpstreamRegistryUrl: 'quay.io' },
    { EcrRepositoryPrefix: 'aiseg/k8s', UpstreamRegistry: 'k8s', UpstreamRegistryUrl: 'registry.k8s.io' },
  ]);
  const templates = Object.fromEntries(ofType('AWS::ECR::RepositoryCreationTemplate'));
  for (const [, rule] of rules) {
    // No credentials: a registry that needs them (Docker Hub, GitHub) would need a secret.
    expect(rule.Properties?.CredentialArn).toBeUndefined();
    const [templateId] = (rule as Resource & { DependsOn: string[] }).DependsOn;
    expect(templates[templateId].Properties?.Prefix).toBe(rule.Properties?.EcrRepositoryPrefix);
  }
});

test("the creation templates give the cached repositories the mirrors key, the blueprint's tags and a lifecycle", () => {
  const [roleId] = only(template, 'AWS::IAM::Role');
  for (const [, t] of ofType('AWS::ECR::RepositoryCreationTemplate')) {
    expect(t.Properties).toMatchObject({
      AppliedFor: ['PULL_THROUGH_CACHE'],
      EncryptionConfiguration: { EncryptionType: 'KMS', KmsKey: keyArn },
      CustomRoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] },
      ResourceTags: [
        { Key: 'DataClassification', Value: 'public' },
        { Key: 'ai-segmentation:blueprint', Value: 'aiseg' },
      ],
    });
    const lifecycle = JSON.parse(String(t.Properties?.LifecyclePolicy)) as {
      rules: { selection: { tagStatus: string; countNumber: number }; action: { type: string } }[];
    };
    expect(
      lifecycle.rules.map((r) => [r.selection.tagStatus, r.selection.countNumber, r.action.type]),
    ).toEqual([['untagged', 14, 'expire']]);
  }
});

test('ECR creates the cached repositories as a role of its own: only under the caches, the key granted to AWS resources only', () => {
  const [, role] = only(template, 'AWS::IAM::Role');
  expect(statements(role.Properties?.AssumeRolePolicyDocument)).toEqual([
    {
      Action: 'sts:AssumeRole',
      Effect: 'Allow',
      Principal: { Service: 'ecr.amazonaws.com' },
      // ECR's documentation does not say it names the source account: required when it does.
      Condition: { StringEqualsIfExists: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    },
  ]);
  expect(role.Properties?.PermissionsBoundary).toBeDefined();
  const [, policy] = only(template, 'AWS::IAM::ManagedPolicy');
  const doc = statements(policy.Properties?.PolicyDocument);
  const repositories = doc.find((s) => s.Sid === 'CreateCacheRepositories');
  const repositoryArns = (repositories?.Resource as { 'Fn::Join': [string, unknown[]] }[]).map((r) =>
    String(r['Fn::Join'][1].at(-1)),
  );
  expect(repositoryArns.sort()).toEqual([
    ':repository/aiseg/ecr-public/*',
    ':repository/aiseg/k8s/*',
    ':repository/aiseg/quay/*',
  ]);
  expect(doc.find((s) => s.Sid === 'GrantTheMirrorsKeyToEcr')).toMatchObject({
    Action: 'kms:CreateGrant',
    Resource: keyArn,
    Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
  });
  expect(JSON.stringify(doc)).not.toContain('"Resource":"*"');
});

test('a cache prefix fits the 30 characters ECR allows, whatever the name prefix', () => {
  const longest = 'a'.repeat(20);
  for (const cache of IMAGE_CACHES) {
    expect(imageCachePrefix('aiseg', cache)).toBe(`aiseg/${cache.name}`);
    expect(imageCachePrefix(longest, cache).length).toBeLessThanOrEqual(MAX_CACHE_PREFIX);
  }
  expect(imageCachePrefix(longest, IMAGE_CACHES[0])).toBe(`${longest}/ep`);
  expect(new Set(IMAGE_CACHES.map((c) => imageCachePrefix(longest, c))).size).toBe(IMAGE_CACHES.length);
});

test('the stack holds nothing but the mirrors', () => {
  expect(
    new Set(Object.values(template.toJSON().Resources as Record<string, Resource>).map((r) => r.Type)),
  ).toEqual(
    new Set([
      'AWS::KMS::Key',
      'AWS::CodeArtifact::Domain',
      'AWS::CodeArtifact::Repository',
      'AWS::CodeArtifact::PackageGroup',
      'AWS::IAM::Role',
      'AWS::IAM::ManagedPolicy',
      'AWS::ECR::PullThroughCacheRule',
      'AWS::ECR::RepositoryCreationTemplate',
    ]),
  );
});

import { readAssembly, type StackTemplate } from '../../lib/tools/verify/assembly';
import { evaluate, type PolicyDocument } from '../../lib/tools/verify/engine';
import { anyPrincipal } from '../../lib/tools/verify/origins';
import { Resolver } from '../../lib/tools/verify/resolve';
import { exampleAppDir } from '../support/default-app';

/**
 * What a notebook's `pip install` and `npm install` need, proved on the example configuration's
 * templates (account 123456789012, eu-west-1): the Studio lifecycle configuration's logins name
 * the blueprint's domain and repositories, each call they make has an endpoint in the development
 * segment that admits it, the execution role's policy and boundary allow it, and nothing else of
 * CodeArtifact or the AWS-owned buckets is reachable through those endpoints.
 */

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/acme-ai-development-sagemaker`;
const DOMAIN = 'acme-ai-packages';
const ORGANIZATION = 'o-a1b2c3d4e5';

const assembly = readAssembly(exampleAppDir());
const resolver = new Resolver(assembly);
const stackOf = (id: string): StackTemplate => assembly.stacks.find((s) => s.id === id)!;
const resourcesOf = (id: string, type: string) =>
  Object.entries(stackOf(id).template.Resources ?? {})
    .filter(([, r]) => r.Type === type)
    .map(([logicalId, r]) => ({
      logicalId,
      properties: resolver.resolve(r.Properties ?? {}, stackOf(id)) as Record<string, unknown>,
      raw: r.Properties ?? {},
    }));

/** The `aws codeartifact login` commands of the Studio lifecycle scripts. */
function logins() {
  return resourcesOf('Workload-development', 'AWS::SageMaker::StudioLifecycleConfig').map((lcc) => {
    const content = lcc.raw.StudioLifecycleConfigContent as { 'Fn::Base64': unknown };
    const script = String(resolver.resolve(content['Fn::Base64'], stackOf('Workload-development')));
    const found = [
      ...script.matchAll(
        /aws codeartifact login --tool (\S+) --domain (\S+) --domain-owner (\S+) --region (\S+) --repository (\S+?)[;\n]/g,
      ),
    ].map(([, tool, domain, owner, region, repository]) => ({ tool, domain, owner, region, repository }));
    return { app: lcc.properties.StudioLifecycleConfigAppType, arn: lcc.logicalId, script, found };
  });
}

const endpoints = resourcesOf('Network-development', 'AWS::EC2::VPCEndpoint');
const endpointOf = (service: string) => endpoints.find((e) => e.properties.ServiceName === service);
const identity = resourcesOf('Identity', 'AWS::IAM::ManagedPolicy')
  .filter((p) => JSON.stringify(p.raw.Roles ?? '').includes('developmentsagemaker'))
  .map((p) => p.properties.PolicyDocument as PolicyDocument);
const boundary = resourcesOf('Audit', 'AWS::IAM::ManagedPolicy')
  .filter((p) => p.properties.ManagedPolicyName === 'acme-ai-permission-boundary')
  .map((p) => p.properties.PolicyDocument as PolicyDocument);

/** A call of the execution role through an endpoint of the development segment. */
function call(action: string, resource: string, endpoint: string, resourceAccount = ACCOUNT) {
  return evaluate({
    principal: ROLE,
    action,
    resource,
    resourceAccount,
    context: {
      'aws:PrincipalAccount': ACCOUNT,
      'aws:PrincipalArn': ROLE,
      // The example names its organisation: the endpoints admit its principals and resources.
      'aws:PrincipalOrgID': ORGANIZATION,
      ...(resourceAccount === ACCOUNT ? { 'aws:ResourceOrgID': ORGANIZATION } : {}),
      'aws:SourceVpce': endpoint,
      ...(action.startsWith('sts:') ? { 'sts:AWSServiceName': 'codeartifact.amazonaws.com' } : {}),
    },
    identityPolicies: identity,
    boundary,
    endpointPolicy: anyPrincipal(endpointOf(endpoint)!.properties.PolicyDocument as PolicyDocument),
  });
}

const api = `com.amazonaws.${REGION}.codeartifact.api`;
const repositories = `com.amazonaws.${REGION}.codeartifact.repositories`;
const s3 = `com.amazonaws.${REGION}.s3`;
const domainArn = `arn:aws:codeartifact:${REGION}:${ACCOUNT}:domain/${DOMAIN}`;
const repositoryArn = (name: string) =>
  `arn:aws:codeartifact:${REGION}:${ACCOUNT}:repository/${DOMAIN}/${name}`;

test('every JupyterLab and Code Editor app of the domain starts with pip and npm pointed at the mirrors', () => {
  const found = logins();
  expect(found.map((l) => l.app).sort()).toEqual(['CodeEditor', 'JupyterLab']);
  const [domain] = resourcesOf('Workload-development', 'AWS::SageMaker::Domain');
  const user = domain.raw.DefaultUserSettings as Record<string, unknown>;
  const space = domain.raw.DefaultSpaceSettings as Record<string, unknown>;
  const settingsOf = (app: string) => {
    const arn = { 'Fn::GetAtt': [found.find((l) => l.app === app)!.arn, 'StudioLifecycleConfigArn'] };
    // Built in: it runs at every start of every app, whatever the user selects.
    return { BuiltInLifecycleConfigArn: arn, LifecycleConfigArns: [arn] };
  };
  expect(user.JupyterLabAppSettings).toEqual(settingsOf('JupyterLab'));
  expect(user.CodeEditorAppSettings).toEqual(settingsOf('CodeEditor'));
  // Shared spaces read the space settings.
  expect(space.JupyterLabAppSettings).toEqual(settingsOf('JupyterLab'));
  expect(space.ExecutionRole).toEqual(user.ExecutionRole);
  // A changed script is a new configuration (its properties are fixed at creation); the old is kept.
  for (const [, config] of Object.entries(stackOf('Workload-development').template.Resources ?? {}).filter(
    ([, r]) => r.Type === 'AWS::SageMaker::StudioLifecycleConfig',
  )) {
    expect(String(config.Properties?.StudioLifecycleConfigName)).toMatch(
      /^acme-ai-development-pkg-(jl|ce)-[0-9a-f]{8}$/,
    );
    expect((config as { DeletionPolicy?: string }).DeletionPolicy).toBe('RetainExceptOnCreate');
  }
  for (const l of found) {
    expect(l.found).toEqual([
      { tool: 'pip', domain: DOMAIN, owner: ACCOUNT, region: REGION, repository: 'pypi' },
      { tool: 'npm', domain: DOMAIN, owner: ACCOUNT, region: REGION, repository: 'npm' },
    ]);
    expect(l.script).toMatch(/^#!\/bin\/bash\n/);
    // A failed login leaves the app running, with a message.
    expect(l.script).toMatch(/\n"\$LOGIN" \|\| echo "packages-login failed: .*" >&2\n$/);
  }
});

test('the logins name the domain and repositories the mirrors stack makes, fetching from the public registries', () => {
  const [domain] = resourcesOf('Mirrors', 'AWS::CodeArtifact::Domain');
  expect(domain.properties.DomainName).toBe(DOMAIN);
  const made: Record<string, unknown> = Object.fromEntries(
    resourcesOf('Mirrors', 'AWS::CodeArtifact::Repository').map((r) => [
      String(r.properties.RepositoryName),
      r.properties.ExternalConnections,
    ]),
  );
  const [{ found }] = logins();
  expect(Object.fromEntries(found.map((l) => [l.repository, made[l.repository]]))).toEqual({
    pypi: ['public:pypi'],
    npm: ['public:npmjs'],
  });
});

test("the development segment has the endpoints they use, with private DNS, and its DNS firewall resolves the repositories' name", () => {
  for (const service of [api, repositories]) {
    expect(endpointOf(service)?.properties).toMatchObject({
      VpcEndpointType: 'Interface',
      PrivateDnsEnabled: true,
    });
  }
  expect(endpointOf(s3)?.properties.VpcEndpointType).toBe('Gateway');
  // pip and npm reach DOMAIN-OWNER.d.codeartifact.REGION.amazonaws.com, which the DNS firewall allows.
  const [allow] = resourcesOf('Network-development', 'AWS::Route53Resolver::FirewallDomainList').filter((l) =>
    (l.properties.Domains as string[] | undefined)?.includes('*.amazonaws.com'),
  );
  expect(allow).toBeDefined();
});

test('what pip and npm call is allowed: the token, the repositories, their packages, and npm files from the AWS-owned bucket', async () => {
  expect(await call('codeartifact:GetAuthorizationToken', domainArn, api)).toBe('Allowed');
  expect(await call('sts:GetServiceBearerToken', '*', api)).toBe('Allowed');
  for (const name of ['pypi', 'npm']) {
    expect(await call('codeartifact:GetRepositoryEndpoint', repositoryArn(name), api)).toBe('Allowed');
    expect(await call('codeartifact:ReadFromRepository', repositoryArn(name), repositories)).toBe('Allowed');
  }
  // npm's package files are presigned by CodeArtifact: the endpoint admits them by the object read.
  const files = `arn:aws:s3:::assets-438097961670-${REGION}/some/package.tgz`;
  const s3Policy = anyPrincipal(endpointOf(s3)!.properties.PolicyDocument as PolicyDocument);
  const presigned = (action: string) =>
    evaluate({
      principal: 'arn:aws:sts::438097961670:assumed-role/codeartifact/assets',
      action,
      resource: files,
      resourceAccount: '438097961670',
      context: {
        'aws:PrincipalAccount': '438097961670',
        'aws:ResourceAccount': '438097961670',
        'aws:SourceVpce': s3,
      },
      identityPolicies: [{ Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }],
      endpointPolicy: s3Policy,
    });
  expect(await presigned('s3:GetObject')).toBe('Allowed');
  expect(await presigned('s3:PutObject')).toBe('ExplicitlyDenied');
  // An outsider's key used from inside, asking the AWS-owned bucket for a key it made up (which
  // its own trail would record): refused, whatever the outsider's own policies allow.
  expect(
    await evaluate({
      principal: 'arn:aws:iam::999999999999:user/outsider',
      action: 's3:GetObject',
      resource: `arn:aws:s3:::assets-438097961670-${REGION}/c3NuOjEyMy00NS02Nzg5`,
      resourceAccount: '438097961670',
      context: {
        'aws:PrincipalAccount': '999999999999',
        'aws:ResourceAccount': '438097961670',
        'aws:SourceVpce': s3,
      },
      identityPolicies: [{ Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }],
      endpointPolicy: s3Policy,
    }),
  ).not.toBe('Allowed');
});

test('and nothing more: no publishing, no other domain, no writing to the AWS-owned bucket', async () => {
  // A namespaced npm package: the engine reads package ARNs with a namespace.
  const pkg = `arn:aws:codeartifact:${REGION}:${ACCOUNT}:package/${DOMAIN}/npm/npm/types/node`;
  expect(await call('codeartifact:ReadFromRepository', repositoryArn('npm'), repositories)).toBe('Allowed');
  for (const action of ['codeartifact:PublishPackageVersion', 'codeartifact:DeletePackageVersions']) {
    expect(await call(action, pkg, repositories)).toBe('ExplicitlyDenied');
  }
  const other = `arn:aws:codeartifact:${REGION}:${ACCOUNT}:domain/release-builds`;
  expect(await call('codeartifact:GetAuthorizationToken', other, api)).not.toBe('Allowed');
  /**
   * The role given every action: `endpoint` alone, or the boundary alone, decides what is left.
   */
  const given = (action: string, resource: string, endpoint: string, only: 'endpoint' | 'boundary') =>
    evaluate({
      principal: ROLE,
      action,
      resource,
      resourceAccount: ACCOUNT,
      context: {
        'aws:PrincipalAccount': ACCOUNT,
        'aws:PrincipalOrgID': ORGANIZATION,
        'aws:ResourceOrgID': ORGANIZATION,
        'aws:SourceVpce': endpoint,
      },
      identityPolicies: [{ Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }],
      ...(only === 'boundary'
        ? { boundary }
        : {
            endpointPolicy: anyPrincipal(endpointOf(endpoint)!.properties.PolicyDocument as PolicyDocument),
          }),
    });
  // Publishing through the endpoints, and another domain's token, are refused by the endpoints
  // themselves, whatever a role is allowed.
  expect(await given('codeartifact:PublishPackageVersion', pkg, repositories, 'endpoint')).toBe(
    'ExplicitlyDenied',
  );
  expect(await given('codeartifact:GetAuthorizationToken', other, api, 'endpoint')).toBe('ExplicitlyDenied');
  // The boundary itself bounds the mirrors' actions to the blueprint's domain and caches: a role
  // given them everywhere gets no more.
  const everywhere = (action: string, resource: string, endpoint: string) =>
    given(action, resource, endpoint, 'boundary');
  expect(await everywhere('codeartifact:GetAuthorizationToken', domainArn, api)).toBe('Allowed');
  expect(await everywhere('codeartifact:GetAuthorizationToken', other, api)).toBe('ImplicitlyDenied');
  const ecr = (name: string) => `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/${name}`;
  expect(await everywhere('ecr:CreateRepository', ecr('acme-ai/quay/biocontainers/samtools'), api)).toBe(
    'Allowed',
  );
  expect(await everywhere('ecr:CreateRepository', ecr('release-builds/app'), api)).toBe('ImplicitlyDenied');
  expect(await call('s3:PutObject', `arn:aws:s3:::assets-438097961670-${REGION}/x`, s3, '438097961670')).toBe(
    'ExplicitlyDenied',
  );
});

import { Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_CLASSIFICATION_CONTROLS, ZONE_CONTROLS, type ZoneActor } from '../../lib/classification';
import { DATA_ZONES } from '../../lib/contract/classification';
import { DEFAULT_SEGMENTS } from '../../lib/config/schema';
import { DATA_ACTIONS, ZONE_ACCESS } from '../../lib/constructs/data-zone';

const READ_ACTIONS = ZONE_ACCESS.read.reserved;
const WRITE_ACTIONS = ZONE_ACCESS.write.reserved;
import { readAssembly } from '../../lib/tools/verify/assembly';
import { evaluate, type PolicyDocument } from '../../lib/tools/verify/engine';
import { Resolver } from '../../lib/tools/verify/resolve';
import { defaultTemplate, exampleAppDir } from '../support/default-app';
import { roleNameOf, type Statement } from '../support/iam';
import { synthBlueprint } from '../support/synth';
import { only, statements, type Resource } from '../support/template';

const template = defaultTemplate('Data');

/** The default config's role names of a zone actor. */
function rolesOf(actors: readonly ZoneActor[], breakGlass = false): string[] {
  return actors
    .flatMap((actor) => {
      if (actor === 'break-glass') return breakGlass ? ['aiseg-break-glass'] : [];
      // The default config has no airlock, so no airlock worker and no exporter.
      if (actor === 'airlock' || actor === 'airlock-export') return [];
      if (actor === 'development' || actor === 'training' || actor === 'inference') {
        return DEFAULT_SEGMENTS.filter((s) => s.kind === actor).map((s) => `aiseg-${s.name}-sagemaker`);
      }
      return [`aiseg-${actor}`];
    })
    .sort();
}

const namesIn = (condition: unknown) =>
  (Array.isArray(condition) ? condition : [condition]).map(roleNameOf).sort();

function bucketOf(t: Template, zone: string): [string, Resource] {
  return only(t, 'AWS::S3::Bucket', {
    BucketName: {
      'Fn::Join': ['', [`aiseg-${zone}-`, { Ref: 'AWS::AccountId' }, '-', { Ref: 'AWS::Region' }]],
    },
  });
}

function policyOf(t: Template, bucketId: string): Statement[] {
  const [, policy] = only(t, 'AWS::S3::BucketPolicy', { Bucket: { Ref: bucketId } });
  return statements(policy.Properties?.PolicyDocument) as unknown as Statement[];
}

const bySid = (list: Statement[], sid: string) => {
  const found = list.find((s) => s.Sid === sid);
  if (!found) throw new Error(`no statement ${sid}`);
  return found;
};

describe.each(DATA_ZONES.map((zone) => [zone, ZONE_CONTROLS[zone]] as const))('zone %s', (zone, controls) => {
  const [bucketId, bucket] = bucketOf(template, zone);
  const policy = policyOf(template, bucketId);
  const classKeyId = Object.keys(template.findResources('AWS::KMS::Key')).find((id) =>
    id.startsWith(`Key${controls.classification}`),
  )!;

  test(`is a retained, versioned, private bucket classified ${controls.classification}, encrypted with its class key`, () => {
    // Its name is fixed: deleted only if the create that made it rolls back (empty), else retained.
    expect(bucket).toMatchObject({ DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' });
    expect(bucket.Properties).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [classKeyId, 'Arn'] },
            },
          },
        ],
      },
      // Holds possible, no default retention: data subjects can still have records erased.
      ObjectLockEnabled: true,
      LoggingConfiguration: { LogFilePrefix: `data-${zone}/` },
    });
    expect(bucket.Properties?.ObjectLockConfiguration).toBeUndefined();
    expect(bucket.Properties?.Tags).toEqual(
      expect.arrayContaining([{ Key: 'DataClassification', Value: controls.classification }]),
    );
  });

  test('keeps versions and moves objects to colder storage as its classification says', () => {
    const rules = (bucket.Properties?.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    const { archiveAfterDays, noncurrentVersionDays } =
      DEFAULT_CLASSIFICATION_CONTROLS[controls.classification];
    expect(rules).toContainEqual(
      expect.objectContaining({
        Id: 'ClassificationLifecycle',
        Status: 'Enabled',
        NoncurrentVersionExpiration: { NoncurrentDays: noncurrentVersionDays },
        ...(archiveAfterDays
          ? { Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: archiveAfterDays }] }
          : {}),
      }),
    );
  });

  test('refuses requests without TLS 1.2', () => {
    expect(policy).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        expect.objectContaining({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
      ]),
    );
  });

  test("refuses uploads encrypted with anything but the zone's key", () => {
    expect(bySid(policy, 'DenyUploadsWithAnotherKey')).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 's3:PutObject',
      Condition: {
        StringNotEqualsIfExists: {
          's3:x-amz-server-side-encryption-aws-kms-key-id': { 'Fn::GetAtt': [classKeyId, 'Arn'] },
        },
      },
    });
    expect(bySid(policy, 'DenyUploadsNotEncryptedWithKms').Condition).toEqual({
      StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption': 'aws:kms' },
    });
  });

  test('refuses every principal outside the account', () => {
    expect(bySid(policy, 'DenyPrincipalsOutsideAccount')).toMatchObject({
      Effect: 'Deny',
      Action: 's3:*',
      Condition: {
        StringNotEquals: { 'aws:PrincipalAccount': { Ref: 'AWS::AccountId' } },
        BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' },
      },
    });
  });

  const endpointsOf = (kinds: readonly string[]) =>
    DEFAULT_SEGMENTS.filter((s) => kinds.includes(s.kind)).map((s) => s.name);
  test(`is reached only through the S3 endpoints of ${controls.segments.join(' and ') || 'no segment'}, or by its off-network roles`, () => {
    const statement = bySid(policy, 'DenyDataAccessOffThePerimeter');
    expect([...(statement.Action as string[])].sort()).toEqual([...DATA_ACTIONS].sort());
    const endpoints = (statement.Condition?.StringNotEquals?.['aws:SourceVpce'] ?? []) as unknown[];
    expect(endpoints.map((e) => JSON.stringify(e).match(/aiseg-network-([\w-]+)"/)?.[1]).sort()).toEqual(
      endpointsOf(controls.segments).sort(),
    );
    for (const e of endpoints) expect(JSON.stringify(e)).toMatch(/EndpointsS3/);
    expect(namesIn(statement.Condition?.ArnNotEquals?.['aws:PrincipalArn'])).toEqual(
      rolesOf(controls.offNetwork),
    );
  });

  test("lets no one set an object's retention, nor place a legal hold but the legal-hold role, nor change its settings but the deployment", () => {
    const retention = bySid(policy, 'DenyObjectRetention');
    expect(retention.Effect).toBe('Deny');
    expect(retention.Action).toEqual(['s3:BypassGovernanceRetention', 's3:PutObjectRetention']);
    expect(retention.Condition).toBeUndefined();
    const holds = bySid(policy, 'DenyLegalHoldsButByTheirRoles');
    expect(holds.Action).toBe('s3:PutObjectLegalHold');
    expect(namesIn(holds.Condition?.ArnNotEquals?.['aws:PrincipalArn'])).toEqual(['aiseg-legal-hold']);
    const settings = bySid(policy, 'OnlyTheDeploymentChangesTheZonesSettings');
    expect(settings.Effect).toBe('Deny');
    expect(settings.Action).toEqual(
      expect.arrayContaining([
        's3:PutBucketPolicy',
        's3:DeleteBucketPolicy',
        's3:PutBucketVersioning',
        's3:PutLifecycleConfiguration',
        's3:PutReplicationConfiguration',
        's3:PutBucketObjectLockConfiguration',
      ]),
    );
    expect(JSON.stringify(settings.Condition)).toMatch(/role\/cdk-hnb659fds-cfn-exec-role-/);
  });

  test(`is read only by ${controls.readers.join(', ')} and written only by ${controls.writers.join(', ')}`, () => {
    const reads = bySid(policy, 'DenyReadsButByTheZoneReaders');
    const writes = bySid(policy, 'DenyWritesButByTheZoneWriters');
    expect(reads.Action).toEqual([...READ_ACTIONS].sort());
    expect(writes.Action).toEqual([...WRITE_ACTIONS].sort());
    expect(namesIn(reads.Condition?.ArnNotEquals?.['aws:PrincipalArn'])).toEqual(rolesOf(controls.readers));
    // Prefix writers pass this deny; the next confines them to their prefix.
    const prefixWriters = (controls.prefixWriters ?? []).map((w) => w.actor);
    expect(namesIn(writes.Condition?.ArnNotEquals?.['aws:PrincipalArn'])).toEqual(
      rolesOf([...controls.writers, ...prefixWriters]),
    );
    // A prefix writer the config builds no role for (the airlock's) gets no fence.
    const fenced = (controls.prefixWriters ?? []).filter((w) => rolesOf([w.actor]).length > 0);
    for (const [i, writer] of fenced.entries()) {
      const fence = bySid(policy, `DenyPrefixWritersOutsideTheirPrefix${i === 0 ? '' : i + 1}`);
      expect(fence.Effect).toBe('Deny');
      expect(fence.Action).toEqual([...WRITE_ACTIONS].sort());
      expect(JSON.stringify(fence.NotResource)).toContain(`/${writer.prefix}*`);
      expect(namesIn(fence.Condition?.ArnEquals?.['aws:PrincipalArn'])).toEqual(rolesOf([writer.actor]));
    }
  });
});

/** Segments that run SageMaker work (a pipeline segment runs the pseudonymization function only). */
const SAGEMAKER_SEGMENTS = DEFAULT_SEGMENTS.filter((s) => s.kind !== 'pipeline');

describe('access to the zones, as the bucket policies have it', () => {
  const readersOf = (zone: (typeof DATA_ZONES)[number]) => {
    const [bucketId] = bucketOf(template, zone);
    return namesIn(
      bySid(policyOf(template, bucketId), 'DenyReadsButByTheZoneReaders').Condition?.ArnNotEquals?.[
        'aws:PrincipalArn'
      ],
    );
  };

  test('raw phi is read by the pseudonymization role alone (break-glass is off by default)', () => {
    expect(readersOf('raw')).toEqual(['aiseg-pseudonymization']);
    expect(readersOf('quarantine')).toEqual([]);
  });

  test('the training role cannot read raw; the inference role reads only model artifacts', () => {
    expect(readersOf('raw')).not.toContain('aiseg-training-sagemaker');
    for (const zone of DATA_ZONES) {
      expect(readersOf(zone).includes('aiseg-inference-sagemaker')).toBe(zone === 'models');
    }
  });
});

describe('keys', () => {
  const keys = template.findResources('AWS::KMS::Key') as Record<string, Resource>;

  test("one per classification the zones hold, one per SageMaker segment, and the stage's HMAC, dead-letter and staging keys; rotated and retained", () => {
    expect(
      Object.keys(keys)
        .map((id) => id.replace(/Key[0-9A-F]{8}$/, ''))
        .sort(),
    ).toEqual(
      [
        ...[...new Set(DATA_ZONES.map((z) => ZONE_CONTROLS[z].classification))].map((c) => `Key${c}`),
        ...SAGEMAKER_SEGMENTS.map((s) => `SegmentKey${s.name}`),
        'PseudonymizationDeadLetter',
        'PseudonymizationHmac',
        'PseudonymizationStaging',
      ].sort(),
    );
    for (const [id, key] of Object.entries(keys)) {
      expect(key.DeletionPolicy).toBe('Retain');
      // KMS rotates symmetric encryption keys only; the HMAC key is checked on its own below.
      if (!id.startsWith('PseudonymizationHmac')) expect(key.Properties?.EnableKeyRotation).toBe(true);
    }
  });

  test.each(['phi', 'pii', 'proprietary'] as const)(
    'the %s key names the roles of its zones, used through S3, and refuses every other principal',
    (classification) => {
      const [, key] = Object.entries(keys).find(([id]) => id.startsWith(`Key${classification}`))!;
      const policy = statements(key.Properties?.KeyPolicy) as unknown as Statement[];
      const actors = DATA_ZONES.filter((z) => ZONE_CONTROLS[z].classification === classification).flatMap(
        (z) => [...ZONE_CONTROLS[z].readers, ...ZONE_CONTROLS[z].writers],
      );
      const expected = [...new Set(rolesOf(actors))].sort();
      const use = bySid(policy, 'NamedRolesUseTheKey');
      expect(namesIn(use.Condition?.ArnEquals?.['aws:PrincipalArn'])).toEqual(expected);
      expect(JSON.stringify(use.Condition?.StringEquals?.['kms:ViaService'])).toMatch(/"s3\."/);
      const deny = bySid(policy, 'NoOtherPrincipalUsesTheKey');
      expect(deny.Effect).toBe('Deny');
      expect(namesIn(deny.Condition?.ArnNotEquals?.['aws:PrincipalArn'])).toEqual(expected);
      expect(deny.Action).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey*']));
    },
  );

  test("a segment key names the segment's execution role (and, for inference, the ML engineer)", () => {
    for (const segment of SAGEMAKER_SEGMENTS) {
      const [, key] = Object.entries(keys).find(([id]) => id.startsWith(`SegmentKey${segment.name}`))!;
      const policy = statements(key.Properties?.KeyPolicy) as unknown as Statement[];
      expect(
        namesIn(bySid(policy, 'NamedRolesUseTheKey').Condition?.ArnEquals?.['aws:PrincipalArn']),
      ).toEqual(
        [
          `aiseg-${segment.name}-sagemaker`,
          ...(segment.kind === 'inference' ? ['aiseg-ml-engineer'] : []),
        ].sort(),
      );
    }
  });
});

describe("a segment key on the example's templates (engine-evaluated)", () => {
  const ACCOUNT = '123456789012';
  const assembly = readAssembly(exampleAppDir());
  const resolver = new Resolver(assembly);
  const data = assembly.stacks.find((st) => st.id === 'Data')!;
  const keyPolicy = (segment: string) => {
    const [, key] = Object.entries(data.template.Resources ?? {}).find(
      ([id, r]) => r.Type === 'AWS::KMS::Key' && id.startsWith(`SegmentKey${segment}`),
    )!;
    return resolver.resolve(key.Properties?.KeyPolicy, data) as PolicyDocument;
  };
  const decrypt = (principal: string, policy: PolicyDocument, extra: Record<string, string> = {}) =>
    evaluate({
      principal,
      action: 'kms:Decrypt',
      resource: `arn:aws:kms:eu-west-1:${ACCOUNT}:key/00000000-0000-0000-0000-000000000001`,
      resourceAccount: ACCOUNT,
      // Whoever asks holds kms:* in their own policies: only the key policy stands in the way.
      identityPolicies: [
        { Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] },
      ] as PolicyDocument[],
      resourcePolicy: policy,
      context: {
        'aws:PrincipalArn': principal,
        'aws:PrincipalAccount': principal.split(':')[4],
        'aws:PrincipalIsAWSService': 'false',
        ...extra,
      },
    });
  const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

  test.each(['development', 'training-oncology', 'inference'])(
    'the %s key: its execution role uses it; another principal of the account does not, directly or through a service; a service-linked role is not refused',
    async (segment) => {
      const policy = keyPolicy(segment.replace(/-/g, ''));
      expect(await decrypt(role(`acme-ai-${segment}-sagemaker`), policy)).toBe('Allowed');
      expect(await decrypt(role('PowerUserAccess'), policy)).toBe('ExplicitlyDenied');
      expect(
        await decrypt(role('PowerUserAccess'), policy, {
          'aws:ViaAWSService': 'true',
          'kms:ViaService': 'sagemaker.eu-west-1.amazonaws.com',
        }),
      ).toBe('ExplicitlyDenied');
      expect(await decrypt(role('acme-ai-data-scientist'), policy)).toBe('ExplicitlyDenied');
      // The data-class keys' own users are not this key's.
      expect(await decrypt(role('acme-ai-pseudonymization'), policy)).toBe('ExplicitlyDenied');
      // EBS and EFS through their grants: not a principal of the account an insider could be.
      expect(
        await decrypt(
          role('aws-service-role/elasticfilesystem.amazonaws.com/AWSServiceRoleForAmazonElasticFileSystem'),
          policy,
        ),
      ).not.toBe('ExplicitlyDenied');
    },
  );
});

describe('with an organisation, break-glass and retention configured', () => {
  const { blueprint } = synthBlueprint({
    config: {
      organizationId: 'o-a1b2c3d4e5',
      identities: { breakGlass: { enabled: true } },
      dataRetention: { phi: { archiveAfterDays: null, noncurrentVersionDays: 3000 } },
    },
  });
  const data = Template.fromStack(blueprint.data);
  const [rawId, raw] = bucketOf(data, 'raw');
  const policy = policyOf(data, rawId);

  test('refuses principals outside the organisation', () => {
    expect(bySid(policy, 'DenyPrincipalsOutsideOrganization').Condition?.StringNotEquals).toEqual({
      'aws:PrincipalOrgID': 'o-a1b2c3d4e5',
    });
  });

  test('break-glass may read raw, from anywhere, and write nothing', () => {
    expect(
      namesIn(bySid(policy, 'DenyReadsButByTheZoneReaders').Condition?.ArnNotEquals?.['aws:PrincipalArn']),
    ).toEqual(['aiseg-break-glass', 'aiseg-pseudonymization']);
    expect(
      namesIn(bySid(policy, 'DenyDataAccessOffThePerimeter').Condition?.ArnNotEquals?.['aws:PrincipalArn']),
    ).toContain('aiseg-break-glass');
    expect(
      namesIn(bySid(policy, 'DenyWritesButByTheZoneWriters').Condition?.ArnNotEquals?.['aws:PrincipalArn']),
    ).toEqual(['aiseg-ingestion']);
  });

  test('the configured retention replaces the class default', () => {
    const rules = (raw.Properties?.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    const rule = rules.find((r) => r.Id === 'ClassificationLifecycle');
    expect(rule).toMatchObject({ NoncurrentVersionExpiration: { NoncurrentDays: 3000 } });
    expect(rule?.Transitions).toBeUndefined();
  });
});

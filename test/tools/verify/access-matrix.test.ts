import type { Assembly } from '../../../lib/tools/verify/assembly';
import { cellText } from '../../../lib/tools/verify/matrix';
import { verify, type VerificationReport } from '../../../lib/tools/verify/verify';

/**
 * The access matrix on small hand-written assemblies: one segment (`lab`) with an S3 gateway
 * endpoint, one pii zone with its key, and the roles each case needs. Every expected cell is
 * written by hand from what AWS's documented evaluation logic says, not computed by the engine.
 */

const sub = (text: string) => ({ 'Fn::Sub': text });
const BUCKET = sub('arn:${AWS::Partition}:s3:::lab-data');
const OBJECTS = sub('arn:${AWS::Partition}:s3:::lab-data/*');
const KEY = { 'Fn::GetAtt': ['Key', 'Arn'] };
const ROOT = sub('arn:${AWS::Partition}:iam::${AWS::AccountId}:root');
const roleArn = (name: string) => sub(`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/${name}`);
const OTHER_ACCOUNT = '444455556666';

type Statement = Record<string, unknown>;
const doc = (...Statement: Statement[]) => ({ Version: '2012-10-17', Statement });
const allow = (Action: string | string[], Resource: unknown, extra: Statement = {}) => ({
  Effect: 'Allow',
  Action,
  Resource,
  ...extra,
});

/** The account administers the key through IAM: identity policies decide who uses it. */
const KEY_DELEGATED = allow('kms:*', '*', { Principal: { AWS: ROOT } });
/** The lab segment's endpoint is the only way in (the data perimeter). */
const PERIMETER = {
  Sid: 'Perimeter',
  Effect: 'Deny',
  Principal: '*',
  Action: 's3:*',
  Resource: [BUCKET, OBJECTS],
  Condition: { StringNotEquals: { 'aws:SourceVpce': { Ref: 'S3Endpoint' } } },
};
/** The lab endpoint admits only the account's principals acting on the account's resources. */
const ACCOUNT_ONLY_ENDPOINT: Statement[] = [
  allow('*', '*', {
    Principal: '*',
    Condition: { StringEquals: { 'aws:PrincipalAccount': sub('${AWS::AccountId}') } },
  }),
  {
    Effect: 'Deny',
    Principal: '*',
    Action: '*',
    Resource: '*',
    Condition: { StringNotEqualsIfExists: { 'aws:ResourceAccount': sub('${AWS::AccountId}') } },
  },
];
const READER_POLICY = doc(
  allow('s3:GetObject', OBJECTS),
  allow('kms:Decrypt', KEY, {
    Condition: { StringEquals: { 'kms:ViaService': sub('s3.${AWS::Region}.amazonaws.com') } },
  }),
);

interface Case {
  /** Resources added to the stack (or replacing those of the same id). */
  extra?: Record<string, unknown>;
  /** The bucket's other properties. */
  bucket?: Record<string, unknown>;
  /** The lab endpoint's policy; `null`: none (full access). */
  endpointPolicy?: Statement[] | null;
  bucketPolicy?: Statement[];
  keyPolicy?: Statement[];
  roles?: Record<string, { policy: unknown; boundary?: unknown }>;
}

function assembly({
  bucketPolicy = [PERIMETER],
  keyPolicy = [KEY_DELEGATED],
  roles = {},
  endpointPolicy = ACCOUNT_ONLY_ENDPOINT,
  extra = {},
  bucket = {},
}: Case): Assembly {
  const resources: Record<string, unknown> = {
    Vpc: {
      Type: 'AWS::EC2::VPC',
      Properties: { CidrBlock: '10.9.0.0/16', Tags: [{ Key: 'ai-segmentation:segment', Value: 'lab' }] },
    },
    S3Endpoint: {
      Type: 'AWS::EC2::VPCEndpoint',
      Properties: {
        VpcId: { Ref: 'Vpc' },
        ServiceName: sub('com.amazonaws.${AWS::Region}.s3'),
        VpcEndpointType: 'Gateway',
        ...(endpointPolicy ? { PolicyDocument: doc(...endpointPolicy) } : {}),
      },
    },
    Key: { Type: 'AWS::KMS::Key', Properties: { EnableKeyRotation: true, KeyPolicy: doc(...keyPolicy) } },
    Bucket: {
      Type: 'AWS::S3::Bucket',
      Properties: {
        BucketName: 'lab-data',
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KEY } },
          ],
        },
        Tags: [
          { Key: 'ai-segmentation:data-zone', Value: 'curated' },
          { Key: 'DataClassification', Value: 'pii' },
        ],
        ...bucket,
      },
    },
    BucketPolicy: {
      Type: 'AWS::S3::BucketPolicy',
      Properties: { Bucket: { Ref: 'Bucket' }, PolicyDocument: doc(...bucketPolicy) },
    },
  };
  for (const [name, { policy, boundary }] of Object.entries(roles)) {
    resources[`Role${name}`] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: name,
        AssumeRolePolicyDocument: doc({
          Effect: 'Allow',
          Principal: { Service: 'sagemaker.amazonaws.com' },
          Action: 'sts:AssumeRole',
        }),
        Policies: [{ PolicyName: 'access', PolicyDocument: policy }],
        ...(boundary
          ? {
              PermissionsBoundary: sub(
                `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:policy/${name}-boundary`,
              ),
            }
          : {}),
      },
    };
    if (boundary) {
      resources[`Boundary${name}`] = {
        Type: 'AWS::IAM::ManagedPolicy',
        Properties: { ManagedPolicyName: `${name}-boundary`, PolicyDocument: boundary },
      };
    }
  }
  Object.assign(resources, extra);
  return { stacks: [{ id: 'Lab', stackName: 'lab', template: { Resources: resources } as never }] };
}

/** The reader role, trusting one principal instead of SageMaker. */
const readerTrusting = (principal: unknown) => ({
  Type: 'AWS::IAM::Role',
  Properties: {
    RoleName: 'reader',
    AssumeRolePolicyDocument: doc({
      Effect: 'Allow',
      Principal: { AWS: principal },
      Action: 'sts:AssumeRole',
    }),
    Policies: [{ PolicyName: 'access', PolicyDocument: READER_POLICY }],
  },
});

/** The matrix row of a principal: per origin, its cell on the zone, as text. */
const row = (report: VerificationReport, principal: string) =>
  Object.fromEntries(
    Object.entries(report.access.cells[principal].curated).map(([origin, cell]) => [origin, cellText(cell)]),
  );
const ADMIN = 'another admin in this account';
const OUTSIDER = 'a principal in another account';

describe('the access matrix, on hand-written assemblies', () => {
  test('perimeter: a reader reads through the segment endpoint and not off-network; without it, from anywhere', async () => {
    const roles = { reader: { policy: READER_POLICY } };
    const fenced = await verify(assembly({ roles }));
    expect(fenced.access.origins).toEqual(['lab', 'off-network']);
    expect(row(fenced, 'reader')).toEqual({ lab: 'R', 'off-network': '-' });

    const open = await verify(assembly({ roles, bucketPolicy: [] }));
    expect(row(open, 'reader')).toEqual({ lab: 'R', 'off-network': 'R' });
    expect(open.invariants.find((i) => i.id === 12)?.violations).toEqual([
      expect.objectContaining({
        logicalId: 'Bucket',
        detail:
          'pii zone curated can leave by an undeclared way: reader reads it from off-network, then off every network of the blueprint',
      }),
      // Another administrator of the account reads it too, with no policy naming the zone's readers.
      expect.objectContaining({
        logicalId: 'Bucket',
        detail: expect.stringContaining(`${ADMIN} reads it from off-network`),
      }),
    ]);
  });

  test('permission boundary: without s3:GetObject in it, the identity grant reads nothing', async () => {
    const bounded = (actions: string[]) =>
      verify(assembly({ roles: { reader: { policy: READER_POLICY, boundary: doc(allow(actions, '*')) } } }));
    expect(row(await bounded(['s3:GetObject', 'kms:Decrypt']), 'reader')).toEqual({
      lab: 'R',
      'off-network': '-',
    });
    expect(row(await bounded(['kms:Decrypt']), 'reader')).toEqual({ lab: '-', 'off-network': '-' });
    expect(row(await bounded(['s3:GetObject']), 'reader')).toEqual({ lab: '-', 'off-network': '-' });
  });

  test('key policy: without the account delegation the identity grant cannot decrypt; naming the role is enough', async () => {
    const roles = { reader: { policy: doc(allow('s3:GetObject', OBJECTS)) } };
    // No kms:Decrypt in the identity policy, and the key policy names only the account's root for admin actions.
    const keyAdminOnly = allow(['kms:Describe*', 'kms:Put*'], '*', { Principal: { AWS: ROOT } });
    expect(row(await verify(assembly({ roles, keyPolicy: [keyAdminOnly] })), 'reader')).toEqual({
      lab: '-',
      'off-network': '-',
    });
    const namesReader = allow('kms:Decrypt', '*', { Principal: { AWS: roleArn('reader') } });
    expect(row(await verify(assembly({ roles, keyPolicy: [keyAdminOnly, namesReader] })), 'reader')).toEqual({
      lab: 'R',
      'off-network': '-',
    });
    // The delegation with an identity grant of kms:Decrypt is the usual way.
    expect(row(await verify(assembly({ roles: { reader: { policy: READER_POLICY } } })), 'reader')).toEqual({
      lab: 'R',
      'off-network': '-',
    });
  });

  test('a deny naming the readers keeps another administrator out; without it, the administrator reads and writes', async () => {
    const readersOnly = {
      Effect: 'Deny',
      Principal: '*',
      Action: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject'],
      Resource: OBJECTS,
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': roleArn('reader') } },
    };
    const roles = { reader: { policy: READER_POLICY } };
    const named = await verify(assembly({ roles, bucketPolicy: [PERIMETER, readersOnly] }));
    expect(row(named, ADMIN)).toEqual({ lab: '-', 'off-network': '-' });
    expect(row(named, 'reader')).toEqual({ lab: 'R', 'off-network': '-' });
    // A deny that forgets versions lets the administrator read every object by its version id.
    const versionsForgotten = { ...readersOnly, Action: ['s3:GetObject', 's3:PutObject'] };
    expect(
      row(await verify(assembly({ roles, bucketPolicy: [PERIMETER, versionsForgotten] })), ADMIN),
    ).toEqual({
      lab: 'R',
      'off-network': '-',
    });
    const unnamed = await verify(assembly({ roles }));
    expect(row(unnamed, ADMIN)).toEqual({ lab: 'RW', 'off-network': '-' });
    expect(
      unnamed.invariants.find((i) => i.id === 6)?.violations.filter((v) => v.logicalId === 'Bucket'),
    ).toEqual([
      expect.objectContaining({
        logicalId: 'Bucket',
        detail: `${ADMIN} can read pii zone curated: the zone's policies do not limit its readers (from lab)`,
      }),
    ]);
  });

  test('cross-account: the bucket policy and the key policy must both admit the other account', async () => {
    const bucketGrant = allow('s3:GetObject', OBJECTS, {
      Principal: { AWS: `arn:aws:iam::${OTHER_ACCOUNT}:root` },
    });
    const keyGrant = allow('kms:Decrypt', '*', { Principal: { AWS: `arn:aws:iam::${OTHER_ACCOUNT}:root` } });
    // The perimeter still applies: the other account reads only through the lab endpoint.
    const both = await verify(
      assembly({
        bucketPolicy: [PERIMETER, bucketGrant],
        keyPolicy: [KEY_DELEGATED, keyGrant],
        endpointPolicy: null,
      }),
    );
    expect(row(both, OUTSIDER)).toEqual({ lab: 'R', 'off-network': '-' });
    expect(both.invariants.find((i) => i.id === 6)?.violations).toContainEqual(
      expect.objectContaining({ logicalId: 'Bucket', detail: `${OUTSIDER} can read pii zone curated (R)` }),
    );
    expect(both.exfiltration).toContainEqual(
      expect.objectContaining({
        principal: OUTSIDER,
        origin: 'lab',
        ways: [
          { kind: 'another-account', to: 'another account' },
          // Without an endpoint policy, the lab endpoint is a way out of its own.
          { kind: 'endpoint', to: "another account's bucket, through S3 endpoint Lab/S3Endpoint" },
        ],
      }),
    );
    // The lab endpoint's policy admits only the account's principals: there, the grants reach nothing.
    const fenced = await verify(
      assembly({ bucketPolicy: [PERIMETER, bucketGrant], keyPolicy: [KEY_DELEGATED, keyGrant] }),
    );
    expect(row(fenced, OUTSIDER)).toEqual({ lab: '-', 'off-network': '-' });
    const bucketOnly = await verify(
      assembly({ bucketPolicy: [PERIMETER, bucketGrant], endpointPolicy: null }),
    );
    expect(row(bucketOnly, OUTSIDER)).toEqual({ lab: '-', 'off-network': '-' });
    const keyOnly = await verify(assembly({ keyPolicy: [KEY_DELEGATED, keyGrant], endpointPolicy: null }));
    expect(row(keyOnly, OUTSIDER)).toEqual({ lab: '-', 'off-network': '-' });
  });

  test('prefix: a grant under data-capture/ shows as such, and a deny under a prefix as an exception', async () => {
    const writer = doc(
      allow('s3:PutObject', sub('arn:${AWS::Partition}:s3:::lab-data/data-capture/*')),
      allow('kms:GenerateDataKey', KEY),
    );
    const prefixed = await verify(assembly({ roles: { writer: { policy: writer } } }));
    expect(row(prefixed, 'writer')).toEqual({ lab: 'W[data-capture/]', 'off-network': '-' });
    expect(prefixed.access.rows.writer.curated).toBe('W[data-capture/]');

    const exceptTmp = {
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: sub('arn:${AWS::Partition}:s3:::lab-data/tmp/*'),
    };
    const excepted = await verify(
      assembly({ roles: { reader: { policy: READER_POLICY } }, bucketPolicy: [PERIMETER, exceptTmp] }),
    );
    expect(row(excepted, 'reader')).toEqual({ lab: 'R[all but tmp/]', 'off-network': '-' });
  });

  test('TLS: a deny of plain HTTP does not change what a client using TLS may do', async () => {
    const tls = {
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: [BUCKET, OBJECTS],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    };
    const report = await verify(
      assembly({ roles: { reader: { policy: READER_POLICY } }, bucketPolicy: [PERIMETER, tls] }),
    );
    expect(row(report, 'reader')).toEqual({ lab: 'R', 'off-network': '-' });
  });

  test("an S3 endpoint without a policy is a way out of its segment: data goes to any account's bucket past the firewall", async () => {
    const roles = { reader: { policy: READER_POLICY } };
    const open = await verify(assembly({ roles, endpointPolicy: null }));
    expect(open.exfiltration.find((r) => r.principal === 'reader' && r.origin === 'lab')?.ways).toEqual([
      { kind: 'endpoint', to: "another account's bucket, through S3 endpoint Lab/S3Endpoint" },
    ]);
    const fenced = await verify(assembly({ roles }));
    expect(fenced.exfiltration.find((r) => r.principal === 'reader' && r.origin === 'lab')?.ways).toEqual([]);
  });

  test('a principal the policies name that is not in the assembly is asked: anyone allowed to create it could be it', async () => {
    const legacy = roleArn('legacy-etl');
    const exempt = {
      Effect: 'Deny',
      Principal: '*',
      Action: ['s3:GetObject', 's3:GetObjectVersion'],
      Resource: OBJECTS,
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': [roleArn('reader'), legacy] } },
    };
    const report = await verify(
      assembly({ roles: { reader: { policy: READER_POLICY } }, bucketPolicy: [PERIMETER, exempt] }),
    );
    // Reads are denied to all but the reader and legacy-etl, which no template creates: an admin may.
    expect(row(report, ADMIN)).toEqual({ lab: 'RW', 'off-network': '-' });
    const readerOnly = {
      ...exempt,
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': [roleArn('reader')] } },
    };
    const without = await verify(
      assembly({ roles: { reader: { policy: READER_POLICY } }, bucketPolicy: [PERIMETER, readerOnly] }),
    );
    expect(row(without, ADMIN)).toEqual({ lab: 'W', 'off-network': '-' });
    const partner = 'arn:aws:iam::444455556666:role/partner-reader';
    const partnerExempt = {
      ...exempt,
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': [roleArn('reader'), partner] } },
    };
    const shared = await verify(
      assembly({
        bucketPolicy: [partnerExempt, allow('s3:GetObject', OBJECTS, { Principal: { AWS: partner } })],
        keyPolicy: [KEY_DELEGATED, allow('kms:Decrypt', '*', { Principal: { AWS: partner } })],
      }),
    );
    // Not through the lab endpoint, whose policy admits only the account's principals; from anywhere else.
    expect(row(shared, OUTSIDER)).toEqual({ lab: '-', 'off-network': 'R' });
  });

  test("a role another account may assume: its reach is the other account's, and the trust is named", async () => {
    const trustsOther = readerTrusting(`arn:aws:iam::${OTHER_ACCOUNT}:root`);
    const report = await verify(
      assembly({ roles: { reader: { policy: READER_POLICY } }, extra: { Rolereader: trustsOther } }),
    );
    expect(report.access.assumable[OUTSIDER]).toEqual(['reader']);
    expect(row(report, OUTSIDER)).toEqual({ lab: 'R', 'off-network': '-' });
    const found = report.invariants
      .flatMap((i) => i.violations)
      .map((v) => `${v.invariant} ${v.logicalId}: ${v.detail}`);
    expect(found).toContain('7 Rolereader: role reader can be assumed by a principal in another account');
    expect(found).toContain(
      `6 Bucket: ${OUTSIDER} can read pii zone curated (R), itself or through the roles it may assume (reader)`,
    );
  });

  test('a second bucket tagged with the zone is a column of its own, and a second bucket policy is named', async () => {
    const copy = {
      Type: 'AWS::S3::Bucket',
      Properties: {
        BucketName: 'lab-data-copy',
        Tags: [
          { Key: 'ai-segmentation:data-zone', Value: 'curated' },
          { Key: 'DataClassification', Value: 'pii' },
        ],
      },
    };
    const second = {
      Type: 'AWS::S3::BucketPolicy',
      Properties: {
        Bucket: 'lab-data',
        PolicyDocument: doc(allow('s3:GetObject', OBJECTS, { Principal: '*' })),
      },
    };
    const report = await verify(assembly({ extra: { Copy: copy, SecondPolicy: second } }));
    expect(report.access.zones.map((z) => z.name)).toEqual(['curated (Lab/Bucket)', 'curated (Lab/Copy)']);
    expect(report.invariants.flatMap((i) => i.violations)).toContainEqual(
      expect.objectContaining({
        invariant: 5,
        logicalId: 'Bucket',
        detail:
          'bucket has 2 bucket policies (Lab/BucketPolicy, Lab/SecondPolicy): S3 keeps only the last one written',
      }),
    );
  });

  test('keys of other shapes: a deny narrowed to nested keys leaves the top level readable', async () => {
    const nestedOnly = { ...PERIMETER, Resource: sub('arn:${AWS::Partition}:s3:::lab-data/*/*') };
    const report = await verify(
      assembly({ roles: { reader: { policy: READER_POLICY } }, bucketPolicy: [nestedOnly] }),
    );
    expect(row(report, 'reader')).toEqual({ lab: 'R', 'off-network': 'R' });
  });

  test('an address range the perimeter exempts is an origin of its own, off every network of the blueprint', async () => {
    const office = {
      ...PERIMETER,
      Condition: { ...PERIMETER.Condition, NotIpAddress: { 'aws:SourceIp': '203.0.113.0/24' } },
    };
    const report = await verify(
      assembly({ roles: { reader: { policy: READER_POLICY } }, bucketPolicy: [office] }),
    );
    expect(row(report, 'reader')).toEqual({
      lab: 'R',
      'off-network': '-',
      'off-network 203.0.113.0/24': 'R',
    });
    expect(report.invariants.find((i) => i.id === 12)?.violations.map((v) => v.detail)).toContain(
      'pii zone curated can leave by an undeclared way: reader reads it from off-network 203.0.113.0/24, then off every network of the blueprint',
    );
  });

  test('replication out of the blueprint and an access point are named, not silently passed', async () => {
    const report = await verify(
      assembly({
        bucket: {
          ReplicationConfiguration: {
            Role: roleArn('replicator'),
            Rules: [
              {
                Status: 'Enabled',
                Destination: { Bucket: 'arn:aws:s3:::partner-bucket', Account: OTHER_ACCOUNT },
              },
            ],
          },
        },
        extra: { Point: { Type: 'AWS::S3::AccessPoint', Properties: { Bucket: { Ref: 'Bucket' } } } },
      }),
    );
    const found = report.invariants
      .flatMap((i) => i.violations)
      .map((v) => `${v.invariant} ${v.logicalId}: ${v.detail}`);
    expect(found).toContain(
      `12 Bucket: pii zone curated can leave by an undeclared way: S3 replication reads it from the bucket, then replication to arn:aws:s3:::partner-bucket (account ${OTHER_ACCOUNT})`,
    );
    expect(found).toContain(
      '6 Point: an access point of zone curated: requests through it are not in the access matrix',
    );
  });

  test('a deny exemption on a key the caller chooses (its user agent) is asked with that value: the exemption opens', async () => {
    const exempt = {
      ...PERIMETER,
      Condition: {
        ...PERIMETER.Condition,
        StringNotEquals: { ...PERIMETER.Condition.StringNotEquals, 'aws:UserAgent': 'open-sesame' },
      },
    };
    const report = await verify(
      assembly({ roles: { reader: { policy: READER_POLICY } }, bucketPolicy: [exempt] }),
    );
    expect(row(report, 'reader')).toEqual({ lab: 'R', 'off-network': 'R' });
  });

  test('a key pattern the probes would miss (a deny sparing *.parquet) is asked as a key it matches', async () => {
    const perimeterAction: Statement = { ...PERIMETER };
    delete perimeterAction.Resource;
    const spares = {
      ...perimeterAction,
      NotResource: sub('arn:${AWS::Partition}:s3:::lab-data/*.parquet'),
    };
    const report = await verify(
      assembly({ roles: { reader: { policy: READER_POLICY } }, bucketPolicy: [spares] }),
    );
    expect(row(report, 'reader')).toEqual({ lab: 'R', 'off-network': 'R' });
  });

  test('a service principal admitted by a zone policy, and a multi-region access point, are named', async () => {
    const service = allow('s3:GetObject', OBJECTS, { Principal: { Service: 'appflow.amazonaws.com' } });
    const report = await verify(
      assembly({
        bucketPolicy: [PERIMETER, service],
        extra: {
          Global: {
            Type: 'AWS::S3::MultiRegionAccessPoint',
            Properties: { Regions: [{ Bucket: 'lab-data' }] },
          },
        },
      }),
    );
    const found = report.invariants.flatMap((i) => i.violations).map((v) => `${v.logicalId}: ${v.detail}`);
    expect(found).toContain(
      'Bucket: the bucket policy of zone curated allows appflow.amazonaws.com: what a service does there for anyone is not in the access matrix',
    );
    expect(found).toContain(
      'Global: a multi-region access point of zone curated: requests through it are not in the access matrix',
    );
  });

  test('an endpoint policy that spares one foreign bucket is a way out to that bucket', async () => {
    const [admitAccount, fence] = ACCOUNT_ONLY_ENDPOINT;
    const fenceAction: Statement = { ...fence };
    delete fenceAction.Resource;
    const sparing = { ...fenceAction, NotResource: 'arn:aws:s3:::partner-inbox/*' };
    const report = await verify(
      assembly({ roles: { reader: { policy: READER_POLICY } }, endpointPolicy: [admitAccount, sparing] }),
    );
    expect(report.exfiltration.find((r) => r.principal === 'reader' && r.origin === 'lab')?.ways).toEqual([
      { kind: 'endpoint', to: "another account's bucket, through S3 endpoint Lab/S3Endpoint" },
    ]);
  });

  test("an AWS-owned bucket admitted for anyone's reads is a way out: an outsider's key carries data in the object keys it asks for", async () => {
    const [admitAccount, fence] = ACCOUNT_ONLY_ENDPOINT;
    const layers = 'arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*';
    const fenceAction: Statement = { ...fence };
    delete fenceAction.Resource;
    const sparingLayers = { ...fenceAction, NotResource: layers };
    const anyone: Statement = { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: layers };
    const ways = async (statements: Statement[]) =>
      (
        await verify(assembly({ roles: { reader: { policy: READER_POLICY } }, endpointPolicy: statements }))
      ).exfiltration.find((r) => r.principal === 'reader' && r.origin === 'lab')?.ways;
    expect(await ways([admitAccount, sparingLayers, anyone])).toEqual([
      { kind: 'endpoint', to: "another account's bucket, through S3 endpoint Lab/S3Endpoint" },
    ]);
    // Admitted only to the account that owns the bucket (the service presigning its downloads): closed.
    const owner = {
      ...anyone,
      Condition: { StringEquals: { 'aws:ResourceAccount': '${aws:PrincipalAccount}' } },
    };
    expect(await ways([admitAccount, sparingLayers, owner])).toEqual([]);
    // The same for a bucket anyone may own: the outsider reads its own, through the endpoint.
    const inbox = 'arn:aws:s3:::partner-inbox/*';
    expect(
      await ways([admitAccount, { ...fenceAction, NotResource: inbox }, { ...owner, Resource: inbox }]),
    ).toEqual([{ kind: 'endpoint', to: "another account's bucket, through S3 endpoint Lab/S3Endpoint" }]);
  });

  test('role chaining: a role that may assume a reader reaches what the reader reaches', async () => {
    const chained = readerTrusting(roleArn('hopper'));
    const report = await verify(
      assembly({
        roles: {
          reader: { policy: READER_POLICY },
          hopper: { policy: doc(allow('sts:AssumeRole', roleArn('reader'))) },
        },
        extra: { Rolereader: chained },
      }),
    );
    expect(report.access.assumable.hopper).toEqual(['reader']);
    expect(row(report, 'hopper')).toEqual({ lab: 'R', 'off-network': '-' });
  });

  test("a public bucket policy: Block Public Access's RestrictPublicBuckets keeps other accounts out, and only it", async () => {
    const everyone = allow('s3:GetObject', OBJECTS, { Principal: '*' });
    const keyForAll = allow('kms:Decrypt', '*', { Principal: '*' });
    const restricted = { PublicAccessBlockConfiguration: { RestrictPublicBuckets: true } };
    const open = await verify(
      assembly({ bucketPolicy: [everyone], keyPolicy: [KEY_DELEGATED, keyForAll], endpointPolicy: null }),
    );
    expect(row(open, OUTSIDER)).toEqual({ lab: 'R', 'off-network': 'R' });
    const blocked = await verify(
      assembly({
        bucketPolicy: [everyone],
        keyPolicy: [KEY_DELEGATED, keyForAll],
        endpointPolicy: null,
        bucket: restricted,
      }),
    );
    expect(row(blocked, OUTSIDER)).toEqual({ lab: '-', 'off-network': '-' });
  });
});

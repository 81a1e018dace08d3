import { Stack, type App, type Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { DATA_ACTIONS, DataZone, ZONE_ACCESS } from '../../lib/constructs/data-zone';
import { ProtectedKey } from '../../lib/constructs/protected-key';
import { BlueprintRole } from '../../lib/identity/blueprint-role';
import { gateCheck } from '../support/gate-check';
import { testApp } from '../support/synth';

const ENV = { account: '111122223333', region: 'eu-west-1' };
const arn = (name: string) => `arn:aws:iam::111122223333:role/acme-${name}`;

/** A stack with one zone that names a reader, a writer and a prefix writer, and roles for each. */
function zoneStack(scope: App | Stage, options: { grant: boolean }) {
  const stack = new Stack(scope, 'Zone', { env: ENV });
  const logs = new Stack(scope, 'Logs', { env: ENV });
  const key = new ProtectedKey(stack, 'Key', { description: 'zone key', classification: 'proprietary' });
  const role = (name: string) =>
    new BlueprintRole(stack, name, {
      namePrefix: 'acme',
      role: name,
      description: name,
      trust: { kind: 'service', service: 'sagemaker.amazonaws.com' },
      // Without grants, a right of its own: a policy needs one statement.
      statements: options.grant
        ? []
        : [new iam.PolicyStatement({ sid: 'Describe', actions: ['s3:ListAllMyBuckets'], resources: ['*'] })],
    });
  const zone = new DataZone(stack, 'Zone-models', {
    zone: 'models',
    bucketName: 'acme-models-111122223333-eu-west-1',
    classification: 'proprietary',
    key,
    roles: {
      readers: [arn('reader')],
      writers: [arn('writer')],
      prefixWriters: [{ roles: [arn('capture')], prefix: 'data-capture/' }],
      offNetwork: [],
    },
    endpoints: ['vpce-0123456789abcdef0'],
    serverAccessLogs: { bucket: new s3.Bucket(logs, 'AccessLogs'), prefix: 'data-models/' },
    objectLock: 'holds-only',
    lifecycle: { noncurrentVersionDays: 365 },
  });
  const roles = {
    reader: role('reader'),
    writer: role('writer'),
    capture: role('capture'),
  };
  if (options.grant) {
    zone.grantRead(roles.reader);
    zone.grantWrite(roles.writer);
    zone.grantWrite(roles.capture, { prefix: 'data-capture/' });
  }
  return { stack, zone, roles, role };
}

type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: unknown;
};

function policyOf(t: Template, name: string): Statement[] {
  const [policy] = Object.values(
    t.findResources('AWS::IAM::ManagedPolicy', { Properties: { ManagedPolicyName: `acme-${name}-policy` } }),
  ) as { Properties: { PolicyDocument: { Statement: Statement[] } } }[];
  return policy.Properties.PolicyDocument.Statement;
}

/** The zone with every role it names granted. */
const build = (scope: App | Stage) => zoneStack(scope, { grant: true });

describe('DataZone', () => {
  const gate = gateCheck('data-zone', build);
  const { stack, zone, roles, role } = build(testApp());
  const t = Template.fromStack(stack);
  const bucketPolicy = () =>
    (
      Object.values(t.findResources('AWS::S3::BucketPolicy'))[0] as {
        Properties: { PolicyDocument: { Statement: Statement[] } };
      }
    ).Properties.PolicyDocument.Statement;
  const bySid = (sid: string) => bucketPolicy().find((s) => s.Sid === sid)!;

  test('a read grant gives objects, listing and decryption through S3, nothing else', () => {
    expect(policyOf(t, 'reader').map((s) => [s.Sid, s.Action])).toEqual([
      ['ReadModelsZone', ['s3:GetObject', 's3:GetObjectVersion', 's3:ListBucket']],
      ['DecryptModelsZone', 'kms:Decrypt'],
    ]);
    expect(policyOf(t, 'reader')[1].Condition).toEqual({
      StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' },
    });
  });

  test('a write grant puts objects (never deletes), under its prefix where it has one', () => {
    expect(policyOf(t, 'writer').map((s) => [s.Sid, s.Action])).toEqual([
      ['WriteModelsZone', 's3:PutObject'],
      ['EncryptModelsZone', ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey']],
    ]);
    expect(JSON.stringify(policyOf(t, 'capture')[0].Resource)).toContain('/data-capture/*');
    expect(JSON.stringify(policyOf(t, 'writer')[0].Resource)).not.toContain('data-capture');
  });

  test('the zone refuses reads and writes to every role but those it names, and keeps prefix writers in their prefix', () => {
    expect(bySid('DenyReadsButByTheZoneReaders').Condition).toEqual({
      ArnNotEquals: { 'aws:PrincipalArn': [arn('reader')] },
    });
    expect(bySid('DenyWritesButByTheZoneWriters').Condition).toEqual({
      ArnNotEquals: { 'aws:PrincipalArn': [arn('writer'), arn('capture')] },
    });
    expect(bySid('DenyPrefixWritersOutsideTheirPrefix').Condition).toEqual({
      ArnEquals: { 'aws:PrincipalArn': [arn('capture')] },
    });
    expect(bySid('DenyDataAccessOffThePerimeter').Condition).toEqual({
      StringNotEquals: { 'aws:SourceVpce': ['vpce-0123456789abcdef0'] },
    });
  });

  test('what a grant gives is what the zone reserves to the roles it names', () => {
    expect(
      ZONE_ACCESS.read.objects.every((a) => (ZONE_ACCESS.read.reserved as readonly string[]).includes(a)),
    ).toBe(true);
    expect(
      ZONE_ACCESS.write.objects.every((a) => (ZONE_ACCESS.write.reserved as readonly string[]).includes(a)),
    ).toBe(true);
    expect(bySid('DenyReadsButByTheZoneReaders').Action).toEqual([...ZONE_ACCESS.read.reserved].sort());
    expect(bySid('DenyWritesButByTheZoneWriters').Action).toEqual([...ZONE_ACCESS.write.reserved].sort());
    expect([...(bySid('DenyDataAccessOffThePerimeter').Action as string[])].sort()).toEqual(
      [...DATA_ACTIONS].sort(),
    );
  });

  test('a grant to a role the zone does not name is refused', () => {
    expect(() => zone.grantRead(role('other'))).toThrow(/zone models is not read by acme-other/);
    expect(() => zone.grantWrite(roles.reader)).toThrow(/zone models is not written by acme-reader/);
    expect(() => zone.grantWrite(roles.writer, { prefix: 'data-capture/' })).toThrow(
      /zone models is not written under data-capture\/ by acme-writer/,
    );
  });

  test('a role the zone names but no grant gives fails synth: the two sides agree', () => {
    const ungranted = testApp();
    zoneStack(ungranted, { grant: false });
    expect(() => ungranted.synth()).toThrow(
      /zone models is declared read by .*acme-reader, which no grant gives/,
    );
  });

  test('passes the gate', () => {
    expect(
      gate.unacknowledged().filter((f) => f.includes('Zone/Zone-models') || f.includes('Zone/Key')),
    ).toEqual([]);
  });
});

import { validateConfig, ConfigError } from '../../lib/config/validate';
import { DEFAULT_CLASSIFICATION_CONTROLS } from '../../lib/classification';
import { DEFAULT_SEGMENTS } from '../../lib/config/schema';
import { SEGMENT_KIND_PROFILES } from '../../lib/segment-kinds';
import { DEFAULT_MANAGED_THREAT_GROUPS, MAX_ALLOWLIST_DOMAINS } from '../../lib/config/network-defaults';
import { expiredRisks } from '../../lib/config/schema/review';
import { ACCEPTED_RISK } from '../support/fixtures';

/** The problems reported for a raw config; fails the test when the config is accepted. */
function problems(raw: unknown): string[] {
  try {
    validateConfig(raw, 'test.json');
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error(`config was accepted: ${JSON.stringify(raw)}`);
}

const segment = (overrides: Record<string, unknown> = {}) => ({
  name: 'study-1',
  kind: 'training',
  vpcCidr: '10.50.0.0/16',
  ...overrides,
});

describe('defaults', () => {
  test('an empty config is the complete four-segment blueprint', () => {
    const config = validateConfig({});
    expect(config.namePrefix).toBe('aiseg');
    expect(config.segments.map((s) => [s.name, s.kind, s.vpcCidr, s.azCount])).toEqual(
      DEFAULT_SEGMENTS.map((s) => [s.name, s.kind, s.vpcCidr, 2]),
    );
    expect(config.audit).toEqual({
      logRetentionYears: 6,
      objectLockMode: 'COMPLIANCE',
      alertEmails: [],
      sageMakerLogGroups: true,
    });
    expect(config.corporateCidrs).toEqual(['172.16.0.0/12', '192.168.0.0/16']);
  });

  test('each segment kind brings its network defaults', () => {
    const [development, training, inference] = validateConfig({}).segments;
    expect(development.egressAllowlist).toEqual([]);
    expect(training.egressAllowlist).toEqual([]);
    expect(inference.egressAllowlist).toEqual([]);
    for (const s of [development, training, inference]) {
      expect(s.interfaceEndpoints).toEqual([...SEGMENT_KIND_PROFILES[s.kind].defaultInterfaceEndpoints]);
      expect(s.managedThreatGroups).toEqual([...DEFAULT_MANAGED_THREAT_GROUPS]);
      expect(s.ips).toEqual({
        crossSegment: 'drop',
        corporate: 'drop',
        plaintextProtocols: 'drop',
        externalDns: 'drop',
        nonTlsOn443: 'drop',
      });
      expect(s.internalDnsZones).toEqual([]);
    }
    expect(SEGMENT_KIND_PROFILES.training.defaultInterfaceEndpoints).toEqual(
      expect.arrayContaining([
        'sagemaker-api',
        'sagemaker-runtime',
        'ecr-api',
        'ecr-dkr',
        'logs',
        'sts',
        'kms',
      ]),
    );
  });

  test('identities name no one (MFA through IAM), break-glass off; data retention the class defaults', () => {
    const config = validateConfig({});
    expect(config.identities).toEqual({ mfa: 'iam', breakGlass: { enabled: false } });
    expect(config.dataRetention).toEqual(DEFAULT_CLASSIFICATION_CONTROLS);
    const overridden = validateConfig({ dataRetention: { phi: { archiveAfterDays: null } } }).dataRetention
      .phi;
    expect(overridden).toEqual({ ...DEFAULT_CLASSIFICATION_CONTROLS.phi, archiveAfterDays: undefined });
  });

  test('a partial config keeps the defaults of the fields it leaves out', () => {
    const config = validateConfig({ audit: { alertEmails: ['soc@example.org'] } });
    expect(config.audit.logRetentionYears).toBe(6);
    expect(config.audit.alertEmails).toEqual(['soc@example.org']);
    expect(config.segments).toHaveLength(DEFAULT_SEGMENTS.length);
  });

  test("IAM Identity Center's permission sets kept apart: one set's people write raw, another's read curated", () => {
    const sso = (set: string) =>
      `arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_${set}_*`;
    // No Identity Center role is both (their path is Identity Center's: only the names can meet).
    const config = validateConfig({
      identities: {
        mfa: 'identity-provider',
        dataScientists: [sso('DataScience')],
        pipelineOperators: [sso('PipelineOps')],
      },
    });
    expect(config.identities.pipelineOperators).toEqual([sso('PipelineOps')]);
    // The same patterns outside Identity Center's path can name one role (a `*` spans a path).
    const custom = (set: string) => `arn:aws:iam::123456789012:role/teams/*/${set}_*`;
    expect(() =>
      validateConfig({
        identities: {
          mfa: 'identity-provider',
          dataScientists: [custom('DataScience')],
          pipelineOperators: [custom('PipelineOps')],
        },
      }),
    ).toThrow(/may also assume the data scientist role/);
  });

  test('the example configuration in config/ is valid', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const example = require('../../config/example.json') as unknown;
    expect(() => validateConfig(example, 'config/example.json')).not.toThrow();
  });
});

describe('the $schema key, which points editors at config/schema.json', () => {
  test('is accepted at the top level and left out of the validated config', () => {
    expect(validateConfig({ $schema: './schema.json' })).toEqual(validateConfig({}));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const example = require('../../config/example.json') as Record<string, unknown>;
    expect(example.$schema).toBe('./schema.json');
    const withoutSchema = { ...example };
    delete withoutSchema.$schema;
    expect(validateConfig(example, 'config/example.json')).toEqual(validateConfig(withoutSchema));
    expect(validateConfig(example)).not.toHaveProperty('$schema');
  });

  test('must be a string', () => {
    expect(problems({ $schema: 1 })).toEqual(['config.$schema: got 1; expected string, received number']);
  });

  test('is no licence for other unknown keys, at the top level or below', () => {
    expect(problems({ $schema: './schema.json', namPrefix: 'acme' })).toEqual([
      'config.namPrefix: unknown field; check its spelling against docs/configuration-reference.md',
    ]);
    expect(problems({ audit: { $schema: './schema.json' } })).toEqual([
      'config.audit.$schema: unknown field; check its spelling against docs/configuration-reference.md',
    ]);
  });
});

describe('rejections name the field, the value and what is expected', () => {
  test.each([
    [
      'malformed CIDR',
      { segments: [segment({ vpcCidr: '10.50.0/16' })] },
      'config.segments[0].vpcCidr: got "10.50.0/16"; expected an IPv4 CIDR block such as 10.10.0.0/16',
    ],
    [
      'CIDR with host bits',
      { segments: [segment({ vpcCidr: '10.50.0.1/16' })] },
      'config.segments[0].vpcCidr: got "10.50.0.1/16"; host bits are set; expected the network address 10.50.0.0/16',
    ],
    [
      'VPC too large',
      { segments: [segment({ vpcCidr: '10.0.0.0/8' })] },
      'config.segments[0].vpcCidr: got "10.0.0.0/8"; expected a prefix length from /16 to /28',
    ],
    [
      'octet out of range',
      { segments: [segment({ vpcCidr: '10.300.0.0/16' })] },
      'config.segments[0].vpcCidr: got "10.300.0.0/16"; expected an IPv4 CIDR block',
    ],
    [
      'malformed corporate CIDR',
      { corporateCidrs: ['corp'] },
      'config.corporateCidrs[0]: got "corp"; expected an IPv4 CIDR block',
    ],
    [
      'unknown segment kind',
      { segments: [segment({ kind: 'staging' })] },
      'config.segments[0].kind: got "staging"; expected one of development, training, inference',
    ],
    [
      'AZ count of zero',
      { segments: [segment({ azCount: 0 })] },
      'config.segments[0].azCount: got 0; expected from 1 to 3 availability zones',
    ],
    [
      'AZ count of four',
      { segments: [segment({ azCount: 4 })] },
      'config.segments[0].azCount: got 4; expected from 1 to 3 availability zones',
    ],
    [
      'fractional AZ count',
      { segments: [segment({ azCount: 1.5 })] },
      'config.segments[0].azCount: got 1.5; expected a whole number',
    ],
    [
      'malformed account',
      { environment: { account: '12345', region: 'eu-west-1', availabilityZones: ['eu-west-1a'] } },
      'config.environment.account: got "12345"; expected a 12-digit AWS account id',
    ],
    [
      'malformed region',
      { environment: { region: 'europe' } },
      'config.environment.region: got "europe"; expected an AWS region name such as eu-west-1',
    ],
    [
      'malformed e-mail',
      { audit: { alertEmails: ['soc.example.org'] } },
      'config.audit.alertEmails[0]: got "soc.example.org"; expected an e-mail address',
    ],
    [
      'retention CloudWatch cannot keep',
      { audit: { logRetentionYears: 4 } },
      'config.audit.logRetentionYears: got 4; expected one of 1, 2, 3, 5, 6, 7, 8, 9, 10',
    ],
    [
      'unknown Object Lock mode',
      { audit: { objectLockMode: 'LEGAL_HOLD' } },
      'config.audit.objectLockMode: got "LEGAL_HOLD"; expected COMPLIANCE or GOVERNANCE',
    ],
    [
      'segment name with capitals',
      { segments: [segment({ name: 'Study1' })] },
      'config.segments[0].name: got "Study1"; expected a segment name: lower-case letters',
    ],
    [
      'name prefix too long',
      { namePrefix: 'a'.repeat(21) },
      `config.namePrefix: got "${'a'.repeat(21)}"; expected a name prefix of at most 20 characters`,
    ],
    ['no segments', { segments: [] }, 'config.segments: got []; expected at least one segment'],
    [
      'a misspelt field',
      { segmnets: [] },
      'config.segmnets: unknown field; check its spelling against docs/configuration-reference.md',
    ],
    [
      'malformed allowlist domain',
      { segments: [segment({ kind: 'inference', egressAllowlist: ['https://pypi.org'] })] },
      'config.segments[0].egressAllowlist[0]: got "https://pypi.org"; expected a lower-case domain name such as pypi.org, or .example.org for the domain and all its subdomains',
    ],
    [
      'allowlist domain with a wildcard',
      { segments: [segment({ kind: 'inference', egressAllowlist: ['*.example.org'] })] },
      'config.segments[0].egressAllowlist[0]: got "*.example.org"; expected a lower-case domain name',
    ],
    [
      'allowlist on a training segment',
      { segments: [segment({ egressAllowlist: ['pypi.org'] })] },
      'config.segments[0].egressAllowlist: got ["pypi.org"]; training segments have no internet path; expected no egressAllowlist (packages come from the CodeArtifact and ECR mirrors: see docs/package-mirrors.md)',
    ],
    [
      'unknown IPS mode',
      { segments: [segment({ ips: { externalDns: 'block' } })] },
      'config.segments[0].ips.externalDns: got "block"; expected one of drop, alert, off',
    ],
    [
      'unknown IPS category',
      { segments: [segment({ ips: { telnet: 'drop' } })] },
      'config.segments[0].ips.telnet: unknown field',
    ],
    [
      'unknown managed threat group',
      { segments: [segment({ managedThreatGroups: ['ThreatSignaturesMalwareStrictOrder'] })] },
      'config.segments[0].managedThreatGroups[0]: got "ThreatSignaturesMalwareStrictOrder"; expected one of AttackInfrastructure,',
    ],
    [
      'unknown interface endpoint',
      { segments: [segment({ interfaceEndpoints: ['sagemaker'] })] },
      'config.segments[0].interfaceEndpoints[0]: got "sagemaker"; expected one of sagemaker-api, sagemaker-runtime,',
    ],
    [
      'malformed internal zone',
      { segments: [segment({ internalDnsZones: ['Research.Internal'] })] },
      'config.segments[0].internalDnsZones[0]: got "Research.Internal"; expected a lower-case DNS zone name such as research.example.internal',
    ],
    [
      'malformed managed domain list id',
      { dnsFirewall: { managedDomainListIds: ['AWSManagedDomainsMalwareDomainList'] } },
      'config.dnsFirewall.managedDomainListIds[0]: got "AWSManagedDomainsMalwareDomainList"; expected a DNS Firewall domain list id such as rslvr-fdl-0123456789abcdef',
    ],
    [
      'malformed principal',
      { identities: { dataScientists: ['DataScience'] } },
      'config.identities.dataScientists[0]: got "DataScience"; expected an IAM role or user ARN such as arn:aws:iam::123456789012:role/DataScience',
    ],
    [
      'a principal that is not a role or user',
      { identities: { ingestion: ['arn:aws:iam::123456789012:group/Etl'] } },
      'config.identities.ingestion[0]: got "arn:aws:iam::123456789012:group/Etl"; expected an IAM role or user ARN',
    ],
    [
      'an account root, which would trust every principal of the account',
      { identities: { ingestion: ['arn:aws:iam::123456789012:root'] } },
      'config.identities.ingestion[0]: got "arn:aws:iam::123456789012:root"; expected a role or user ARN, not an account root: arn:aws:iam::123456789012:root would trust every principal of that account its administrators allow',
    ],
    [
      'a pattern where the trust names principals exactly (MFA through IAM)',
      { identities: { auditors: ['arn:aws:iam::123456789012:role/Audit*'] } },
      'config.identities.auditors[0]: got "arn:aws:iam::123456789012:role/Audit*"; expected an exact role or user ARN: with identities.mfa "iam" the trust policy names principals exactly; patterns need identities.mfa "identity-provider"',
    ],
    [
      'a pattern among machine principals',
      {
        identities: { mfa: 'identity-provider', ingestion: ['arn:aws:iam::123456789012:role/etl-*'] },
      },
      'config.identities.ingestion[0]: got "arn:aws:iam::123456789012:role/etl-*"; expected an exact role or user ARN: machine principals are named in the trust policy',
    ],
    [
      'a writer of raw who reads curated (named, or matched by a pattern)',
      {
        identities: {
          mfa: 'identity-provider',
          dataScientists: [
            'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_Data_*',
          ],
          pipelineOperators: [
            'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Data_0a1b2c3d',
          ],
        },
      },
      'config.identities.pipelineOperators[0]: got "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Data_0a1b2c3d"; arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Data_0a1b2c3d may also assume the data scientist role (identities.dataScientists), which reads the curated zone',
    ],
    [
      'two patterns that can name one principal: a writer of raw who reads curated',
      {
        identities: {
          mfa: 'identity-provider',
          dataScientists: [
            'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_DataScience_*',
          ],
          pipelineOperators: [
            'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_*',
          ],
        },
      },
      'config.identities.pipelineOperators[0]: got "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_*"; arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_* may also assume the data scientist role',
    ],
    [
      'an ingestion principal who is a data scientist',
      {
        identities: {
          dataScientists: ['arn:aws:iam::123456789012:role/Etl'],
          ingestion: ['arn:aws:iam::123456789012:role/ETL'],
        },
      },
      'config.identities.ingestion[0]: got "arn:aws:iam::123456789012:role/ETL"; arn:aws:iam::123456789012:role/ETL may also assume the data scientist role (identities.dataScientists), which reads the curated zone: a principal of the ingestion role, which writes raw',
    ],
    [
      'code signing that neither warns nor enforces',
      { codeSigning: { untrustedArtifacts: 'ignore' } },
      'config.codeSigning.untrustedArtifacts: got "ignore"; expected warn or enforce',
    ],
    [
      'MFA enforced by someone unknown',
      { identities: { mfa: 'sms' } },
      'config.identities.mfa: got "sms"; expected iam or identity-provider',
    ],
    [
      'an external id of one character',
      { identities: { ingestionExternalId: 'x' } },
      'config.identities.ingestionExternalId: got "x"; expected an external id of 2 to 1224 characters',
    ],
    [
      'break-glass switch of the wrong type',
      { identities: { breakGlass: { enabled: 'yes' } } },
      'config.identities.breakGlass.enabled: got "yes"; expected boolean, received string',
    ],
    ['an unknown human role', { identities: { admins: [] } }, 'config.identities.admins: unknown field'],
    [
      'archive age of zero days',
      { dataRetention: { phi: { archiveAfterDays: 0 } } },
      'config.dataRetention.phi.archiveAfterDays: got 0; expected an archive age of at least 1 day',
    ],
    [
      'fractional version retention',
      { dataRetention: { pii: { noncurrentVersionDays: 1.5 } } },
      'config.dataRetention.pii.noncurrentVersionDays: got 1.5; expected a whole number of days',
    ],
    [
      'retention of an unknown classification',
      { dataRetention: { secret: {} } },
      'config.dataRetention.secret: unknown field',
    ],
    [
      'malformed organisation id',
      { organizationId: 'acme' },
      'config.organizationId: got "acme"; expected an AWS Organizations id such as o-a1b2c3d4e5',
    ],
    [
      'a misspelt nested field',
      { segments: [segment({ cidr: '10.1.0.0/16' })] },
      'config.segments[0].cidr: unknown field; check its spelling against docs/configuration-reference.md',
    ],
    [
      'wrong type',
      { segments: [segment({ azCount: 'two' })] },
      'config.segments[0].azCount: got "two"; expected number, received string',
    ],
  ])('%s', (_what, raw, expected) => {
    expect(problems(raw)).toEqual(expect.arrayContaining([expect.stringContaining(expected)]));
  });

  test('duplicate allowlist domains and endpoints', () => {
    expect(
      problems({
        segments: [
          segment({
            kind: 'inference',
            egressAllowlist: ['pypi.org', 'github.com', 'pypi.org'],
            interfaceEndpoints: ['sts', 'execute-api', 'sts'],
          }),
        ],
      }),
    ).toEqual([
      'config.segments[0].egressAllowlist[2]: got "pypi.org"; duplicate domain; egressAllowlist[0] has it already',
      'config.segments[0].interfaceEndpoints[2]: got "sts"; duplicate endpoint; interfaceEndpoints[0] has it already',
    ]);
  });

  test('an allowlist on a segment that reads pii (development: curated) only where an accepted risk names its internet path', () => {
    const allowlisted = segment({ kind: 'development', egressAllowlist: ['cloud.r-project.org'] });
    expect(problems({ segments: [allowlisted] })).toEqual([
      'config.segments[0].egressAllowlist: got ["cloud.r-project.org"]; development segments read curated (pii): an internet allowlist is a way out for that data; expected no egressAllowlist (packages come from the CodeArtifact and ECR mirrors: see docs/package-mirrors.md), or an acceptedRisks entry whose opening is exactly "path study-1 -> internet: via-firewall"',
    ]);
    // A risk that names another segment's path, another path, or any path by a pattern (which would
    // open every segment, those to come included), covers nothing here.
    for (const opening of [
      'path study-2 -> internet: via-firewall',
      'access * on curated: *',
      'path * -> internet: *',
      'path study-1 -> internet: *',
    ])
      expect(
        problems({ segments: [allowlisted], acceptedRisks: [{ ...ACCEPTED_RISK, opening }] }),
      ).toHaveLength(1);
    // The risk named exactly lets the allowlist stand (the verifier then judges its expiry).
    expect(
      validateConfig({
        segments: [allowlisted],
        acceptedRisks: [{ ...ACCEPTED_RISK, opening: 'path study-1 -> internet: via-firewall' }],
      }).segments[0].egressAllowlist,
    ).toEqual(['cloud.r-project.org']);
    // An empty allowlist is no path; a segment that reads no personal data (inference: models) needs no risk.
    expect(() => validateConfig({ segments: [{ ...allowlisted, egressAllowlist: [] }] })).not.toThrow();
    expect(() => validateConfig({ segments: [{ ...allowlisted, kind: 'inference' }] })).not.toThrow();
  });

  test('an allowlist longer than the firewall rule group holds', () => {
    const domains = Array.from({ length: MAX_ALLOWLIST_DOMAINS + 1 }, (_, i) => `host${i}.example.org`);
    expect(problems({ segments: [segment({ kind: 'inference', egressAllowlist: domains })] })).toEqual([
      expect.stringMatching(
        new RegExp(
          `^config\\.segments\\[0\\]\\.egressAllowlist: got \\[.*\\]; expected at most ${MAX_ALLOWLIST_DOMAINS} domains$`,
        ),
      ),
    ]);
  });

  test('accepted risks: an id twice, a reason too short, a date that is not one, a field missing', () => {
    const risk = ACCEPTED_RISK;
    expect(problems({ acceptedRisks: [risk, { ...risk }] })).toEqual([
      'config.acceptedRisks[1].id: got "AR-1"; duplicate id; acceptedRisks[0] has it already',
    ]);
    expect(problems({ acceptedRisks: [{ ...risk, expires: '30/06/2027' }] })).toEqual([
      'config.acceptedRisks[0].expires: got "30/06/2027"; expected a date as YYYY-MM-DD',
    ]);
    expect(problems({ acceptedRisks: [{ ...risk, reason: 'because' }] })).toEqual([
      'config.acceptedRisks[0].reason: got "because"; expected a reason of at least 40 characters: what is accepted, why, and what limits it',
    ]);
    expect(problems({ acceptedRisks: [{ ...risk, expires: '2027-02-30' }] })).toEqual([
      'config.acceptedRisks[0].expires: got "2027-02-30"; expected a date that exists',
    ]);
    // An acceptance is renewed, not open-ended: at most a year ahead.
    const far = new Date(Date.now() + 400 * 24 * 60 * 60 * 1000).toISOString().slice(0, 10);
    expect(problems({ acceptedRisks: [{ ...risk, expires: far }] })).toEqual([
      `config.acceptedRisks[0].expires: got "${far}"; expected a day at most 366 days ahead: an acceptance is renewed, not open-ended`,
    ]);
    const unsigned: Partial<typeof risk> = { ...risk };
    delete unsigned.approvedBy;
    expect(problems({ acceptedRisks: [unsigned] })).toEqual([
      expect.stringMatching(/^config\.acceptedRisks\[0\]\.approvedBy: /),
    ]);
    expect(validateConfig({ acceptedRisks: [risk] }, 'test.json').acceptedRisks).toEqual([risk]);
  });

  test('an acceptance past its last day covers nothing: synth names it, the verifier fails on its opening', () => {
    const risks = [
      { ...ACCEPTED_RISK, id: 'AR-old', expires: '2026-11-30' },
      { ...ACCEPTED_RISK, id: 'AR-today', expires: '2026-12-01' },
    ];
    expect(expiredRisks(risks, '2026-12-01').map((r) => r.id)).toEqual(['AR-old']);
    expect(expiredRisks(risks, '2026-12-02').map((r) => r.id)).toEqual(['AR-old', 'AR-today']);
  });

  test('duplicate segment names', () => {
    expect(problems({ segments: [segment(), segment({ vpcCidr: '10.51.0.0/16' })] })).toContain(
      'config.segments[1].name: got "study-1"; duplicate segment name; segments[0] has it already',
    );
  });

  test('segments whose ranges overlap', () => {
    expect(
      problems({ segments: [segment(), segment({ name: 'study-2', vpcCidr: '10.50.128.0/17' })] }),
    ).toContain(
      'config.segments[1].vpcCidr: got "10.50.128.0/17"; overlaps segments[0].vpcCidr 10.50.0.0/16 (segment "study-1"); expected a range disjoint from every other segment',
    );
  });

  test('a segment overlapping a corporate range', () => {
    expect(problems({ corporateCidrs: ['10.0.0.0/8'], segments: [segment()] })).toContain(
      'config.segments[0].vpcCidr: got "10.50.0.0/16"; overlaps corporateCidrs[0] 10.0.0.0/8; expected a range disjoint from the corporate network',
    );
  });

  test('subnets that do not fit their VPC, counting the firewall and public tiers', () => {
    expect(
      problems({
        segments: [segment({ vpcCidr: '10.50.0.0/24', azCount: 3, subnetPrefixLengths: { workload: 24 } })],
      }),
    ).toContain(
      'config.segments[0].subnetPrefixLengths.workload: got 24; 3 zone(s) × (workload /24 + firewall /28) = 816 addresses do not fit in 10.50.0.0/24 (256); expected a longer workload prefix length or a larger vpcCidr',
    );
    // 3 × (64 + 16) = 240 fits a /24; an allowlist's public tier adds 3 × 16 = 288.
    const tight = { vpcCidr: '10.50.0.0/24', azCount: 3, subnetPrefixLengths: { workload: 26 } };
    expect(() => validateConfig({ segments: [segment(tight)] })).not.toThrow();
    expect(
      problems({ segments: [segment({ ...tight, kind: 'inference', egressAllowlist: ['pypi.org'] })] }),
    ).toEqual([
      'config.segments[0].subnetPrefixLengths.workload: got 26; 3 zone(s) × (workload /26 + firewall /28 + public /28) = 288 addresses do not fit in 10.50.0.0/24 (256); expected a longer workload prefix length or a larger vpcCidr',
    ]);
    // The same segment without an allowlist has no public tier.
    expect(() => validateConfig({ segments: [segment({ ...tight, kind: 'inference' })] })).not.toThrow();
  });

  test('an account without region, zone names and managed DNS lists (synth never looks them up)', () => {
    expect(problems({ environment: { account: '123456789012' } })).toEqual([
      'config.environment.region: missing; required when environment.account is set',
      'config.environment.availabilityZones: missing; required when environment.account is set (synth makes no look-ups); expected zone names such as eu-west-1a',
      'config.dnsFirewall.managedDomainListIds: missing; required when environment.account is set: the ids of the AWS managed domain lists to block (aws route53resolver list-firewall-domain-lists), or [] where the region has none',
    ]);
  });

  test('zone names of another region, duplicated, or fewer than a segment needs', () => {
    const environment = {
      account: '123456789012',
      region: 'eu-west-1',
      availabilityZones: ['eu-west-1a', 'us-east-1b', 'eu-west-1a'],
    };
    expect(problems({ environment, segments: [segment({ azCount: 3 })] })).toEqual(
      expect.arrayContaining([
        'config.environment.availabilityZones[1]: got "us-east-1b"; expected an availability zone name of region eu-west-1 such as eu-west-1a',
        'config.environment.availabilityZones[2]: got "eu-west-1a"; duplicate availability zone',
      ]),
    );
    expect(
      problems({
        environment: { ...environment, availabilityZones: ['eu-west-1a'] },
        dnsFirewall: { managedDomainListIds: [] },
        segments: [segment({ azCount: 2 })],
      }),
    ).toEqual([
      'config.segments[0].azCount: got 2; expected at most 1, the number of environment.availabilityZones',
    ]);
  });

  test('every problem is reported at once, with the file it came from', () => {
    let error: unknown;
    try {
      validateConfig({ namePrefix: 'X', audit: { alertEmails: ['nope'] } }, 'my-config.json');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(
      /^Invalid blueprint configuration \(my-config\.json\):\n {2}- config\.namePrefix: .*\n {2}- config\.audit\.alertEmails\[0\]: /,
    );
  });

  test('a segment with the CodeArtifact endpoints in a region whose assets bucket the blueprint does not list: refused, as its S3 endpoint would admit a bucket nobody reviewed', () => {
    const environment = {
      account: '123456789012',
      region: 'ca-central-1',
      availabilityZones: ['ca-central-1a', 'ca-central-1b'],
    };
    const base = { environment, dnsFirewall: { managedDomainListIds: [] } };
    expect(problems({ ...base, segments: [segment({ kind: 'development' })] })).toEqual([
      expect.stringMatching(
        /^config\.segments\[0\]\.interfaceEndpoints: got \[.*"codeartifact-repositories".*\] \(default\); CodeArtifact's assets bucket in ca-central-1 is not in the blueprint's list \(lib\/mirrors\.ts, from the CodeArtifact user guide: us-east-1, .*\); expected a list without codeartifact-repositories, or the region's bucket added to the list \(a reviewed change: its S3 endpoint admits that bucket\)$/,
      ),
    ]);
    // Without the repositories endpoint nothing downloads package files; a listed region is fine.
    const withoutFiles = segment({ kind: 'development', interfaceEndpoints: ['codeartifact-api', 'sts'] });
    expect(() => validateConfig({ ...base, segments: [withoutFiles] })).not.toThrow();
    expect(() =>
      validateConfig({
        ...base,
        environment: { ...environment, region: 'eu-west-1', availabilityZones: ['eu-west-1a', 'eu-west-1b'] },
        segments: [segment({ kind: 'development' })],
      }),
    ).not.toThrow();
    // The config has no way to name a bucket of its own.
    expect(problems({ packageMirrors: { assetsBucket: 'assets-111122223333-eu-west-1' } })).toEqual([
      'config.packageMirrors: unknown field; check its spelling against docs/configuration-reference.md',
    ]);
  });

  test('valid edge values are accepted', () => {
    expect(() =>
      validateConfig({
        environment: {
          account: '123456789012',
          region: 'us-gov-west-1',
          availabilityZones: ['us-gov-west-1a', 'us-gov-west-1b'],
        },
        dnsFirewall: { managedDomainListIds: [] },
        corporateCidrs: [],
        // Two workload and two firewall subnets of /28 fill a /26 exactly.
        segments: [segment({ azCount: 2, vpcCidr: '10.50.0.0/26', subnetPrefixLengths: { workload: 28 } })],
      }),
    ).not.toThrow();
  });

  test('more isolated ranges than a network ACL holds', () => {
    const segments = Array.from({ length: 14 }, (_, i) =>
      segment({ name: `s${i}`, vpcCidr: `10.${100 + i}.0.0/16` }),
    );
    expect(problems({ segments })).toEqual([
      'config.segments: got "14 segments and 2 corporate ranges"; each segment\'s network ACL must deny 15 ranges; expected at most 14 (other segments plus corporate ranges), the entries a network ACL holds by default',
    ]);
  });
});

describe('pseudonymization', () => {
  const pipeline = { name: 'pipeline', kind: 'pipeline', vpcCidr: '10.60.0.0/16' };
  const patients = (overrides: Record<string, unknown> = {}) => ({
    name: 'patients',
    prefix: 'ehr/patients/',
    format: 'csv',
    rules: [
      { field: 'patient_id', transform: 'token', domain: 'patient' },
      { field: 'birth_date', transform: 'date-to-year' },
    ],
    safeFields: ['sex'],
    ...overrides,
  });
  const withDatasets = (datasets: unknown[], extra: Record<string, unknown> = {}) => ({
    segments: [pipeline],
    pseudonymization: { datasets, ...extra },
  });

  test('the default blueprint runs the stage in its pipeline segment, with no datasets', () => {
    const config = validateConfig({});
    expect(config.pseudonymization).toEqual({
      segment: 'pipeline',
      datasets: [],
      concurrency: 5,
      phoneCountry: 'US',
      linkageGroups: [],
    });
  });

  test('a valid dataset is accepted as written; without a pipeline segment there is no stage', () => {
    // Each dataset also carries its token scope (its own, when in no linkage group) and phone country.
    expect(validateConfig(withDatasets([patients()])).pseudonymization.datasets).toEqual([
      { ...patients(), multilineFields: [], phoneCountry: 'US', tokenScope: 'dataset:patients' },
    ]);
    const linked = validateConfig(
      withDatasets([patients(), patients({ name: 'visits', prefix: 'ehr/visits/' })], {
        linkageGroups: [{ name: 'ehr', datasets: ['patients', 'visits'] }],
        phoneCountry: 'GB',
      }),
    ).pseudonymization.datasets;
    expect(linked.map((d) => [d.tokenScope, d.phoneCountry])).toEqual([
      ['group:ehr', 'GB'],
      ['group:ehr', 'GB'],
    ]);
    expect(validateConfig({ segments: [segment()] }).pseudonymization.segment).toBeUndefined();
  });

  test.each([
    [
      'a rule naming an unknown transform',
      withDatasets([patients({ rules: [{ field: 'patient_id', transform: 'hash' }] })]),
      'config.pseudonymization.datasets[0].rules[0].transform: got "hash"; expected one of token, date-to-year, date-to-month, age, zip3, object',
    ],
    [
      'a dataset with no identifier rule',
      withDatasets([patients({ rules: [{ field: 'birth_date', transform: 'date-to-year' }] })]),
      'config.pseudonymization.datasets[0].rules: got ["birth_date:date-to-year"]; expected at least one token rule: a dataset of patient records has a direct identifier (patient id, MRN), and it must be tokenised',
    ],
    [
      'overlapping prefixes',
      withDatasets([patients(), patients({ name: 'patients-2026', prefix: 'ehr/patients/2026/' })]),
      'config.pseudonymization.datasets[1].prefix: got "ehr/patients/2026/"; overlaps datasets[0].prefix ehr/patients/ (dataset "patients"); expected prefixes of which none starts another, so each file belongs to one dataset',
    ],
    [
      'a prefix without its closing slash',
      withDatasets([patients({ prefix: 'ehr/patients' })]),
      'config.pseudonymization.datasets[0].prefix: got "ehr/patients"; expected a key prefix of safe characters ending in /, such as clinical/patients/',
    ],
    [
      'an unknown format',
      withDatasets([patients({ format: 'parquet' })]),
      'config.pseudonymization.datasets[0].format: got "parquet"; expected one of csv, jsonl',
    ],
    [
      'two rules for one field',
      withDatasets([
        patients({
          rules: [
            { field: 'patient_id', transform: 'token' },
            { field: 'patient_id', transform: 'zip3' },
          ],
        }),
      ]),
      'config.pseudonymization.datasets[0].rules[1].field: got "patient_id"; field already has a rule (rules[0]); expected one rule per field',
    ],
    [
      'a field both transformed and safe',
      withDatasets([patients({ safeFields: ['birth_date'] })]),
      'config.pseudonymization.datasets[0].safeFields[0]: got "birth_date"; the field has a rule; expected a field either transformed by a rule or listed as safe, not both',
    ],
    [
      'a token option on a generalisation',
      withDatasets([
        patients({
          rules: [
            { field: 'patient_id', transform: 'token' },
            { field: 'age', transform: 'age', normalize: 'digits' },
          ],
        }),
      ]),
      'config.pseudonymization.datasets[0].rules[1].normalize: got "digits"; applies to token rules only; this rule\'s transform is age',
    ],
    [
      'small areas that are not ZIP prefixes',
      withDatasets([
        patients({
          rules: [
            { field: 'patient_id', transform: 'token' },
            { field: 'zip', transform: 'zip3', smallAreas: ['36'] },
          ],
        }),
      ]),
      'config.pseudonymization.datasets[0].rules[1].smallAreas[0]: got "36"; expected a three-digit ZIP prefix such as 036',
    ],
    [
      'an option of another transform on a zip3 rule',
      withDatasets([
        patients({
          rules: [
            { field: 'patient_id', transform: 'token', replaceSmallAreas: true },
            { field: 'zip', transform: 'zip3' },
          ],
        }),
      ]),
      "config.pseudonymization.datasets[0].rules[0].replaceSmallAreas: got true; applies to zip3 rules only; this rule's transform is token",
    ],
    [
      'an object rule in a CSV dataset',
      withDatasets([
        patients({
          rules: [
            { field: 'patient_id', transform: 'token' },
            { field: 'codes', transform: 'object', safeFields: ['code'] },
          ],
        }),
      ]),
      'config.pseudonymization.datasets[0].rules[1].transform: got "object"; applies to JSON Lines datasets only; this dataset\'s format is csv',
    ],
    [
      'an object rule with no properties',
      withDatasets([
        patients({
          format: 'jsonl',
          rules: [
            { field: 'patient_id', transform: 'token' },
            { field: 'codes', transform: 'object' },
          ],
        }),
      ]),
      'config.pseudonymization.datasets[0].rules[1]: got "codes"; expected rules or safeFields for the properties of the object; it has neither',
    ],
    [
      'an object within an object',
      withDatasets([
        patients({
          format: 'jsonl',
          rules: [
            { field: 'patient_id', transform: 'token' },
            { field: 'codes', transform: 'object', rules: [{ field: 'inner', transform: 'object' }] },
          ],
        }),
      ]),
      'config.pseudonymization.datasets[0].rules[1].rules[0].transform: got "object"; expected one of token, date-to-year, date-to-month, age, zip3',
    ],
    [
      'a property both ruled and safe in an object rule',
      withDatasets([
        patients({
          format: 'jsonl',
          rules: [
            { field: 'patient_id', transform: 'token' },
            {
              field: 'codes',
              transform: 'object',
              rules: [{ field: 'recorded', transform: 'date-to-month' }],
              safeFields: ['recorded'],
            },
          ],
        }),
      ]),
      'config.pseudonymization.datasets[0].rules[1].safeFields[0]: got "recorded"; the property is named twice; expected each property either ruled once or listed safe once',
    ],
    [
      'an over-89 birth date that has no date rule',
      withDatasets([patients({ over89: { birthDate: 'patient_id' } })]),
      'config.pseudonymization.datasets[0].over89.birthDate: got "patient_id"; expected a field of the dataset with a date-to-year or date-to-month rule; its rule is token',
    ],
    [
      'an over-89 rule with nothing to tell an age by',
      withDatasets([patients({ over89: { dates: 'remove' } })]),
      'config.pseudonymization.datasets[0].over89: got {"dates":"remove"}; has no effect: the dataset has no age rule and over89 names no birthDate; expected a birthDate field, or an age rule',
    ],
    [
      'a linkage group naming an unknown dataset',
      withDatasets([patients()], { linkageGroups: [{ name: 'ehr', datasets: ['patients', 'labs'] }] }),
      'config.pseudonymization.linkageGroups[0].datasets[1]: got "labs"; no such dataset; expected one of patients',
    ],
    [
      'a dataset in two linkage groups',
      withDatasets([patients(), patients({ name: 'visits', prefix: 'ehr/visits/' })], {
        linkageGroups: [
          { name: 'ehr', datasets: ['patients', 'visits'] },
          { name: 'research', datasets: ['visits', 'patients'] },
        ],
      }),
      'config.pseudonymization.linkageGroups[1].datasets[0]: got "visits"; the dataset is already in linkageGroups[0] (ehr); expected each dataset in one group at most',
    ],
    [
      'a linkage group of one dataset',
      withDatasets([patients()], { linkageGroups: [{ name: 'ehr', datasets: ['patients'] }] }),
      'config.pseudonymization.linkageGroups[0].datasets: got ["patients"]; expected at least two datasets: a group links datasets to each other',
    ],
    [
      'an unknown phone country',
      withDatasets([], { phoneCountry: 'XX' }),
      'config.pseudonymization.phoneCountry: got "XX"; expected an ISO 3166 alpha-2 country code libphonenumber-js knows, such as US or GB',
    ],
    [
      'duplicate dataset names',
      withDatasets([patients(), patients({ prefix: 'ehr/other/' })]),
      'config.pseudonymization.datasets[1].name: got "patients"; duplicate dataset name; datasets[0] has it already',
    ],
    [
      'datasets without a pipeline segment to run in',
      { segments: [segment()], pseudonymization: { datasets: [patients()] } },
      'config.pseudonymization.datasets: got "1 dataset(s)"; the stage runs in a pipeline segment and there is none; expected a segment of kind pipeline in segments',
    ],
    [
      'a stage segment that is not a pipeline segment',
      withDatasets([patients()], { segment: 'study-1' }),
      'config.pseudonymization.segment: got "study-1"; expected the name of a pipeline segment (pipeline)',
    ],
    [
      'a pipeline segment with an internet path',
      { segments: [{ ...pipeline, egressAllowlist: ['pypi.org'] }] },
      'config.segments[0].egressAllowlist: got ["pypi.org"]; pipeline segments have no internet path; expected no egressAllowlist (packages come from the CodeArtifact and ECR mirrors: see docs/package-mirrors.md)',
    ],
    [
      'a concurrency out of range',
      withDatasets([], { concurrency: 0 }),
      'config.pseudonymization.concurrency: got 0; expected from 1 to 100 concurrent invocations',
    ],
  ])('%s is refused, naming the field, the value and what is expected', (_what, raw, expected) => {
    expect(problems(raw)).toContain(expected);
  });

  test('with several pipeline segments, the stage segment must be named', () => {
    expect(
      problems({ segments: [pipeline, { ...pipeline, name: 'pipeline-2', vpcCidr: '10.61.0.0/16' }] }),
    ).toContain(
      'config.pseudonymization.segment: missing; required when there are several pipeline segments; expected one of pipeline, pipeline-2',
    );
  });
});

describe('inferenceApi', () => {
  const inference = { name: 'inference', kind: 'inference', vpcCidr: '10.30.0.0/16' };

  test('the default blueprint serves its inference segment, endpoint named after it, no callers', () => {
    expect(validateConfig({}).inferenceApi).toEqual({
      segment: 'inference',
      endpointName: 'aiseg-inference-endpoint',
      wafRateLimit: 1000,
      maxBodyBytes: 8192,
      throttle: { rateLimit: 20, burstLimit: 40 },
      quota: { limit: 100000, period: 'DAY' },
      backendTimeoutSeconds: 10,
      callers: [],
    });
    expect(validateConfig({ segments: [segment()] }).inferenceApi.segment).toBeUndefined();
  });

  test.each([
    [
      'a segment that is not an inference segment',
      { segments: [inference, segment()], inferenceApi: { segment: 'study-1' } },
      'config.inferenceApi.segment: got "study-1"; expected the name of an inference segment (inference)',
    ],
    [
      'several inference segments and none named',
      { segments: [inference, { ...inference, name: 'inference-2', vpcCidr: '10.31.0.0/16' }] },
      'config.inferenceApi.segment: missing; required when there are several inference segments; expected one of inference, inference-2',
    ],
    [
      'an API segment without the execute-api endpoint',
      {
        segments: [{ ...inference, interfaceEndpoints: ['sagemaker-runtime'] }],
        inferenceApi: { segment: 'inference' },
      },
      'config.segments[0].interfaceEndpoints: got ["sagemaker-runtime"]; the inference API is reached through the execute-api endpoint; expected a list with execute-api',
    ],
    [
      "an inference segment without the execute-api endpoint, the API's segment by default",
      {
        segments: [
          {
            name: 'serve',
            kind: 'inference',
            vpcCidr: '10.30.0.0/16',
            interfaceEndpoints: ['sagemaker-runtime'],
          },
        ],
      },
      'config.segments[0].interfaceEndpoints: got ["sagemaker-runtime"]; the inference API is reached through the execute-api endpoint; expected a list with execute-api',
    ],
    [
      "the stage's pipeline segment without the Step Functions endpoint (large objects' runs)",
      {
        segments: [
          { name: 'pipeline', kind: 'pipeline', vpcCidr: '10.40.0.0/16', interfaceEndpoints: ['kms'] },
        ],
      },
      'config.segments[0].interfaceEndpoints: got ["kms"]; the pseudonymization stage runs here and calls kms and states through their endpoints; expected a list with states',
    ],
    [
      "the stage's named pipeline segment with neither of its endpoints",
      {
        segments: [
          { name: 'pipeline', kind: 'pipeline', vpcCidr: '10.40.0.0/16' },
          { name: 'pipeline-2', kind: 'pipeline', vpcCidr: '10.41.0.0/16', interfaceEndpoints: ['logs'] },
        ],
        pseudonymization: { segment: 'pipeline-2' },
      },
      'config.segments[1].interfaceEndpoints: got ["logs"]; the pseudonymization stage runs here and calls kms and states through their endpoints; expected a list with kms and states',
    ],
    [
      'the same alert address twice, in any case',
      { audit: { alertEmails: ['soc@example.org', 'SOC@example.org'] } },
      'config.audit.alertEmails[1]: got "SOC@example.org"; duplicate address; alertEmails[0] has it already',
    ],
    [
      'a region aws-cdk-lib does not know',
      { environment: { region: 'us-east-9' } },
      'config.environment.region: got "us-east-9"; not a region aws-cdk-lib knows; expected one such as eu-west-1 (set environment.acceptUnknownRegion for a region newer than the library)',
    ],
    [
      'a burst below the rate',
      { inferenceApi: { throttle: { rateLimit: 50, burstLimit: 10 } } },
      'config.inferenceApi.throttle.burstLimit: got 10; expected at least the rateLimit (50)',
    ],
    [
      'a rate limit WAF does not accept',
      { inferenceApi: { wafRateLimit: 5 } },
      'config.inferenceApi.wafRateLimit: got 5; expected a rate limit from 10 to 2000000000',
    ],
    [
      'a body larger than WAF inspects',
      { inferenceApi: { maxBodyBytes: 65536 } },
      'config.inferenceApi.maxBodyBytes: got 65536; expected a body size from 1 to 8192',
    ],
    [
      'a timeout API Gateway would cut',
      { inferenceApi: { backendTimeoutSeconds: 30 } },
      'config.inferenceApi.backendTimeoutSeconds: got 30; expected a timeout from 1 to 28',
    ],
    [
      'a caller without a principal ARN',
      { inferenceApi: { callers: [{ name: 'app', principals: ['ClinicalApp'] }] } },
      'config.inferenceApi.callers[0].principals[0]: got "ClinicalApp"; expected an IAM role or user ARN such as arn:aws:iam::123456789012:role/ClinicalApp (not an account root, which would trust every principal of that account)',
    ],
    [
      'a caller that is an account root',
      { inferenceApi: { callers: [{ name: 'app', principals: ['arn:aws:iam::123456789012:root'] }] } },
      'config.inferenceApi.callers[0].principals[0]: got "arn:aws:iam::123456789012:root"; expected an IAM role or user ARN such as arn:aws:iam::123456789012:role/ClinicalApp (not an account root, which would trust every principal of that account)',
    ],
    [
      'two callers of one name',
      {
        inferenceApi: {
          callers: [
            { name: 'app', principals: ['arn:aws:iam::123456789012:role/A'] },
            { name: 'app', principals: ['arn:aws:iam::123456789012:role/B'] },
          ],
        },
      },
      'config.inferenceApi.callers[1].name: got "app"; duplicate application name; callers[0] has it already',
    ],
    [
      'a model instance type that is not one',
      { inferenceApi: { model: { name: 'm', instanceType: 'm5.large' } } },
      'config.inferenceApi.model.instanceType: got "m5.large"; expected a SageMaker instance type such as ml.m5.large',
    ],
  ])('%s is refused, naming the field, the value and what is expected', (_what, raw, expected) => {
    expect(problems(raw)).toContain(expected);
  });
});

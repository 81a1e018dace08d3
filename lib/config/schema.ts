import { RegionInfo } from 'aws-cdk-lib/region-info';
import { z } from 'zod';
import { DEFAULT_CLASSIFICATION_CONTROLS, type ClassificationControls } from '../classification';
import { DATA_CLASSIFICATIONS, type DataClassification } from '../contract/classification';
import { parseCidr, cidrsOverlap } from './cidr';
import {
  DEFAULT_DEVELOPMENT_ALLOWLIST,
  DEFAULT_INTERFACE_ENDPOINTS,
  DEFAULT_MANAGED_THREAT_GROUPS,
  FIREWALL_SUBNET_PREFIX,
  INTERFACE_ENDPOINTS,
  IPS_MODES,
  MANAGED_THREAT_GROUPS,
  MAX_ALLOWLIST_DOMAINS,
  PUBLIC_SUBNET_PREFIX,
} from './network-defaults';
import { DATASET_FORMATS, NORMALIZERS, TRANSFORMS } from '../functions/pseudonymize/rules';

/**
 * The stage of the AI lifecycle a segment serves; it sets the segment's defaults. A `pipeline`
 * segment runs the pseudonymization stage between the raw and curated zones, with no internet.
 */
export const SEGMENT_KINDS = ['development', 'training', 'inference', 'pipeline'] as const;

/** Kinds that never have an internet path. */
export const OFFLINE_KINDS: readonly SegmentKind[] = ['training', 'pipeline'];
export type SegmentKind = (typeof SEGMENT_KINDS)[number];

/** Retention periods, in years, that CloudWatch Logs accepts as a log group retention. */
export const RETENTION_YEARS = [1, 2, 3, 5, 6, 7, 8, 9, 10] as const;

/** The largest number of availability zones a segment may span. */
export const MAX_AZ_COUNT = 3;

/**
 * Ranges a segment's isolation ACL can deny: a network ACL holds 20 entries per direction by
 * default, and six of them are the closing allows.
 */
export const MAX_ISOLATED_RANGES = 14;

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[a-z]{2,}$/i;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const ORGANIZATION = /^o-[a-z0-9]{10,32}$/;
const DOMAIN_LIST_ID = /^rslvr-fdl-[0-9a-f]{8,32}$/;
const PRINCIPAL_ARN = /^arn:aws(-[a-z]+)*:iam::\d{12}:(root|(role|user)\/[\w+=,.@/-]{1,512})$/;

const name = (what: string, max: number) =>
  z
    .string()
    .max(max, `expected ${what} of at most ${max} characters`)
    .regex(NAME, `expected ${what}: lower-case letters, digits and single hyphens, starting with a letter`);

const ipv4Cidr = (minPrefix: number, maxPrefix: number) =>
  z.string().superRefine((value, ctx) => {
    const problem = parseCidr(value, minPrefix, maxPrefix).error;
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const subnetPrefixLengths = z.strictObject({
  /** Prefix length of each workload subnet (one per AZ). */
  workload: z
    .number()
    .int('expected a whole number')
    .min(16, 'expected a prefix length from 16 to 28')
    .max(28, 'expected a prefix length from 16 to 28')
    .default(20),
});

/** A domain name; with a leading dot, the domain and all its subdomains. */
const allowedDomain = z
  .string()
  .refine((value) => DOMAIN.test(value.startsWith('.') ? value.slice(1) : value), {
    message:
      'expected a lower-case domain name such as pypi.org, or .example.org for the domain and all its subdomains',
  });

const zoneName = z
  .string()
  .regex(DOMAIN, 'expected a lower-case DNS zone name such as research.example.internal');

const ipsMode = z.enum(IPS_MODES, { error: `expected one of ${IPS_MODES.join(', ')}` }).default('drop');
const ips = z.strictObject({
  /** Traffic to or from another segment's range. */
  crossSegment: ipsMode,
  /** Traffic to or from the corporate ranges. */
  corporate: ipsMode,
  /** FTP, telnet and unencrypted HTTP leaving the segment. */
  plaintextProtocols: ipsMode,
  /** DNS, DNS over TLS, to any resolver but the VPC's own. */
  externalDns: ipsMode,
  /** Anything but TLS on port 443. */
  nonTlsOn443: ipsMode,
});

const segment = z.strictObject({
  /** Unique name; part of stack names and construct ids. */
  name: name('a segment name', 20),
  kind: z.enum(SEGMENT_KINDS, { error: `expected one of ${SEGMENT_KINDS.join(', ')}` }),
  /** The VPC's IPv4 range; must not overlap another segment or a corporate range. */
  vpcCidr: ipv4Cidr(16, 28),
  azCount: z
    .number()
    .int('expected a whole number')
    .min(1, `expected from 1 to ${MAX_AZ_COUNT} availability zones`)
    .max(MAX_AZ_COUNT, `expected from 1 to ${MAX_AZ_COUNT} availability zones`)
    .default(2),
  subnetPrefixLengths: subnetPrefixLengths.default(() => subnetPrefixLengths.parse({})),
  /**
   * Domains the segment may reach on the internet, through the firewall (TLS SNI and HTTP host).
   * An empty list means no internet path at all. Default: a package-registry and source-hosting
   * list for development, none for inference; training may not have one.
   */
  egressAllowlist: z
    .array(allowedDomain)
    .max(MAX_ALLOWLIST_DOMAINS, `expected at most ${MAX_ALLOWLIST_DOMAINS} domains`)
    .optional(),
  /** Private zones (and their subdomains) the segment's DNS firewall lets workloads resolve. */
  internalDnsZones: z.array(zoneName).default([]),
  /** What the segment's IDS/IPS does with each rule category. */
  ips: ips.default(() => ips.parse({})),
  /** AWS managed threat-signature and domain groups added to the firewall policy. */
  managedThreatGroups: z
    .array(z.enum(MANAGED_THREAT_GROUPS, { error: `expected one of ${MANAGED_THREAT_GROUPS.join(', ')}` }))
    .optional(),
  /** Interface endpoints of the segment, replacing its kind's list. */
  interfaceEndpoints: z
    .array(z.enum(INTERFACE_ENDPOINTS, { error: `expected one of ${INTERFACE_ENDPOINTS.join(', ')}` }))
    .optional(),
});

const environment = z.strictObject({
  account: z.string().regex(ACCOUNT, 'expected a 12-digit AWS account id').optional(),
  region: z.string().regex(REGION, 'expected an AWS region name such as eu-west-1').optional(),
  /**
   * Availability zone names, required with an account: synth never looks them up.
   */
  availabilityZones: z.array(z.string()).optional(),
  /**
   * Accept a region that aws-cdk-lib's region list does not know yet (a region newer than the
   * library). Without it such a region is refused, so that a typo (us-east-9) is caught.
   */
  acceptUnknownRegion: z.boolean().default(false),
});

const audit = z.strictObject({
  /** Years the audit trail is kept: Object Lock retention and CloudWatch log retention. */
  logRetentionYears: z
    .number()
    .refine((v) => (RETENTION_YEARS as readonly number[]).includes(v), {
      message: `expected one of ${RETENTION_YEARS.join(', ')} (the retention periods CloudWatch Logs accepts)`,
    })
    .default(6),
  /** COMPLIANCE locks audit records for everyone, root included; GOVERNANCE lets a privileged role lift it. */
  objectLockMode: z
    .enum(['COMPLIANCE', 'GOVERNANCE'], { error: 'expected COMPLIANCE or GOVERNANCE' })
    .default('COMPLIANCE'),
  /** Addresses subscribed to the security alert topic. */
  alertEmails: z.array(z.string().regex(EMAIL, 'expected an e-mail address')).default([]),
  /**
   * Create SageMaker's log groups (training and processing jobs, Studio, the inference API's
   * endpoint) beforehand, encrypted and kept for logRetentionYears, instead of letting SageMaker
   * create them on first use with neither. Set false in an account that already has them (or
   * adopt them with cdk deploy --import-existing-resources).
   */
  sageMakerLogGroups: z.boolean().default(true),
});

const detectiveServices = z.strictObject({
  guardDuty: z.boolean().default(true),
  securityHub: z.boolean().default(true),
  awsConfig: z.boolean().default(true),
  accessAnalyzer: z.boolean().default(true),
});

export const DEFAULT_SEGMENTS = [
  { name: 'development', kind: 'development', vpcCidr: '10.10.0.0/16' },
  { name: 'training', kind: 'training', vpcCidr: '10.20.0.0/16' },
  { name: 'inference', kind: 'inference', vpcCidr: '10.30.0.0/16' },
  { name: 'pipeline', kind: 'pipeline', vpcCidr: '10.40.0.0/16' },
] as const;

const dnsFirewall = z.strictObject({
  /**
   * Ids of AWS managed domain lists (malware, botnet command and control, aggregate threats) that
   * every segment blocks. The ids differ per region and synth makes no look-ups:
   * `aws route53resolver list-firewall-domain-lists` prints them.
   */
  managedDomainListIds: z
    .array(
      z
        .string()
        .regex(DOMAIN_LIST_ID, 'expected a DNS Firewall domain list id such as rslvr-fdl-0123456789abcdef'),
    )
    .optional(),
});

const principals = z
  .array(
    z
      .string()
      .regex(
        PRINCIPAL_ARN,
        'expected an IAM principal ARN such as arn:aws:iam::123456789012:role/DataScience or arn:aws:iam::123456789012:root',
      ),
  )
  .optional();

const identities = z.strictObject({
  /**
   * Who may assume each human role (always with MFA, for at most an hour). Default: this
   * account's IAM principals that an administrator allows through IAM.
   */
  platformAdmins: principals,
  dataScientists: principals,
  mlEngineers: principals,
  auditors: principals,
  /**
   * Who may assume the pipeline operator role, which reads the pseudonymization stage's dead
   * letters (they name raw objects) and re-sends their events to the stage.
   */
  pipelineOperators: principals,
  /** The machine principals (an ETL job, a transfer service) that may assume the ingestion role. */
  ingestion: principals,
  /** An emergency role that may read the raw and quarantine zones; off unless switched on. */
  breakGlass: z.strictObject({ enabled: z.boolean().default(false), principals }).default({ enabled: false }),
});

const days = (what: string) =>
  z
    .number()
    .int('expected a whole number of days')
    .min(1, `expected ${what} of at least 1 day`)
    .max(36500, `expected ${what} of at most 36500 days`);
const classRetention = z.strictObject({
  /** Days until objects move to Glacier Instant Retrieval; null: never. */
  archiveAfterDays: days('an archive age').nullable().optional(),
  /** Days an overwritten or deleted version is kept. */
  noncurrentVersionDays: days('a version retention').optional(),
});

const fieldName = z
  .string()
  .min(1, 'expected a field name')
  .max(128, 'expected a field name of at most 128 characters');

const fieldRule = z.strictObject({
  /** The CSV column or JSON property. */
  field: fieldName,
  transform: z.enum(TRANSFORMS, { error: `expected one of ${TRANSFORMS.join(', ')}` }),
  /** token: the identifier domain; the same value in the same domain gets the same token in every dataset. */
  domain: name('an identifier domain', 40).optional(),
  /** token: how the value is normalised before it is MACed. */
  normalize: z.enum(NORMALIZERS, { error: `expected one of ${NORMALIZERS.join(', ')}` }).optional(),
  /** zip3: three-digit prefixes of small areas, which become 000. */
  smallAreas: z
    .array(z.string().regex(/^\d{3}$/, 'expected a three-digit ZIP prefix such as 036'))
    .optional(),
  /** Records without the field are kept (the field empty) rather than quarantined. */
  optional: z.boolean().optional(),
});

const dataset = z.strictObject({
  name: name('a dataset name', 40),
  /** The raw-zone key prefix of the dataset's files. */
  prefix: z
    .string()
    .max(512, 'expected a key prefix of at most 512 characters')
    .regex(
      /^[A-Za-z0-9!_.*'()=-]+(\/[A-Za-z0-9!_.*'()=-]+)*\/$/,
      'expected a key prefix of safe characters ending in /, such as clinical/patients/',
    ),
  format: z.enum(DATASET_FORMATS, { error: `expected one of ${DATASET_FORMATS.join(', ')}` }),
  rules: z.array(fieldRule).min(1, 'expected at least one field rule'),
  /** Fields reviewed as not identifying anyone: passed through unchanged. Every other field is dropped. */
  safeFields: z.array(fieldName).default([]),
});

const pseudonymization = z.strictObject({
  /** The pipeline segment the stage runs in. Default: the only pipeline segment. */
  segment: name('a segment name', 20).optional(),
  /** Datasets by raw-zone key prefix; a file under no dataset's prefix is quarantined whole. */
  datasets: z.array(dataset).default([]),
  /** Invocations at once; bounds the stage's share of the account's KMS request rate. */
  concurrency: z
    .number()
    .int('expected a whole number')
    .min(1, 'expected from 1 to 100 concurrent invocations')
    .max(100, 'expected from 1 to 100 concurrent invocations')
    .default(5),
});

const count = (what: string, min: number, max: number) =>
  z
    .number()
    .int('expected a whole number')
    .min(min, `expected ${what} from ${min} to ${max}`)
    .max(max, `expected ${what} from ${min} to ${max}`);

const inferenceApi = z.strictObject({
  /** The inference segment the API and its backend live in. Default: the only inference segment. */
  segment: name('a segment name', 20).optional(),
  /**
   * The SageMaker endpoint the backend invokes, the only one it may. Default:
   * `<namePrefix>-<segment>-endpoint`.
   */
  endpointName: z
    .string()
    .regex(
      /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/,
      'expected a SageMaker endpoint name: letters, digits and hyphens, at most 63 characters',
    )
    .optional(),
  /**
   * A model (created beforehand, through the ML engineer role) to serve at the endpoint: the
   * blueprint then creates the endpoint configuration, which captures requests and responses to
   * the models zone, and the endpoint.
   */
  model: z
    .strictObject({
      name: z
        .string()
        .regex(
          /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/,
          'expected a SageMaker model name: letters, digits and hyphens, at most 63 characters',
        ),
      instanceType: z
        .string()
        .regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, 'expected a SageMaker instance type such as ml.m5.large'),
      initialInstanceCount: count('an instance count', 1, 10).default(1),
      /** Percentage of requests whose request and response are captured. */
      captureSamplingPercentage: count('a sampling percentage', 1, 100).default(100),
    })
    .optional(),
  /** Requests per source address per 5 minutes that AWS WAF lets through (rate-based rule). */
  wafRateLimit: count('a rate limit', 10, 2_000_000_000).default(1000),
  /** Largest request body accepted, in bytes; AWS WAF inspects the first 8 KB of a body. */
  maxBodyBytes: count('a body size', 1, 8192).default(8192),
  /** Stage throttling: steady requests per second and burst. */
  throttle: z
    .strictObject({
      rateLimit: count('a rate', 1, 10_000).default(20),
      burstLimit: count('a burst', 1, 5_000).default(40),
    })
    .default({ rateLimit: 20, burstLimit: 40 }),
  /** The usage plan's quota. */
  quota: z
    .strictObject({
      limit: count('a quota', 1, 1_000_000_000).default(100_000),
      period: z.enum(['DAY', 'WEEK', 'MONTH'], { error: 'expected DAY, WEEK or MONTH' }).default('DAY'),
    })
    .default({ limit: 100_000, period: 'DAY' }),
  /** Seconds the backend waits for the model (API Gateway gives up at 29). */
  backendTimeoutSeconds: count('a timeout', 1, 28).default(10),
  /** One caller role per consuming application: who may assume it. */
  callers: z
    .array(
      z.strictObject({
        name: name('an application name', 30),
        principals: z
          .array(
            z
              .string()
              .regex(
                PRINCIPAL_ARN,
                'expected an IAM principal ARN such as arn:aws:iam::123456789012:role/ClinicalApp',
              ),
          )
          .min(1, 'expected at least one principal'),
      }),
    )
    .default([]),
});

const baseSchema = z.strictObject({
  /** Prefix of every stack name, so several blueprints can share an account. */
  namePrefix: name('a name prefix', 20).default('aiseg'),
  environment: environment.default(() => environment.parse({})),
  /**
   * The AWS Organizations id; endpoint policies then admit the organisation's principals and
   * resources. Without it they admit this account's only.
   */
  organizationId: z
    .string()
    .regex(ORGANIZATION, 'expected an AWS Organizations id such as o-a1b2c3d4e5')
    .optional(),
  /**
   * Deletion, subnet-change and policy-change protection of every Network Firewall, and mutation
   * protection of every DNS Firewall association. Keep it on; switch it off only for a first
   * deploy that may fail, so that CloudFormation can roll a network stack back, and on again once
   * that deploy has succeeded.
   */
  networkProtection: z.boolean().default(true),
  /** Corporate ranges no segment may reach, nor overlap. */
  corporateCidrs: z.array(ipv4Cidr(8, 32)).default(['172.16.0.0/12', '192.168.0.0/16']),
  audit: audit.default(() => audit.parse({})),
  /** Switch a service off where the organisation's delegated administrator already runs it. */
  detectiveServices: detectiveServices.default(() => detectiveServices.parse({})),
  dnsFirewall: dnsFirewall.default({}),
  identities: identities.default(() => identities.parse({})),
  /** Lifecycle of the data zones, per classification; each field overrides the class default. */
  dataRetention: z
    .strictObject({
      phi: classRetention.optional(),
      pii: classRetention.optional(),
      proprietary: classRetention.optional(),
      public: classRetention.optional(),
    })
    .default({}),
  /** The stage that pseudonymizes raw records into the curated zone. */
  pseudonymization: pseudonymization.default(() => pseudonymization.parse({})),
  /** The private inference API of the inference segment. */
  inferenceApi: inferenceApi.default(() => inferenceApi.parse({})),
  segments: z
    .array(segment)
    .min(1, 'expected at least one segment')
    .default(() => DEFAULT_SEGMENTS.map((s) => segment.parse(s))),
});

type RawSegment = z.output<typeof segment>;

/** The segment's allowlist, or its kind's default; a non-empty one means an internet path. */
function egressAllowlistOf(s: RawSegment): readonly string[] {
  return s.egressAllowlist ?? (s.kind === 'development' ? DEFAULT_DEVELOPMENT_ALLOWLIST : []);
}

/** [index, index of the first occurrence] of every repeated value. */
/** The regions aws-cdk-lib's region information knows. */
const KNOWN_REGIONS = new Set(RegionInfo.regions.map((r) => r.name));

function duplicates(values: readonly string[]): [number, number][] {
  return values.flatMap((value, i) => {
    const first = values.indexOf(value);
    return first < i ? [[i, first] as [number, number]] : [];
  });
}

/** Fills in what a segment's kind decides when the config leaves it out. */
function withKindDefaults(s: RawSegment) {
  return {
    ...s,
    egressAllowlist: [...egressAllowlistOf(s)],
    managedThreatGroups: [...(s.managedThreatGroups ?? DEFAULT_MANAGED_THREAT_GROUPS)],
    interfaceEndpoints: [...(s.interfaceEndpoints ?? DEFAULT_INTERFACE_ENDPOINTS[s.kind])],
  };
}

/** A cross-field problem, with the value at fault (which may be a default the file did not set). */
type Issue = { path: (string | number)[]; message: string; value?: unknown };

function crossFieldIssues(config: z.output<typeof baseSchema>): Issue[] {
  const issues: Issue[] = [];
  const { environment: env, segments, corporateCidrs } = config;

  if (env.region && !env.acceptUnknownRegion && !KNOWN_REGIONS.has(env.region)) {
    issues.push({
      path: ['environment', 'region'],
      value: env.region,
      message:
        'not a region aws-cdk-lib knows; expected one such as eu-west-1 (set environment.acceptUnknownRegion for a region newer than the library)',
    });
  }
  duplicates(config.audit.alertEmails.map((e) => e.toLowerCase())).forEach(([at, first]) =>
    issues.push({
      path: ['audit', 'alertEmails', at],
      value: config.audit.alertEmails[at],
      message: `duplicate address; alertEmails[${first}] has it already`,
    }),
  );
  if (env.account && !env.region) {
    issues.push({ path: ['environment', 'region'], message: 'required when environment.account is set' });
  }
  if (env.account && !env.availabilityZones) {
    issues.push({
      path: ['environment', 'availabilityZones'],
      message:
        'required when environment.account is set (synth makes no look-ups); expected zone names such as eu-west-1a',
    });
  }
  if (env.account && !config.dnsFirewall.managedDomainListIds) {
    issues.push({
      path: ['dnsFirewall', 'managedDomainListIds'],
      message:
        'required when environment.account is set: the ids of the AWS managed domain lists to block (aws route53resolver list-firewall-domain-lists), or [] where the region has none',
    });
  }
  const zones = env.availabilityZones ?? [];
  const seenZones = new Set<string>();
  zones.forEach((zone, i) => {
    const zoneRegion = zone.slice(0, -1);
    if (
      !/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}[a-z]$/.test(zone) ||
      (env.region && zoneRegion !== env.region)
    ) {
      issues.push({
        path: ['environment', 'availabilityZones', i],
        message: `expected an availability zone name of region ${env.region ?? '<region>'} such as ${env.region ?? 'eu-west-1'}a`,
      });
    }
    if (seenZones.has(zone)) {
      issues.push({ path: ['environment', 'availabilityZones', i], message: 'duplicate availability zone' });
    }
    seenZones.add(zone);
  });

  duplicates(segments.map((s) => s.name)).forEach(([at, first]) =>
    issues.push({
      path: ['segments', at, 'name'],
      value: segments[at].name,
      message: `duplicate segment name; segments[${first}] has it already`,
    }),
  );
  segments.forEach((s, i) => {
    if (zones.length > 0 && s.azCount > zones.length) {
      issues.push({
        path: ['segments', i, 'azCount'],
        value: s.azCount,
        message: `expected at most ${zones.length}, the number of environment.availabilityZones`,
      });
    }
    const vpc = parseCidr(s.vpcCidr, 16, 28).cidr;
    const workload = s.subnetPrefixLengths.workload;
    const internet = egressAllowlistOf(s).length > 0;
    if (vpc) {
      // Tiers are allocated largest first, so each block stays aligned and the sizes simply add up.
      const perZone =
        2 ** (32 - workload) +
        2 ** (32 - FIREWALL_SUBNET_PREFIX) +
        (internet ? 2 ** (32 - PUBLIC_SUBNET_PREFIX) : 0);
      const available = 2 ** (32 - vpc.prefix);
      if (workload <= vpc.prefix || s.azCount * perZone > available) {
        const tiers = `workload /${workload} + firewall /${FIREWALL_SUBNET_PREFIX}${internet ? ` + public /${PUBLIC_SUBNET_PREFIX}` : ''}`;
        issues.push({
          path: ['segments', i, 'subnetPrefixLengths', 'workload'],
          value: workload,
          message: `${s.azCount} zone(s) × (${tiers}) = ${s.azCount * perZone} addresses do not fit in ${s.vpcCidr} (${available}); expected a longer workload prefix length or a larger vpcCidr`,
        });
      }
    }
    if (OFFLINE_KINDS.includes(s.kind) && s.egressAllowlist && s.egressAllowlist.length > 0) {
      issues.push({
        path: ['segments', i, 'egressAllowlist'],
        value: s.egressAllowlist,
        message: `${s.kind} segments have no internet path; expected no egressAllowlist (run work that needs the internet in a development segment)`,
      });
    }
    duplicates(s.egressAllowlist ?? []).forEach(([at, first]) =>
      issues.push({
        path: ['segments', i, 'egressAllowlist', at],
        message: `duplicate domain; egressAllowlist[${first}] has it already`,
      }),
    );
    duplicates(s.interfaceEndpoints ?? []).forEach(([at, first]) =>
      issues.push({
        path: ['segments', i, 'interfaceEndpoints', at],
        message: `duplicate endpoint; interfaceEndpoints[${first}] has it already`,
      }),
    );
  });

  const isolatedRanges = segments.length - 1 + corporateCidrs.length;
  if (isolatedRanges > MAX_ISOLATED_RANGES) {
    issues.push({
      path: ['segments'],
      value: `${segments.length} segments and ${corporateCidrs.length} corporate ranges`,
      message: `each segment's network ACL must deny ${isolatedRanges} ranges; expected at most ${MAX_ISOLATED_RANGES} (other segments plus corporate ranges), the entries a network ACL holds by default`,
    });
  }

  // Overlaps: every segment against every later segment and every corporate range.
  segments.forEach((s, i) => {
    segments.slice(i + 1).forEach((other, j) => {
      if (cidrsOverlap(s.vpcCidr, other.vpcCidr)) {
        issues.push({
          path: ['segments', i + 1 + j, 'vpcCidr'],
          value: other.vpcCidr,
          message: `overlaps segments[${i}].vpcCidr ${s.vpcCidr} (segment "${s.name}"); expected a range disjoint from every other segment`,
        });
      }
    });
    corporateCidrs.forEach((corporate, k) => {
      if (cidrsOverlap(s.vpcCidr, corporate)) {
        issues.push({
          path: ['segments', i, 'vpcCidr'],
          value: s.vpcCidr,
          message: `overlaps corporateCidrs[${k}] ${corporate}; expected a range disjoint from the corporate network`,
        });
      }
    });
  });
  issues.push(...pseudonymizationIssues(config), ...inferenceApiIssues(config));
  return issues;
}

type BaseConfig = z.output<typeof baseSchema>;

/** The segment of `kind` a feature runs in: the one named, or the only one of the kind. */
function segmentOfKind(config: BaseConfig, kind: SegmentKind, named: string | undefined): string | undefined {
  const ofKind = config.segments.filter((s) => s.kind === kind);
  return named ?? (ofKind.length === 1 ? ofKind[0].name : undefined);
}

/**
 * Problems with the segment a feature (`section`) names, or leaves to its default: it must be of
 * `kind`, and must be named when several are. Returns the named segment when it is valid.
 */
function segmentIssues(
  config: BaseConfig,
  section: 'inferenceApi' | 'pseudonymization',
  kind: SegmentKind,
  named: string | undefined,
  issues: Issue[],
): RawSegment | undefined {
  const ofKind = config.segments.filter((s) => s.kind === kind);
  if (named === undefined) {
    if (ofKind.length > 1) {
      issues.push({
        path: [section, 'segment'],
        message: `required when there are several ${kind} segments; expected one of ${ofKind.map((s) => s.name).join(', ')}`,
      });
    }
    return undefined;
  }
  const segment = config.segments.find((s) => s.name === named);
  if (!segment || segment.kind !== kind) {
    issues.push({
      path: [section, 'segment'],
      value: named,
      message: `expected the name of ${kind === 'inference' ? 'an' : 'a'} ${kind} segment (${ofKind.map((s) => s.name).join(', ') || 'none is configured'})`,
    });
    return undefined;
  }
  return segment;
}

function inferenceApiIssues(config: BaseConfig): Issue[] {
  const issues: Issue[] = [];
  const { segment, callers, throttle } = config.inferenceApi;
  const named = segmentIssues(config, 'inferenceApi', 'inference', segment, issues);
  // The API's segment, named or (the only inference segment) by default.
  const inference = config.segments.filter((s) => s.kind === 'inference');
  const apiSegment = named ?? (segment === undefined && inference.length === 1 ? inference[0] : undefined);
  if (apiSegment && !(apiSegment.interfaceEndpoints ?? ['execute-api']).includes('execute-api')) {
    issues.push({
      path: ['segments', config.segments.indexOf(apiSegment), 'interfaceEndpoints'],
      value: apiSegment.interfaceEndpoints,
      message:
        'the inference API is reached through the execute-api endpoint; expected a list with execute-api',
    });
  }
  if (throttle.burstLimit < throttle.rateLimit) {
    issues.push({
      path: ['inferenceApi', 'throttle', 'burstLimit'],
      value: throttle.burstLimit,
      message: `expected at least the rateLimit (${throttle.rateLimit})`,
    });
  }
  duplicates(callers.map((c) => c.name)).forEach(([at, first]) =>
    issues.push({
      path: ['inferenceApi', 'callers', at, 'name'],
      value: callers[at].name,
      message: `duplicate application name; callers[${first}] has it already`,
    }),
  );
  return issues;
}

function pseudonymizationIssues(config: BaseConfig): Issue[] {
  const issues: Issue[] = [];
  const { segment, datasets } = config.pseudonymization;
  segmentIssues(config, 'pseudonymization', 'pipeline', segment, issues);
  if (segment === undefined && datasets.length > 0 && !config.segments.some((s) => s.kind === 'pipeline')) {
    issues.push({
      path: ['pseudonymization', 'datasets'],
      value: `${datasets.length} dataset(s)`,
      message:
        'the stage runs in a pipeline segment and there is none; expected a segment of kind pipeline in segments',
    });
  }

  duplicates(datasets.map((d) => d.name)).forEach(([at, first]) =>
    issues.push({
      path: ['pseudonymization', 'datasets', at, 'name'],
      value: datasets[at].name,
      message: `duplicate dataset name; datasets[${first}] has it already`,
    }),
  );
  datasets.forEach((d, i) => {
    const at = (...rest: (string | number)[]) => ['pseudonymization', 'datasets', i, ...rest];
    datasets.slice(0, i).forEach((earlier, j) => {
      if (d.prefix.startsWith(earlier.prefix) || earlier.prefix.startsWith(d.prefix)) {
        issues.push({
          path: at('prefix'),
          value: d.prefix,
          message: `overlaps datasets[${j}].prefix ${earlier.prefix} (dataset "${earlier.name}"); expected prefixes of which none starts another, so each file belongs to one dataset`,
        });
      }
    });
    if (!d.rules.some((r) => r.transform === 'token')) {
      issues.push({
        path: at('rules'),
        value: d.rules.map((r) => `${r.field}:${r.transform}`),
        message:
          'expected at least one token rule: a dataset of patient records has a direct identifier (patient id, MRN), and it must be tokenised',
      });
    }
    duplicates(d.rules.map((r) => r.field)).forEach(([k, first]) =>
      issues.push({
        path: at('rules', k, 'field'),
        value: d.rules[k].field,
        message: `field already has a rule (rules[${first}]); expected one rule per field`,
      }),
    );
    d.rules.forEach((r, k) => {
      if (r.transform !== 'token' && (r.domain !== undefined || r.normalize !== undefined)) {
        issues.push({
          path: at('rules', k, r.domain !== undefined ? 'domain' : 'normalize'),
          value: r.domain ?? r.normalize,
          message: `applies to token rules only; this rule's transform is ${r.transform}`,
        });
      }
      if (r.transform !== 'zip3' && r.smallAreas !== undefined) {
        issues.push({
          path: at('rules', k, 'smallAreas'),
          value: r.smallAreas,
          message: `applies to zip3 rules only; this rule's transform is ${r.transform}`,
        });
      }
    });
    duplicates(d.safeFields).forEach(([k, first]) =>
      issues.push({
        path: at('safeFields', k),
        value: d.safeFields[k],
        message: `duplicate field; safeFields[${first}] has it already`,
      }),
    );
    d.safeFields.forEach((field, k) => {
      if (d.rules.some((r) => r.field === field)) {
        issues.push({
          path: at('safeFields', k),
          value: field,
          message:
            'the field has a rule; expected a field either transformed by a rule or listed as safe, not both',
        });
      }
    });
  });
  return issues;
}

/** The blueprint's configuration schema: every field has a default, so `{}` is the default blueprint. */
export const configSchema = baseSchema
  .superRefine((config, ctx) => {
    for (const { path, message, value } of crossFieldIssues(config)) {
      ctx.addIssue({ code: 'custom', path, message, params: { value } });
    }
  })
  .transform((config) => ({
    ...config,
    dnsFirewall: { managedDomainListIds: config.dnsFirewall.managedDomainListIds ?? [] },
    dataRetention: Object.fromEntries(
      DATA_CLASSIFICATIONS.map((c) => {
        const given = config.dataRetention[c];
        const defaults = DEFAULT_CLASSIFICATION_CONTROLS[c];
        return [
          c,
          {
            ...defaults,
            noncurrentVersionDays: given?.noncurrentVersionDays ?? defaults.noncurrentVersionDays,
            archiveAfterDays:
              given?.archiveAfterDays === undefined
                ? defaults.archiveAfterDays
                : (given.archiveAfterDays ?? undefined),
          },
        ];
      }),
    ) as Record<DataClassification, ClassificationControls>,
    pseudonymization: {
      ...config.pseudonymization,
      segment: segmentOfKind(config, 'pipeline', config.pseudonymization.segment),
    },
    inferenceApi: (() => {
      const segment = segmentOfKind(config, 'inference', config.inferenceApi.segment);
      return {
        ...config.inferenceApi,
        segment,
        endpointName:
          config.inferenceApi.endpointName ??
          (segment ? `${config.namePrefix}-${segment}-endpoint` : undefined),
      };
    })(),
    segments: config.segments.map(withKindDefaults),
  }));

export type BlueprintConfig = Readonly<z.output<typeof configSchema>>;
export type SegmentConfig = BlueprintConfig['segments'][number];
export type EnvironmentConfig = BlueprintConfig['environment'];
export type AuditConfig = BlueprintConfig['audit'];
export type DetectiveServicesConfig = BlueprintConfig['detectiveServices'];
export type PseudonymizationConfig = BlueprintConfig['pseudonymization'];
export type InferenceApiConfig = BlueprintConfig['inferenceApi'];

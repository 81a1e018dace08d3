import { z } from 'zod';
import { cidrsOverlap, parseCidr } from '../cidr';
import {
  DEFAULT_MANAGED_THREAT_GROUPS,
  FIREWALL_SUBNET_PREFIX,
  INTERFACE_ENDPOINTS,
  IPS_CATEGORIES,
  IPS_MODES,
  type IpsCategory,
  MANAGED_THREAT_GROUPS,
  MAX_ALLOWLIST_DOMAINS,
  PUBLIC_SUBNET_PREFIX,
} from '../network-defaults';
import { ZONE_CONTROLS } from '../../classification';
import { DATA_ZONES, type DataZone } from '../../contract/classification';
import { internetOpening } from '../../contract/metadata';
import { CODEARTIFACT_ASSET_BUCKETS } from '../../mirrors';
import { SEGMENT_KIND_PROFILES, SEGMENT_KINDS, type SegmentKind } from '../../segment-kinds';
import type { RawEnvironment } from './environment';
import { codeList, defaultText, ipv4Cidr, name } from './fields';
import { duplicates, eachItem, type CrossFieldRule, type ItemRule, type Issue } from './rules';

/** Kinds that never have an internet path. */
const OFFLINE_KINDS: readonly SegmentKind[] = SEGMENT_KINDS.filter(
  (kind) => SEGMENT_KIND_PROFILES[kind].internet === 'never',
);

/** The largest number of availability zones a segment may span. */
export const MAX_AZ_COUNT = 3;

/**
 * Ranges a segment's isolation ACL can deny: a network ACL holds 20 entries per direction by
 * default, and six of them are the closing allows.
 */
export const MAX_ISOLATED_RANGES = 14;

export const DEFAULT_SEGMENTS = [
  { name: 'development', kind: 'development', vpcCidr: '10.10.0.0/16' },
  { name: 'training', kind: 'training', vpcCidr: '10.20.0.0/16' },
  { name: 'inference', kind: 'inference', vpcCidr: '10.30.0.0/16' },
  { name: 'pipeline', kind: 'pipeline', vpcCidr: '10.40.0.0/16' },
] as const;

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
/** A domain name; with a leading dot, the domain and all its subdomains. */
const ALLOWED_DOMAIN = /^\.?(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

// Shape

const subnetPrefixLengths = z
  .strictObject({
    workload: z
      .number()
      .int('expected a whole number')
      .min(16, 'expected a prefix length from 16 to 28')
      .max(28, 'expected a prefix length from 16 to 28')
      .default(20)
      .describe(
        'Prefix length of each workload subnet (one per AZ); per zone a workload subnet, a `/28` firewall subnet and, with egress, a `/28` public subnet must fit in `vpcCidr`.',
      ),
  })
  .describe("Prefix lengths of the segment's subnets.");

const allowedDomain = z
  .string()
  .regex(
    ALLOWED_DOMAIN,
    'expected a lower-case domain name such as pypi.org, or .example.org for the domain and all its subdomains',
  );

const zoneName = z
  .string()
  .regex(DOMAIN, 'expected a lower-case DNS zone name such as research.example.internal');

const ipsMode = z.enum(IPS_MODES, { error: `expected one of ${IPS_MODES.join(', ')}` }).default('drop');
/** What each IDS/IPS rule category catches; a new category needs its line here. */
const IPS_CATEGORY_DESCRIPTIONS: Readonly<Record<IpsCategory, string>> = {
  crossSegment: "Traffic to or from another segment's range.",
  corporate: 'Traffic to or from the corporate ranges.',
  plaintextProtocols: 'FTP, telnet and unencrypted HTTP leaving the segment.',
  externalDns: "DNS, and DNS over TLS, to any resolver but the VPC's own.",
  nonTlsOn443: 'Anything but TLS on port 443.',
};
const ips = z
  .strictObject(
    Object.fromEntries(
      IPS_CATEGORIES.map((category) => [category, ipsMode.describe(IPS_CATEGORY_DESCRIPTIONS[category])]),
    ) as Record<IpsCategory, typeof ipsMode>,
  )
  .describe(
    "What the segment's IDS/IPS does with each rule category: `drop` blocks and alerts (IPS), `alert` logs only (IDS), `off` leaves the category's rules out.",
  );

const segment = z.strictObject({
  name: name('a segment name', 20).describe(
    'Unique; part of stack names and construct ids; lower-case letters, digits, single hyphens, at most 20 characters.',
  ),
  kind: z
    .enum(SEGMENT_KINDS, { error: `expected one of ${SEGMENT_KINDS.join(', ')}` })
    .describe(
      'The stage of the AI lifecycle the segment serves, which sets its defaults; `pipeline` runs the pseudonymization stage (no internet path, interface endpoint `kms` by default).',
    ),
  vpcCidr: ipv4Cidr(16, 28).describe(
    "The VPC's IPv4 range: `/16` to `/28`, the network address, disjoint from every other segment and every corporate range.",
  ),
  azCount: z
    .number()
    .int('expected a whole number')
    .min(1, `expected from 1 to ${MAX_AZ_COUNT} availability zones`)
    .max(MAX_AZ_COUNT, `expected from 1 to ${MAX_AZ_COUNT} availability zones`)
    .default(2)
    .describe(
      `Availability zones the segment spans, 1 to ${MAX_AZ_COUNT}: each zone costs a firewall endpoint (see Cost in the README); development may run in one.`,
    ),
  subnetPrefixLengths: subnetPrefixLengths.default(() => subnetPrefixLengths.parse({})),
  egressAllowlist: z
    .array(allowedDomain)
    .max(MAX_ALLOWLIST_DOMAINS, `expected at most ${MAX_ALLOWLIST_DOMAINS} domains`)
    .optional()
    .describe(
      `Internet domains the segment may reach through its firewall (TLS SNI and HTTP host); \`pypi.org\` matches exactly, \`.hf.co\` the domain and all its subdomains; lower-case, at most ${MAX_ALLOWLIST_DOMAINS}, no duplicates; \`[]\` means no internet path at all. Refused on training and pipeline segments, and on a segment that can read phi or pii data (development reads curated) unless \`acceptedRisks\` names its internet path (\`path SEGMENT -> internet: via-firewall\`).`,
    )
    .register(defaultText, {
      text: ((withDefaults) =>
        withDefaults.length === 0
          ? 'none, for every kind: no internet path'
          : [
              ...withDefaults.map(
                (k) => `${k}: ${codeList(SEGMENT_KIND_PROFILES[k].defaultEgressAllowlist)}`,
              ),
              'other kinds: none (no internet path)',
            ].join('; '))(
        SEGMENT_KINDS.filter((k) => SEGMENT_KIND_PROFILES[k].defaultEgressAllowlist.length > 0),
      ),
    }),
  internalDnsZones: z
    .array(zoneName)
    .default([])
    .describe("Private zones (and their subdomains) the segment's DNS firewall lets workloads resolve."),
  ips: ips.default(() => ips.parse({})),
  managedThreatGroups: z
    .array(z.enum(MANAGED_THREAT_GROUPS, { error: `expected one of ${MANAGED_THREAT_GROUPS.join(', ')}` }))
    .optional()
    .describe(
      'AWS managed Network Firewall rule groups (threat signatures and domains) added to the firewall policy, named without the `StrictOrder` suffix; `[]` for none.',
    )
    .register(defaultText, { text: codeList(DEFAULT_MANAGED_THREAT_GROUPS) }),
  interfaceEndpoints: z
    .array(z.enum(INTERFACE_ENDPOINTS, { error: `expected one of ${INTERFACE_ENDPOINTS.join(', ')}` }))
    .optional()
    .describe(
      "Interface endpoints of the segment, replacing its kind's list; no duplicates. The inference API's segment needs `execute-api`.",
    )
    .register(defaultText, {
      text: SEGMENT_KINDS.map(
        (kind) => `${kind}: ${codeList(SEGMENT_KIND_PROFILES[kind].defaultInterfaceEndpoints)}`,
      ).join('; '),
    }),
});

export const segmentsFields = {
  segments: z
    .array(segment)
    .min(1, 'expected at least one segment')
    .default(() => DEFAULT_SEGMENTS.map((s) => segment.parse(s)))
    .describe(
      'The segments: each one VPC, with its firewall, endpoints and guardrails, for one stage of the AI lifecycle; at least one.',
    )
    .register(defaultText, {
      text: DEFAULT_SEGMENTS.map((s) => `\`${s.name}\` (${s.kind}, \`${s.vpcCidr}\`)`).join(', '),
    }),
};

export type RawSegment = z.output<typeof segment>;

/** The segment's allowlist, or its kind's default; a non-empty one means an internet path. */
function egressAllowlistOf(s: RawSegment): readonly string[] {
  return s.egressAllowlist ?? SEGMENT_KIND_PROFILES[s.kind].defaultEgressAllowlist;
}

/** Fills in what a segment's kind decides when the config leaves it out. */
export function withKindDefaults(s: RawSegment) {
  return {
    ...s,
    egressAllowlist: [...egressAllowlistOf(s)],
    managedThreatGroups: [...(s.managedThreatGroups ?? DEFAULT_MANAGED_THREAT_GROUPS)],
    interfaceEndpoints: [
      ...(s.interfaceEndpoints ?? SEGMENT_KIND_PROFILES[s.kind].defaultInterfaceEndpoints),
    ],
  };
}

type WithSegments = { readonly segments: readonly RawSegment[] };

/** The segment of `kind` a feature runs in: the one named, or the only one of the kind. */
export function segmentOfKind(
  config: WithSegments,
  kind: SegmentKind,
  named: string | undefined,
): string | undefined {
  const ofKind = config.segments.filter((s) => s.kind === kind);
  return named ?? (ofKind.length === 1 ? ofKind[0].name : undefined);
}

/**
 * Problems with the segment a feature (`section`) names, or leaves to its default: it must be of
 * `kind`, and must be named when several are. Gives the named segment when it is valid.
 */
export function namedSegment(
  config: WithSegments,
  section: 'inferenceApi' | 'pseudonymization',
  kind: SegmentKind,
  named: string | undefined,
): { segment?: RawSegment; issues: Issue[] } {
  const ofKind = config.segments.filter((s) => s.kind === kind);
  if (named === undefined) {
    return {
      issues:
        ofKind.length > 1
          ? [
              {
                path: [section, 'segment'],
                message: `required when there are several ${kind} segments; expected one of ${ofKind.map((s) => s.name).join(', ')}`,
              },
            ]
          : [],
    };
  }
  const segment = config.segments.find((s) => s.name === named);
  if (!segment || segment.kind !== kind) {
    return {
      issues: [
        {
          path: [section, 'segment'],
          value: named,
          message: `expected the name of ${kind === 'inference' ? 'an' : 'a'} ${kind} segment (${ofKind.map((s) => s.name).join(', ') || 'none is configured'})`,
        },
      ],
    };
  }
  return { segment, issues: [] };
}

// Cross-field rules

type SegmentsContext = WithSegments & {
  readonly environment: RawEnvironment;
  readonly corporateCidrs: readonly string[];
  readonly acceptedRisks: readonly { readonly id: string; readonly opening: string }[];
};

/** The zones of personal data (phi or pii) whose perimeter admits requests from a segment of the kind. */
export function personalZonesOf(kind: SegmentKind): DataZone[] {
  return DATA_ZONES.filter(
    (zone) =>
      ZONE_CONTROLS[zone].segments.includes(kind) &&
      ['phi', 'pii'].includes(ZONE_CONTROLS[zone].classification),
  );
}

export const segmentNamesOnce: CrossFieldRule<WithSegments> = {
  requires: ['Each segment has a name of its own.'],
  check: ({ segments }) =>
    duplicates(segments.map((s) => s.name)).map(([at, first]) => ({
      path: ['segments', at, 'name'],
      value: segments[at].name,
      message: `duplicate segment name; segments[${first}] has it already`,
    })),
};

const azCountWithinZones: ItemRule<SegmentsContext, RawSegment> = {
  requires:
    'A segment spans at most as many zones as `environment.availabilityZones` lists, when it lists any.',
  check: (s, i, { environment }) => {
    const zones = environment.availabilityZones ?? [];
    return zones.length > 0 && s.azCount > zones.length
      ? [
          {
            path: ['segments', i, 'azCount'],
            value: s.azCount,
            message: `expected at most ${zones.length}, the number of environment.availabilityZones`,
          },
        ]
      : [];
  },
};

const subnetsFitVpc: ItemRule<SegmentsContext, RawSegment> = {
  requires: `In each zone, a workload subnet, a \`/${FIREWALL_SUBNET_PREFIX}\` firewall subnet and (with an internet path) a \`/${PUBLIC_SUBNET_PREFIX}\` public subnet fit in \`vpcCidr\`.`,
  check: (s, i) => {
    const vpc = parseCidr(s.vpcCidr, 16, 28).cidr;
    if (!vpc) return [];
    const workload = s.subnetPrefixLengths.workload;
    const internet = egressAllowlistOf(s).length > 0;
    // Tiers are allocated largest first, so each block stays aligned and the sizes simply add up.
    const perZone =
      2 ** (32 - workload) +
      2 ** (32 - FIREWALL_SUBNET_PREFIX) +
      (internet ? 2 ** (32 - PUBLIC_SUBNET_PREFIX) : 0);
    const available = 2 ** (32 - vpc.prefix);
    if (workload > vpc.prefix && s.azCount * perZone <= available) return [];
    const tiers = `workload /${workload} + firewall /${FIREWALL_SUBNET_PREFIX}${internet ? ` + public /${PUBLIC_SUBNET_PREFIX}` : ''}`;
    return [
      {
        path: ['segments', i, 'subnetPrefixLengths', 'workload'],
        value: workload,
        message: `${s.azCount} zone(s) × (${tiers}) = ${s.azCount * perZone} addresses do not fit in ${s.vpcCidr} (${available}); expected a longer workload prefix length or a larger vpcCidr`,
      },
    ];
  },
};

const offlineWithoutAllowlist: ItemRule<SegmentsContext, RawSegment> = {
  requires: `Segments of kind ${OFFLINE_KINDS.map((k) => `\`${k}\``).join(' and ')} have no \`egressAllowlist\`: they have no internet path.`,
  check: (s, i) =>
    OFFLINE_KINDS.includes(s.kind) && s.egressAllowlist && s.egressAllowlist.length > 0
      ? [
          {
            path: ['segments', i, 'egressAllowlist'],
            value: s.egressAllowlist,
            message: `${s.kind} segments have no internet path; expected no egressAllowlist (packages come from the CodeArtifact and ECR mirrors: see docs/package-mirrors.md)`,
          },
        ]
      : [],
};

const personalDataWithoutInternet: ItemRule<SegmentsContext, RawSegment> = {
  requires:
    'A segment that can read phi or pii data (development: curated) has an `egressAllowlist` only when `acceptedRisks` names its internet path (`path SEGMENT -> internet: via-firewall`, as the posture diff prints it): a domain allowlist is a way out for the data (uploads to an allowed site, any address behind an allowed TLS name).',
  check: (s, i, { acceptedRisks }) => {
    const zones = personalZonesOf(s.kind);
    if (zones.length === 0 || !s.egressAllowlist || s.egressAllowlist.length === 0) return [];
    const opening = internetOpening(s.name);
    // Named exactly: a pattern (`path * -> internet: *`) would open every segment, those to come included.
    if (acceptedRisks.some((r) => r.opening === opening)) return [];
    return [
      {
        path: ['segments', i, 'egressAllowlist'],
        value: s.egressAllowlist,
        message: `${s.kind} segments read ${zones.map((z) => `${z} (${ZONE_CONTROLS[z].classification})`).join(', ')}: an internet allowlist is a way out for that data; expected no egressAllowlist (packages come from the CodeArtifact and ECR mirrors: see docs/package-mirrors.md), or an acceptedRisks entry whose opening is exactly "${opening}"`,
      },
    ];
  },
};

const packageFilesBucketKnown: ItemRule<SegmentsContext, RawSegment> = {
  requires:
    'A segment with the `codeartifact-repositories` endpoint deploys to a region whose CodeArtifact assets bucket the blueprint lists (`lib/mirrors.ts`): its S3 endpoint admits that AWS-owned bucket, and only a reviewed change to the list may name another.',
  check: (s, i, { environment: { region } }) => {
    const endpoints = s.interfaceEndpoints ?? SEGMENT_KIND_PROFILES[s.kind].defaultInterfaceEndpoints;
    if (region === undefined || CODEARTIFACT_ASSET_BUCKETS[region] !== undefined) return [];
    if (!endpoints.includes('codeartifact-repositories')) return [];
    return [
      {
        path: ['segments', i, 'interfaceEndpoints'],
        value: endpoints,
        message: `CodeArtifact's assets bucket in ${region} is not in the blueprint's list (lib/mirrors.ts, from the CodeArtifact user guide: ${Object.keys(CODEARTIFACT_ASSET_BUCKETS).join(', ')}); expected a list without codeartifact-repositories, or the region's bucket added to the list (a reviewed change: its S3 endpoint admits that bucket)`,
      },
    ];
  },
};

const allowlistDomainsOnce: ItemRule<SegmentsContext, RawSegment> = {
  requires: "A segment's `egressAllowlist` names each domain once.",
  check: (s, i) =>
    duplicates(s.egressAllowlist ?? []).map(([at, first]) => ({
      path: ['segments', i, 'egressAllowlist', at],
      message: `duplicate domain; egressAllowlist[${first}] has it already`,
    })),
};

const endpointsOnce: ItemRule<SegmentsContext, RawSegment> = {
  requires: "A segment's `interfaceEndpoints` names each endpoint once.",
  check: (s, i) =>
    duplicates(s.interfaceEndpoints ?? []).map(([at, first]) => ({
      path: ['segments', i, 'interfaceEndpoints', at],
      message: `duplicate endpoint; interfaceEndpoints[${first}] has it already`,
    })),
};

export const eachSegment: CrossFieldRule<SegmentsContext> = eachItem(
  (config) => config.segments,
  [
    azCountWithinZones,
    subnetsFitVpc,
    offlineWithoutAllowlist,
    personalDataWithoutInternet,
    packageFilesBucketKnown,
    allowlistDomainsOnce,
    endpointsOnce,
  ],
);

export const isolationAclCapacity: CrossFieldRule<SegmentsContext> = {
  requires: [
    `The other segments plus the corporate ranges are at most ${MAX_ISOLATED_RANGES}: the ranges each segment's network ACL can deny with the entries it holds by default.`,
  ],
  check: ({ segments, corporateCidrs }) => {
    const isolatedRanges = segments.length - 1 + corporateCidrs.length;
    return isolatedRanges > MAX_ISOLATED_RANGES
      ? [
          {
            path: ['segments'],
            value: `${segments.length} segments and ${corporateCidrs.length} corporate ranges`,
            message: `each segment's network ACL must deny ${isolatedRanges} ranges; expected at most ${MAX_ISOLATED_RANGES} (other segments plus corporate ranges), the entries a network ACL holds by default`,
          },
        ]
      : [];
  },
};

export const disjointRanges: CrossFieldRule<SegmentsContext> = {
  requires: ["No segment's `vpcCidr` overlaps another segment's or a corporate range."],
  // Every segment against every later segment and every corporate range.
  check: ({ segments, corporateCidrs }) =>
    segments.flatMap((s, i) => [
      ...segments.slice(i + 1).flatMap((other, j) =>
        cidrsOverlap(s.vpcCidr, other.vpcCidr)
          ? [
              {
                path: ['segments', i + 1 + j, 'vpcCidr'],
                value: other.vpcCidr,
                message: `overlaps segments[${i}].vpcCidr ${s.vpcCidr} (segment "${s.name}"); expected a range disjoint from every other segment`,
              },
            ]
          : [],
      ),
      ...corporateCidrs.flatMap((corporate, k) =>
        cidrsOverlap(s.vpcCidr, corporate)
          ? [
              {
                path: ['segments', i, 'vpcCidr'],
                value: s.vpcCidr,
                message: `overlaps corporateCidrs[${k}] ${corporate}; expected a range disjoint from the corporate network`,
              },
            ]
          : [],
      ),
    ]),
};

import type { DataClassification, DataZone } from './contract/classification';
import type { InterfaceEndpointName } from './config/network-defaults';

/**
 * The stage of the AI lifecycle a segment serves; it sets the segment's defaults. A `pipeline`
 * segment runs the pseudonymization stage between the raw and curated zones, with no internet.
 */
export const SEGMENT_KINDS = ['development', 'training', 'inference', 'pipeline'] as const;
export type SegmentKind = (typeof SEGMENT_KINDS)[number];

/** Access to a data zone's objects; `prefix` limits writes to the keys under it. */
export interface ZoneAccess {
  readonly zone: DataZone;
  readonly prefix?: string;
}

/** What the SageMaker execution role of a segment of the kind does. */
export interface SageMakerProfile {
  /** Zones whose objects the role reads. */
  readonly reads: readonly DataZone[];
  /** Zones (or prefixes of them) the role writes. */
  readonly writes: readonly ZoneAccess[];
  /** What the segment's own key (its SageMaker volumes and storage) holds. */
  readonly volumeClassification: DataClassification;
  /**
   * Work the role may start in segments of another kind, each pinned there by guardrail
   * conditions (subnets, security group, network isolation, encryption, keys).
   * `jobs`: training and processing jobs.
   */
  readonly launches?: { readonly jobs: SegmentKind };
  /** The ML engineer deploys models here as endpoints (isolated, with the segment key). */
  readonly hostsEndpoints: boolean;
  /** A SageMaker Studio domain (its workload stack), in VPC-only mode. */
  readonly studio: boolean;
  /**
   * The role reads the CodeArtifact mirrors (pip and npm in Studio, configured by the domain's
   * lifecycle configuration); its segment needs the CodeArtifact endpoints.
   */
  readonly packages: boolean;
  /** The log groups SageMaker creates on first use for this kind's work, made beforehand. */
  readonly logGroups: readonly string[];
}

/** Everything a segment's kind decides. Adding a kind is one entry in SEGMENT_KIND_PROFILES. */
export interface SegmentKindProfile {
  /** One line for the docs. */
  readonly purpose: string;
  /**
   * `allowlist`: may reach allowlisted internet domains through the segment's firewall (an empty
   * allowlist closes the path); `never`: no internet path, and an allowlist is a config error.
   */
  readonly internet: 'allowlist' | 'never';
  /** The allowlist a segment of the kind gets when its config leaves it out. */
  readonly defaultEgressAllowlist: readonly string[];
  /** The interface endpoints a segment of the kind gets unless it lists its own. */
  readonly defaultInterfaceEndpoints: readonly InterfaceEndpointName[];
  /** Zones whose perimeter admits requests through the segment's S3 gateway endpoint. */
  readonly zonePath: readonly DataZone[];
  /** SageMaker work in the segment; undefined: none (no execution role, no segment key). */
  readonly sagemaker?: SageMakerProfile;
}

/** Where inference endpoints capture their requests and responses, in the models zone. */
export const DATA_CAPTURE_PREFIX = 'data-capture/';

const COMMON_ENDPOINTS: InterfaceEndpointName[] = ['ecr-api', 'ecr-dkr', 'logs', 'monitoring', 'sts', 'kms'];

export const SEGMENT_KIND_PROFILES: Readonly<Record<SegmentKind, SegmentKindProfile>> = {
  development: {
    purpose: 'Data scientists explore curated data in SageMaker Studio and start training jobs',
    // No internet by default: packages come from the mirrors (the mirrors stack).
    // An allowlist needs an accepted risk, as the segment reads curated (pii) data.
    internet: 'allowlist',
    defaultEgressAllowlist: [],
    // SageMaker Studio in VpcOnly mode needs the API, runtime, notebook and Studio endpoints;
    // pip and npm in Studio reach the CodeArtifact mirrors through theirs.
    defaultInterfaceEndpoints: [
      'sagemaker-api',
      'sagemaker-runtime',
      'sagemaker-notebook',
      'sagemaker-studio',
      'codeartifact-api',
      'codeartifact-repositories',
      ...COMMON_ENDPOINTS,
    ],
    zonePath: ['curated'],
    sagemaker: {
      reads: ['curated'],
      writes: [],
      volumeClassification: 'pii',
      launches: { jobs: 'training' },
      hostsEndpoints: false,
      studio: true,
      packages: true,
      logGroups: ['/aws/sagemaker/studio'],
    },
  },
  training: {
    purpose: 'Training and processing jobs on curated data; they write model artifacts',
    internet: 'never',
    defaultEgressAllowlist: [],
    defaultInterfaceEndpoints: ['sagemaker-api', 'sagemaker-runtime', ...COMMON_ENDPOINTS],
    zonePath: ['curated', 'models'],
    sagemaker: {
      reads: ['curated'],
      writes: [{ zone: 'models' }],
      volumeClassification: 'pii',
      hostsEndpoints: false,
      studio: false,
      packages: false,
      logGroups: ['/aws/sagemaker/TrainingJobs', '/aws/sagemaker/ProcessingJobs'],
    },
  },
  inference: {
    purpose: 'SageMaker endpoints serve models, behind the private inference API',
    internet: 'allowlist',
    defaultEgressAllowlist: [],
    // execute-api carries the private inference API.
    defaultInterfaceEndpoints: ['sagemaker-api', 'sagemaker-runtime', 'execute-api', ...COMMON_ENDPOINTS],
    zonePath: ['models'],
    sagemaker: {
      // Reads model artifacts; writes what its endpoints capture, under data-capture/ only.
      reads: ['models'],
      writes: [{ zone: 'models', prefix: DATA_CAPTURE_PREFIX }],
      volumeClassification: 'proprietary',
      hostsEndpoints: true,
      studio: false,
      packages: false,
      // The inference API's endpoint log group is named by the API's config, not by the kind.
      logGroups: [],
    },
  },
  pipeline: {
    purpose: 'The pseudonymization stage between the raw and curated zones; no SageMaker work',
    internet: 'never',
    defaultEgressAllowlist: [],
    // The pseudonymization function calls KMS (GenerateMac), Step Functions (it starts large
    // objects' runs) and S3 (the gateway endpoint); Lambda delivers its logs and dead letters
    // itself, outside the VPC.
    defaultInterfaceEndpoints: ['kms', 'states'],
    zonePath: ['raw', 'curated', 'quarantine'],
  },
};

/** The kinds whose segments run SageMaker work, with what that work does. */
export function sageMakerKinds(): [SegmentKind, SageMakerProfile][] {
  return SEGMENT_KINDS.flatMap((kind) => {
    const sagemaker = SEGMENT_KIND_PROFILES[kind].sagemaker;
    return sagemaker ? [[kind, sagemaker] as [SegmentKind, SageMakerProfile]] : [];
  });
}

/** For exhaustive switches over kinds: a new kind fails to compile until it is handled. */
export function unhandledKind(kind: never): never {
  throw new Error(`segment kind ${String(kind)} is not handled`);
}

/** The page written to docs/segment-kinds.md by `npm run docs:config`. */
export const SEGMENT_KINDS_FILE = 'docs/segment-kinds.md';

/** What each kind decides, as Markdown, from the profiles above. */
export function segmentKindsReference(): string {
  const code = (values: readonly string[]) =>
    values.length > 0 ? values.map((v) => `\`${v}\``).join(', ') : 'none';
  const sections = SEGMENT_KINDS.map((kind) => {
    const p = SEGMENT_KIND_PROFILES[kind];
    const lines = [
      `## ${kind}`,
      '',
      `${p.purpose}.`,
      '',
      `- Internet: ${p.internet === 'never' ? 'never (an `egressAllowlist` is a config error)' : `only the domains of \`egressAllowlist\`; default ${code(p.defaultEgressAllowlist)}; on a segment that can read phi or pii data, an allowlist needs an accepted risk`}`,
      `- Interface endpoints (default): ${code(p.defaultInterfaceEndpoints)}`,
      `- Zones its S3 endpoint may carry requests to: ${code(p.zonePath)}`,
    ];
    const s = p.sagemaker;
    if (!s) {
      lines.push('- SageMaker: none (no execution role, no segment key)');
    } else {
      lines.push(
        `- SageMaker execution role reads: ${code(s.reads)}`,
        `- SageMaker execution role writes: ${code(s.writes.map((w) => `${w.zone}${w.prefix ? `/${w.prefix}` : ''}`))}`,
        `- Segment key (volumes and storage) holds: \`${s.volumeClassification}\` data`,
        `- Starts training and processing jobs in: ${s.launches ? `\`${s.launches.jobs}\` segments, pinned there by guardrail conditions` : 'none'}`,
        `- Hosts models as endpoints (the ML engineer deploys them): ${s.hostsEndpoints ? 'yes' : 'no'}`,
        `- SageMaker Studio domain: ${s.studio ? 'yes (VPC only)' : 'no'}`,
        `- Reads the package mirrors (pip and npm through CodeArtifact): ${s.packages ? 'yes' : 'no'}`,
        `- SageMaker log groups made beforehand: ${code(s.logGroups)}`,
      );
    }
    return lines.join('\n');
  });
  return [
    '# Segment kinds',
    '',
    '<!-- Generated from lib/segment-kinds.ts by `npm run docs:config`; do not edit by hand. -->',
    '',
    "What a segment's `kind` decides. A segment's config can replace the defaults (`egressAllowlist`, `interfaceEndpoints`); the rest follows from the kind. To add a kind, see [CONTRIBUTING](../CONTRIBUTING.md#add-a-segment-kind).",
    '',
    sections.join('\n\n'),
    '',
  ].join('\n');
}

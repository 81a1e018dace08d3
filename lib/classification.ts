import { IMPORTED_PREFIX } from './airlock';
import { Tags } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { DATA_CLASSIFICATION_TAG, type DataClassification, type DataZone } from './contract/classification';
import {
  SEGMENT_KIND_PROFILES,
  SEGMENT_KINDS,
  sageMakerKinds,
  type SageMakerProfile,
  type SegmentKind,
} from './segment-kinds';

/** Tags a data store (and the resources inside the construct) with its classification. */
export function classify(scope: IConstruct, classification: DataClassification): void {
  Tags.of(scope).add(DATA_CLASSIFICATION_TAG, classification);
}

/** The roles of the blueprint that touch zones by name (not per segment). */
export type NamedZoneActor =
  | 'ingestion'
  | 'pseudonymization'
  | 'data-scientist'
  | 'break-glass'
  | 'legal-hold'
  | 'airlock'
  | 'airlock-export';

/**
 * Who may touch a zone. Roles are named by their place in the blueprint: `pseudonymization`,
 * `ingestion` (the configured uploader), `data-scientist`, `break-glass`, `legal-hold` (who places
 * and lifts legal holds), `airlock` (its worker,
 * which copies approved imports, when the config has an airlock), `airlock-export` (its exporter,
 * which stages what a requester asks out, on the zones the config's export names), and the SageMaker
 * execution role of each segment kind (the kind's name: `development`, `training`, `inference`).
 */
export type ZoneActor = NamedZoneActor | SegmentKind;

export interface ZoneControls {
  readonly classification: DataClassification;
  readonly description: string;
  /** May read objects. */
  readonly readers: readonly ZoneActor[];
  /** May write objects. */
  readonly writers: readonly ZoneActor[];
  /**
   * The kinds of segment whose S3 endpoints may carry requests to the zone; requests through any
   * other path are refused unless they come from a role listed in `offNetwork`.
   */
  readonly segments: readonly SegmentKind[];
  /** Roles that reach the zone without a segment's endpoint (an uploader outside AWS, break-glass). */
  readonly offNetwork: readonly ZoneActor[];
  /** Roles that may write under one prefix only (an endpoint's captured requests and responses). */
  readonly prefixWriters?: readonly { readonly actor: ZoneActor; readonly prefix: string }[];
}

/**
 * Stands, in a zone's readers or writers, for the SageMaker execution roles of the segment kinds
 * whose profile reads (or writes the whole of) the zone, in the order of SEGMENT_KINDS.
 */
const SEGMENT_ROLES = 'segment-roles';

interface ZoneDeclaration {
  readonly classification: DataClassification;
  readonly description: string;
  readonly readers: readonly (NamedZoneActor | typeof SEGMENT_ROLES)[];
  readonly writers: readonly (NamedZoneActor | typeof SEGMENT_ROLES)[];
  readonly offNetwork: readonly NamedZoneActor[];
  readonly prefixWriters?: readonly { readonly actor: NamedZoneActor; readonly prefix: string }[];
}

/** The named roles of each zone; the segment kinds' part comes from their profiles. */
const ZONE_DECLARATIONS: Readonly<Record<DataZone, ZoneDeclaration>> = {
  raw: {
    classification: 'phi',
    description: 'Raw patient data as it lands; read only by the pseudonymization stage',
    readers: ['pseudonymization', 'break-glass'],
    writers: ['ingestion', 'airlock'],
    // The stage reads through its pipeline segment's endpoint; uploads come from outside, and the
    // airlock copies approved datasets in from its import zone.
    offNetwork: ['ingestion', 'airlock', 'break-glass'],
  },
  curated: {
    classification: 'pii',
    description: 'Pseudonymized records that development and training work on',
    readers: ['data-scientist', SEGMENT_ROLES, 'break-glass', 'airlock-export'],
    writers: ['pseudonymization'],
    offNetwork: ['break-glass', 'airlock-export'],
  },
  models: {
    classification: 'proprietary',
    description: 'Model artifacts that training writes and inference serves',
    readers: [SEGMENT_ROLES, 'break-glass', 'airlock-export'],
    writers: [SEGMENT_ROLES],
    // Approved imports land under imported/, never in place of what training wrote.
    prefixWriters: [{ actor: 'airlock', prefix: IMPORTED_PREFIX }],
    offNetwork: ['airlock', 'break-glass', 'airlock-export'],
  },
  quarantine: {
    classification: 'phi',
    description: 'Records the pseudonymization stage could not process, kept with the reason',
    readers: ['break-glass'],
    writers: ['pseudonymization'],
    offNetwork: ['break-glass'],
  },
};

function zoneControls(zone: DataZone): ZoneControls {
  const declared = ZONE_DECLARATIONS[zone];
  const kinds = (touches: (p: SageMakerProfile) => boolean) =>
    sageMakerKinds()
      .filter(([, profile]) => touches(profile))
      .map(([kind]) => kind);
  const expand = (
    actors: readonly (NamedZoneActor | typeof SEGMENT_ROLES)[],
    touches: (p: SageMakerProfile) => boolean,
  ): ZoneActor[] => actors.flatMap((a) => (a === SEGMENT_ROLES ? kinds(touches) : [a]));
  const prefixWriters: { actor: ZoneActor; prefix: string }[] = [
    ...sageMakerKinds().flatMap(([actor, profile]) =>
      profile.writes.flatMap((w) => (w.zone === zone && w.prefix ? [{ actor, prefix: w.prefix }] : [])),
    ),
    ...(declared.prefixWriters ?? []),
  ];
  return {
    classification: declared.classification,
    description: declared.description,
    readers: expand(declared.readers, (p) => p.reads.includes(zone)),
    writers: expand(declared.writers, (p) => p.writes.some((w) => w.zone === zone && !w.prefix)),
    segments: SEGMENT_KINDS.filter((kind) => SEGMENT_KIND_PROFILES[kind].zonePath.includes(zone)),
    offNetwork: declared.offNetwork,
    ...(prefixWriters.length > 0 ? { prefixWriters } : {}),
  };
}

/**
 * The one place the data zones' access is declared: the named roles here, the segment kinds'
 * execution roles in their profiles (lib/segment-kinds.ts). The data stack turns it into bucket
 * policies and key policies, the identity stack into role policies, and tests read it back.
 */
export const ZONE_CONTROLS: Readonly<Record<DataZone, ZoneControls>> = {
  raw: zoneControls('raw'),
  curated: zoneControls('curated'),
  models: zoneControls('models'),
  quarantine: zoneControls('quarantine'),
};

/** Per classification: how long versions are kept and when objects move to colder storage. */
export interface ClassificationControls {
  /** Days after which an object moves to Glacier Instant Retrieval; undefined: never. */
  readonly archiveAfterDays?: number;
  /** Days a noncurrent (overwritten or deleted) version is kept before it expires. */
  readonly noncurrentVersionDays: number;
  /**
   * Object Lock on the zones of this class. `holds-only`: on, with no default retention, so that
   * records can be put under legal hold while data subjects can still have theirs erased.
   */
  readonly objectLock: 'holds-only';
}

export const DEFAULT_CLASSIFICATION_CONTROLS: Readonly<Record<DataClassification, ClassificationControls>> = {
  phi: { archiveAfterDays: 90, noncurrentVersionDays: 2192, objectLock: 'holds-only' },
  pii: { archiveAfterDays: 180, noncurrentVersionDays: 365, objectLock: 'holds-only' },
  proprietary: { archiveAfterDays: undefined, noncurrentVersionDays: 365, objectLock: 'holds-only' },
  public: { archiveAfterDays: undefined, noncurrentVersionDays: 30, objectLock: 'holds-only' },
};

import { Tags } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { DATA_CLASSIFICATION_TAG, type DataClassification, type DataZone } from './contract/classification';

/** Tags a data store (and the resources inside the construct) with its classification. */
export function classify(scope: IConstruct, classification: DataClassification): void {
  Tags.of(scope).add(DATA_CLASSIFICATION_TAG, classification);
}

/**
 * Who may touch a zone. Roles are named by their place in the blueprint: `pseudonymization`,
 * `ingestion` (the configured uploader), `data-scientist`, `break-glass`, and the SageMaker
 * execution role of each segment kind (`development`, `training`, `inference`).
 */
export type ZoneActor =
  | 'ingestion'
  | 'pseudonymization'
  | 'data-scientist'
  | 'break-glass'
  | 'development'
  | 'training'
  | 'inference';

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
  readonly segments: readonly ('development' | 'training' | 'inference' | 'pipeline')[];
  /** Roles that reach the zone without a segment's endpoint (an uploader outside AWS, break-glass). */
  readonly offNetwork: readonly ZoneActor[];
  /** Roles that may write under one prefix only (an endpoint's captured requests and responses). */
  readonly prefixWriters?: readonly { readonly actor: ZoneActor; readonly prefix: string }[];
}

/** Where inference endpoints capture their requests and responses, in the models zone. */
export const DATA_CAPTURE_PREFIX = 'data-capture/';

/**
 * The one place the data zones' access is declared. The data stack turns it into bucket policies
 * and key policies, the workload stacks into role policies, and tests read it back.
 */
export const ZONE_CONTROLS: Readonly<Record<DataZone, ZoneControls>> = {
  raw: {
    classification: 'phi',
    description: 'Raw patient data as it lands; read only by the pseudonymization stage',
    readers: ['pseudonymization', 'break-glass'],
    writers: ['ingestion'],
    // The stage reads through its pipeline segment's endpoint; uploads come from outside.
    segments: ['pipeline'],
    offNetwork: ['ingestion', 'break-glass'],
  },
  curated: {
    classification: 'pii',
    description: 'Pseudonymized records that development and training work on',
    readers: ['data-scientist', 'development', 'training', 'break-glass'],
    writers: ['pseudonymization'],
    segments: ['development', 'training', 'pipeline'],
    offNetwork: ['break-glass'],
  },
  models: {
    classification: 'proprietary',
    description: 'Model artifacts that training writes and inference serves',
    readers: ['training', 'inference', 'break-glass'],
    writers: ['training'],
    segments: ['training', 'inference'],
    offNetwork: ['break-glass'],
    // Endpoints write the data they capture with the model's (inference) execution role.
    prefixWriters: [{ actor: 'inference', prefix: 'data-capture/' }],
  },
  quarantine: {
    classification: 'phi',
    description: 'Records the pseudonymization stage could not process, kept with the reason',
    readers: ['break-glass'],
    writers: ['pseudonymization'],
    segments: ['pipeline'],
    offNetwork: ['break-glass'],
  },
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

/**
 * Template metadata key of a network stack: the ranges no segment may reach and the flows the
 * config declares (the only allowed exceptions), as {@link SegmentationMetadata}.
 */
export const SEGMENTATION_METADATA_KEY = 'ai-segmentation';

/** What a network stack's template holds under {@link SEGMENTATION_METADATA_KEY}. */
export interface SegmentationMetadata {
  /** The corporate network's ranges. */
  readonly corporateCidrs?: string[];
  /** Flows the config declares, the only allowed exceptions to invariant 1: `from`/`to` segment names. */
  readonly declaredFlows?: { from: string; to: string; ports?: string }[];
}

/**
 * Template metadata key of the audit stack: the config the app was built from, as the command
 * line named it (a path relative to the project, or `built-in defaults`), for the verifier's
 * provenance.
 */
export const CONFIG_SOURCE_METADATA_KEY = 'ai-segmentation:config-source';

/**
 * Template metadata key of the audit stack: the config's `acceptedRisks` (when there are any),
 * which the verifier's posture diff cites beside the openings they cover.
 */
export const ACCEPTED_RISKS_METADATA_KEY = 'ai-segmentation:accepted-risks';

/** An accepted risk as the audit stack's metadata records it (the config's `acceptedRisks[]`). */
export interface AcceptedRiskRecord {
  readonly id: string;
  /** A posture-diff opening; `*` stands for any run of characters. */
  readonly opening: string;
  readonly reason: string;
  readonly approvedBy: string;
  /** YYYY-MM-DD, the last day it covers the opening. */
  readonly expires: string;
}

/**
 * The posture-diff opening of a segment's internet path through its firewall allowlist: what an
 * accepted risk must name (or match) for a segment that can read phi or pii data to keep an
 * allowlist, and what the verifier's exfiltration matrix looks for.
 */
export function internetOpening(segment: string): string {
  return `path ${segment} -> internet: via-firewall`;
}

/**
 * Template metadata key of a role whose trust names no principal (its trust policy denies every
 * principal): the config field that would name them, for the synth warning and the preflight.
 */
export const TRUSTS_NO_ONE_METADATA_KEY = 'ai-segmentation:trusts-no-one';

import type { RulesSummary } from './rules';
import type { TransformResult } from './transform';

/**
 * Where a file came from or went: a bucket (or a local directory, in a dry run) and a key. A raw
 * object's key (which may name a patient) is never written outside the raw-class zones: the
 * deployed stage records its keyed hash (`keyToken`) instead.
 */
export interface ObjectLocation {
  readonly bucket: string;
  readonly key?: string;
  /** The HMAC of the raw object's key under the stage's key, in place of the key. */
  readonly keyToken?: string;
  readonly versionId?: string;
}

/**
 * The manifest written beside each curated file. Training checks the file it reads against
 * `output.sha256` (the SHA-256 of the whole object; S3 holds the same as the object's checksum
 * when it was written in one part, a checksum of its parts' checksums when in several) and the
 * source it came from, so a file changed after the stage wrote it is detected. It holds counts
 * and hashes, never values.
 */
export interface Manifest {
  /** 2 since tokens are scoped (token scheme 2); a manifest of version 1 was made with scheme 1. */
  readonly manifestVersion: 2;
  readonly stage: 'pseudonymization';
  readonly dataset: string;
  readonly ruleVersion: string;
  /** The key whose MACs are the tokens (and a name for it, where the function is given one). */
  readonly hmac: { readonly algorithm: 'HMAC_SHA_256'; readonly keyId: string; readonly keyName?: string };
  /** The token scheme and scope, each tokenised field's normaliser, the small-area list, Safe Harbor's over-89 rule. */
  readonly rules: RulesSummary;
  /** The date ages were computed on from birth dates (the day the raw object was received). */
  readonly asOf: string;
  readonly source: ObjectLocation & {
    readonly sha256: string;
    readonly bytes: number;
    readonly records: number;
  };
  readonly output: ObjectLocation & {
    readonly sha256: string;
    readonly bytes: number;
    readonly records: number;
  };
  readonly quarantine: {
    readonly records: number;
    readonly reasons: Readonly<Record<string, number>>;
    readonly location?: ObjectLocation;
  };
}

/** The manifest's key: beside the curated file. */
export const manifestKey = (key: string) => `${key}.manifest.json`;
/** Records set aside from a file: beside the file's key in the quarantine zone. */
export const rejectedKey = (key: string) => `${key}.rejected.jsonl`;
/** Why a whole file was set aside: beside its copy in the quarantine zone. */
export const reasonKey = (key: string) => `${key}.reason.json`;

export function buildManifest(
  result: TransformResult,
  where: {
    readonly source: ObjectLocation;
    readonly output: ObjectLocation;
    readonly quarantine?: ObjectLocation;
    readonly hmacKeyId: string;
    readonly hmacKeyName?: string;
  },
): Manifest {
  return {
    manifestVersion: 2,
    stage: 'pseudonymization',
    dataset: result.dataset,
    ruleVersion: result.ruleVersion,
    hmac: {
      algorithm: 'HMAC_SHA_256',
      keyId: where.hmacKeyId,
      ...(where.hmacKeyName ? { keyName: where.hmacKeyName } : {}),
    },
    rules: result.rules,
    asOf: result.asOf,
    source: { ...where.source, ...result.input },
    output: { ...where.output, ...result.output },
    quarantine: {
      records: result.quarantined.records,
      reasons: result.quarantined.reasons,
      ...(result.quarantined.records > 0 && where.quarantine ? { location: where.quarantine } : {}),
    },
  };
}

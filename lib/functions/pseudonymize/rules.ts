import { createHash } from 'node:crypto';

/**
 * What the pseudonymization stage does with a field. Direct identifiers become keyed tokens;
 * quasi-identifiers are generalised. A field no rule names is dropped unless the dataset lists it
 * as safe.
 */
export const TRANSFORMS = ['token', 'date-to-year', 'date-to-month', 'age', 'zip3'] as const;
export type TransformName = (typeof TRANSFORMS)[number];

/** How a direct identifier is normalised before it is tokenised, so that spellings agree. */
export const NORMALIZERS = ['trim', 'lowercase', 'digits'] as const;
export type Normalizer = (typeof NORMALIZERS)[number];

export const DATASET_FORMATS = ['csv', 'jsonl'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/**
 * Three-digit ZIP code prefixes whose areas held 20,000 people or fewer (HHS Safe Harbor guidance,
 * 2000 census): they generalise to 000.
 */
export const SMALL_ZIP3_AREAS = [
  '036',
  '059',
  '063',
  '102',
  '203',
  '556',
  '692',
  '790',
  '821',
  '823',
  '830',
  '831',
  '878',
  '879',
  '884',
  '890',
  '893',
] as const;

export interface FieldRule {
  /** The field (CSV column or JSON property) the rule applies to. */
  readonly field: string;
  readonly transform: TransformName;
  /**
   * For `token`: the identifier domain, part of what is MACed, so that the same patient id maps
   * to the same token in every dataset that names the same domain. Default: the field name.
   */
  readonly domain?: string;
  /** For `token`: how the value is normalised first. Default: trim. */
  readonly normalize?: Normalizer;
  /** For `zip3`: prefixes that generalise to 000. Default: SMALL_ZIP3_AREAS. */
  readonly smallAreas?: readonly string[];
  /** A record without the field (or with it empty) is kept, the field empty; otherwise it is quarantined. */
  readonly optional?: boolean;
}

export interface DatasetRules {
  /** Unique name; appears in manifests and quarantine reasons. */
  readonly name: string;
  /** Raw-zone key prefix of the dataset's objects; prefixes of datasets never overlap. */
  readonly prefix: string;
  readonly format: DatasetFormat;
  readonly rules: readonly FieldRule[];
  /** Fields passed through unchanged: reviewed and judged not to identify anyone. */
  readonly safeFields: readonly string[];
}

/**
 * A short, stable fingerprint of a dataset's rules: the manifest records it, so a reader can tell
 * which rules produced a file, and a change of rules is visible.
 */
export function ruleVersion(dataset: DatasetRules): string {
  const canonical = JSON.stringify({
    format: dataset.format,
    rules: dataset.rules.map((r) => ({
      field: r.field,
      transform: r.transform,
      domain: r.transform === 'token' ? (r.domain ?? r.field) : undefined,
      normalize: r.transform === 'token' ? (r.normalize ?? 'trim') : undefined,
      smallAreas: r.transform === 'zip3' ? [...(r.smallAreas ?? SMALL_ZIP3_AREAS)].sort() : undefined,
      optional: r.optional === true,
    })),
    safeFields: [...dataset.safeFields].sort(),
  });
  return `sha256:${createHash('sha256').update(canonical).digest('hex').slice(0, 16)}`;
}

/** The dataset whose prefix the key starts with (prefixes do not overlap, so at most one). */
export function datasetFor(datasets: readonly DatasetRules[], key: string): DatasetRules | undefined {
  return datasets.find((d) => key.startsWith(d.prefix));
}

import { createHash } from 'node:crypto';
import { HHS_SMALL_ZIP3 } from './small-areas';

/**
 * What the pseudonymization stage does with a field. Direct identifiers become keyed tokens;
 * quasi-identifiers are generalised; `object` applies rules of its own to the properties of a
 * JSON object (or of each object of an array). A field no rule names is dropped unless the
 * dataset lists it as safe.
 */
export const TRANSFORMS = ['token', 'date-to-year', 'date-to-month', 'age', 'zip3', 'object'] as const;
export type TransformName = (typeof TRANSFORMS)[number];

/** The transforms that generalise a date: Safe Harbor's over-89 rule applies to their fields. */
export const DATE_TRANSFORMS: ReadonlySet<TransformName> = new Set(['date-to-year', 'date-to-month']);

/**
 * How a direct identifier is normalised before it is tokenised, so that spellings agree. Every
 * one first puts the text in Unicode NFC and trims it; `name` also case-folds and collapses
 * spaces, `email` lower-cases and checks the address has one `@`, `phone` writes the number in
 * E.164 (`+16175550101`) by libphonenumber-js, with the dataset's default country for numbers
 * written without one.
 */
export const NORMALIZERS = ['trim', 'lowercase', 'digits', 'name', 'email', 'phone'] as const;
export type Normalizer = (typeof NORMALIZERS)[number];

export const DATASET_FORMATS = ['csv', 'jsonl'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/**
 * The version of how tokens are made, recorded in every manifest. 1: HMAC of `domain \0 value`,
 * the same in every dataset (manifests of version 1 carry no token scheme). 2: HMAC of
 * `scope \0 domain \0 value`, the scope being the dataset or its linkage group, values
 * normalised in NFC.
 */
export const TOKEN_SCHEME = 2;

/** What happens to the dates of a patient aged 90 or more (HIPAA Safe Harbor). */
export const OVER_89_DATES = ['aggregate', 'remove'] as const;
export type Over89Dates = (typeof OVER_89_DATES)[number];

export interface FieldRule {
  /** The field (CSV column or JSON property) the rule applies to. */
  readonly field: string;
  readonly transform: TransformName;
  /**
   * For `token`: the identifier domain, part of what is MACed beside the token scope, so that
   * the same patient id maps to the same token in every dataset of a linkage group that names
   * the same domain. Default: the field name.
   */
  readonly domain?: string;
  /** For `token`: how the value is normalised first. Default: trim. */
  readonly normalize?: Normalizer;
  /** For `zip3`: prefixes that generalise to 000, besides the HHS list (or instead, with `replaceSmallAreas`). */
  readonly smallAreas?: readonly string[];
  /** For `zip3`: `smallAreas` replaces the HHS list instead of adding to it. */
  readonly replaceSmallAreas?: boolean;
  /** For `object`: the rules of its properties. */
  readonly rules?: readonly FieldRule[];
  /** For `object`: its properties passed through unchanged. */
  readonly safeFields?: readonly string[];
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
  /**
   * CSV columns that may hold line breaks (in quoted fields). A line break in any other column
   * quarantines its record: it is what a stray opening quote that swallows records looks like.
   */
  readonly multilineFields?: readonly string[];
  /**
   * Safe Harbor's over-89 rule: for a patient aged 90 or more (by the `age` rule's field, or
   * computed from `birthDate` on the date the file was received), every date field is
   * aggregated to `90+` or removed.
   */
  readonly over89?: { readonly birthDate?: string; readonly dates?: Over89Dates };
  /** The country of phone numbers written without one (ISO 3166 alpha-2). Default: US. */
  readonly phoneCountry?: string;
  /**
   * Tokens are equal only within one scope: the dataset (`dataset:<name>`, the default) or the
   * linkage group it is in (`group:<name>`).
   */
  readonly tokenScope?: string;
}

/** A dataset's token scope: its linkage group's, or its own. */
export function tokenScope(dataset: DatasetRules): string {
  return dataset.tokenScope ?? `dataset:${dataset.name}`;
}

/** The three-digit ZIP prefixes a rule generalises to 000. */
export function smallAreasOf(rule: FieldRule): readonly string[] {
  const own = rule.smallAreas ?? [];
  return rule.replaceSmallAreas ? own : [...HHS_SMALL_ZIP3.areas, ...own];
}

function canonicalRule(r: FieldRule): unknown {
  return {
    field: r.field,
    transform: r.transform,
    domain: r.transform === 'token' ? (r.domain ?? r.field) : undefined,
    normalize: r.transform === 'token' ? (r.normalize ?? 'trim') : undefined,
    smallAreas: r.transform === 'zip3' ? [...new Set(smallAreasOf(r))].sort() : undefined,
    rules: r.transform === 'object' ? (r.rules ?? []).map(canonicalRule) : undefined,
    safeFields: r.transform === 'object' ? [...(r.safeFields ?? [])].sort() : undefined,
    optional: r.optional === true,
  };
}

/**
 * A short, stable fingerprint of a dataset's rules: the manifest records it, so a reader can tell
 * which rules produced a file, and a change of rules is visible.
 */
export function ruleVersion(dataset: DatasetRules): string {
  const canonical = JSON.stringify({
    format: dataset.format,
    rules: dataset.rules.map(canonicalRule),
    safeFields: [...dataset.safeFields].sort(),
    multilineFields: [...(dataset.multilineFields ?? [])].sort(),
    over89: { birthDate: dataset.over89?.birthDate, dates: dataset.over89?.dates ?? 'aggregate' },
    phoneCountry: dataset.phoneCountry ?? 'US',
    tokenScheme: TOKEN_SCHEME,
    tokenScope: tokenScope(dataset),
  });
  return `sha256:${createHash('sha256').update(canonical).digest('hex').slice(0, 16)}`;
}

/** What a manifest says of the rules beyond their version: how tokens and generalisations were made. */
export interface RulesSummary {
  readonly tokens: {
    /** TOKEN_SCHEME when the file was made. */
    readonly scheme: number;
    readonly scope: string;
    /** Each tokenised field (nested ones as `parent.child`) and its normaliser (`phone:US`). */
    readonly normalizations: Readonly<Record<string, string>>;
  };
  /** The small-area list of zip3 rules, with what rules added to it or put in its place. */
  readonly smallAreas?: {
    readonly source: string;
    readonly version: string;
    readonly added: readonly string[];
    readonly replaced: boolean;
  };
  readonly over89: { readonly birthDate?: string; readonly dates: Over89Dates };
}

export function summarizeRules(dataset: DatasetRules): RulesSummary {
  const normalizations: Record<string, string> = {};
  const zip3Rules: FieldRule[] = [];
  const walk = (rules: readonly FieldRule[], path: string) => {
    for (const r of rules) {
      if (r.transform === 'token') {
        const how = r.normalize ?? 'trim';
        normalizations[`${path}${r.field}`] = how === 'phone' ? `phone:${dataset.phoneCountry ?? 'US'}` : how;
      } else if (r.transform === 'zip3') zip3Rules.push(r);
      else if (r.transform === 'object') walk(r.rules ?? [], `${path}${r.field}.`);
    }
  };
  walk(dataset.rules, '');
  return {
    tokens: { scheme: TOKEN_SCHEME, scope: tokenScope(dataset), normalizations },
    ...(zip3Rules.length > 0
      ? {
          smallAreas: {
            source: HHS_SMALL_ZIP3.source,
            version: HHS_SMALL_ZIP3.version,
            added: [...new Set(zip3Rules.flatMap((r) => r.smallAreas ?? []))].sort(),
            replaced: zip3Rules.some((r) => r.replaceSmallAreas === true),
          },
        }
      : {}),
    over89: {
      ...(dataset.over89?.birthDate ? { birthDate: dataset.over89.birthDate } : {}),
      dates: dataset.over89?.dates ?? 'aggregate',
    },
  };
}

/** The dataset whose prefix the key starts with (prefixes do not overlap, so at most one). */
export function datasetFor(datasets: readonly DatasetRules[], key: string): DatasetRules | undefined {
  return datasets.find((d) => key.startsWith(d.prefix));
}

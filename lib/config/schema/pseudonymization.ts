import { z } from 'zod';
import { DATASET_FORMATS, NORMALIZERS, TRANSFORMS } from '../../functions/pseudonymize/rules';
import { defaultText, name } from './fields';
import { duplicates, eachItem, type CrossFieldRule, type ItemRule } from './rules';
import { namedSegment, segmentOfKind, type RawSegment } from './segments';

const fieldName = z
  .string()
  .min(1, 'expected a field name')
  .max(128, 'expected a field name of at most 128 characters');

// Shape

const fieldRule = z.strictObject({
  field: fieldName.describe('The CSV column or JSON property.'),
  transform: z
    .enum(TRANSFORMS, { error: `expected one of ${TRANSFORMS.join(', ')}` })
    .describe(
      '`token`: a keyed HMAC token (direct identifiers); `date-to-year`, `date-to-month`: an ISO 8601 date generalised to its year or month; `age`: whole years, 90 and over as `90+`; `zip3`: a ZIP code generalised to its first three digits, small areas to `000`.',
    ),
  domain: name('an identifier domain', 40)
    .optional()
    .describe(
      'token: the identifier domain; the same value in the same domain gets the same token in every dataset, so a patient links across datasets.',
    )
    .register(defaultText, { text: 'the field name' }),
  normalize: z
    .enum(NORMALIZERS, { error: `expected one of ${NORMALIZERS.join(', ')}` })
    .optional()
    .describe(
      'token: how the value is normalised before it is MACed, so that spellings agree: `trim`, `lowercase` (e-mail), `digits` (phone, SSN).',
    )
    .register(defaultText, { text: '`"trim"`' }),
  smallAreas: z
    .array(z.string().regex(/^\d{3}$/, 'expected a three-digit ZIP prefix such as 036'))
    .optional()
    .describe('zip3: the three-digit prefixes of small areas, which become `000`; replaces the default list.')
    .register(defaultText, {
      text: 'the areas of 20,000 people or fewer (HHS Safe Harbor guidance, 2000 census)',
    }),
  optional: z
    .boolean()
    .optional()
    .describe(
      'Records without the field are kept (the field empty) rather than quarantined; otherwise the field must be present and non-empty.',
    )
    .register(defaultText, { text: '`false`' }),
});

const dataset = z.strictObject({
  name: name('a dataset name', 40).describe(
    'Unique name of the dataset; lower-case letters, digits and single hyphens, at most 40 characters.',
  ),
  prefix: z
    .string()
    .max(512, 'expected a key prefix of at most 512 characters')
    .regex(
      /^[A-Za-z0-9!_.*'()=-]+(\/[A-Za-z0-9!_.*'()=-]+)*\/$/,
      'expected a key prefix of safe characters ending in /, such as clinical/patients/',
    )
    .describe(
      "The raw-zone key prefix of the dataset's files, ending in `/`; a file belongs to the dataset whose prefix its key starts with, and no prefix may start another.",
    ),
  format: z
    .enum(DATASET_FORMATS, { error: `expected one of ${DATASET_FORMATS.join(', ')}` })
    .describe("The files' format: `csv` with a header row, or `jsonl` (JSON Lines)."),
  rules: z
    .array(fieldRule)
    .min(1, 'expected at least one field rule')
    .describe('How each identifying field is transformed: one rule per field, at least one of them `token`.'),
  safeFields: z
    .array(fieldName)
    .default([])
    .describe(
      'Fields reviewed as not identifying anyone: passed through unchanged. Every other field without a rule is dropped.',
    ),
});

const pseudonymization = z
  .strictObject({
    segment: name('a segment name', 20)
      .optional()
      .describe(
        'The pipeline segment the stage runs in; required when there are several. Without a pipeline segment there is no stage (and `datasets` must be empty).',
      )
      .register(defaultText, { text: 'the only pipeline segment' }),
    datasets: z
      .array(dataset)
      .default([])
      .describe(
        "Datasets by raw-zone key prefix; a file under no dataset's prefix is quarantined whole. See Pseudonymization stage in the README.",
      ),
    concurrency: z
      .number()
      .int('expected a whole number')
      .min(1, 'expected from 1 to 100 concurrent invocations')
      .max(100, 'expected from 1 to 100 concurrent invocations')
      .default(5)
      .describe(
        "Invocations at once (1 to 100): bounds the stage's share of the account's KMS request rate.",
      ),
  })
  .describe('The stage that pseudonymizes raw records into the curated zone.');

export const pseudonymizationFields = {
  pseudonymization: pseudonymization.default(() => pseudonymization.parse({})),
};

type RawPseudonymization = z.output<typeof pseudonymization>;
type RawDataset = RawPseudonymization['datasets'][number];
type PseudonymizationContext = {
  readonly segments: readonly RawSegment[];
  readonly pseudonymization: RawPseudonymization;
};

/** The stage's settings with its segment resolved: the one named, or the only pipeline segment. */
export function resolvePseudonymization(config: PseudonymizationContext) {
  return {
    ...config.pseudonymization,
    segment: segmentOfKind(config, 'pipeline', config.pseudonymization.segment),
  };
}

// Cross-field rules

export const stageSegment: CrossFieldRule<PseudonymizationContext> = {
  requires: [
    '`pseudonymization.segment` names a pipeline segment, and must be given when there are several.',
  ],
  check: (config) =>
    namedSegment(config, 'pseudonymization', 'pipeline', config.pseudonymization.segment).issues,
};

export const datasetsNeedPipeline: CrossFieldRule<PseudonymizationContext> = {
  requires: ['Datasets are configured only where there is a pipeline segment for the stage to run in.'],
  check: ({ segments, pseudonymization: { segment, datasets } }) =>
    segment === undefined && datasets.length > 0 && !segments.some((s) => s.kind === 'pipeline')
      ? [
          {
            path: ['pseudonymization', 'datasets'],
            value: `${datasets.length} dataset(s)`,
            message:
              'the stage runs in a pipeline segment and there is none; expected a segment of kind pipeline in segments',
          },
        ]
      : [],
};

export const datasetNamesOnce: CrossFieldRule<PseudonymizationContext> = {
  requires: ['Each dataset has a name of its own.'],
  check: ({ pseudonymization: { datasets } }) =>
    duplicates(datasets.map((d) => d.name)).map(([at, first]) => ({
      path: ['pseudonymization', 'datasets', at, 'name'],
      value: datasets[at].name,
      message: `duplicate dataset name; datasets[${first}] has it already`,
    })),
};

type DatasetRule = ItemRule<PseudonymizationContext, RawDataset>;
const at = (i: number, ...rest: (string | number)[]) => ['pseudonymization', 'datasets', i, ...rest];

const prefixesDisjoint: DatasetRule = {
  requires: "No dataset's `prefix` starts another's, so that each file belongs to one dataset.",
  check: (d, i, { pseudonymization: { datasets } }) =>
    datasets.slice(0, i).flatMap((earlier, j) =>
      d.prefix.startsWith(earlier.prefix) || earlier.prefix.startsWith(d.prefix)
        ? [
            {
              path: at(i, 'prefix'),
              value: d.prefix,
              message: `overlaps datasets[${j}].prefix ${earlier.prefix} (dataset "${earlier.name}"); expected prefixes of which none starts another, so each file belongs to one dataset`,
            },
          ]
        : [],
    ),
};

const tokenRule: DatasetRule = {
  requires:
    'Each dataset has at least one `token` rule: a dataset of patient records has a direct identifier (patient id, MRN).',
  check: (d, i) =>
    d.rules.some((r) => r.transform === 'token')
      ? []
      : [
          {
            path: at(i, 'rules'),
            value: d.rules.map((r) => `${r.field}:${r.transform}`),
            message:
              'expected at least one token rule: a dataset of patient records has a direct identifier (patient id, MRN), and it must be tokenised',
          },
        ],
};

const oneRulePerField: DatasetRule = {
  requires: "A dataset's `rules` name each field once.",
  check: (d, i) =>
    duplicates(d.rules.map((r) => r.field)).map(([k, first]) => ({
      path: at(i, 'rules', k, 'field'),
      value: d.rules[k].field,
      message: `field already has a rule (rules[${first}]); expected one rule per field`,
    })),
};

const optionsFitTransform: DatasetRule = {
  requires: '`domain` and `normalize` are set on `token` rules only, `smallAreas` on `zip3` rules only.',
  check: (d, i) =>
    d.rules.flatMap((r, k) => [
      ...(r.transform !== 'token' && (r.domain !== undefined || r.normalize !== undefined)
        ? [
            {
              path: at(i, 'rules', k, r.domain !== undefined ? 'domain' : 'normalize'),
              value: r.domain ?? r.normalize,
              message: `applies to token rules only; this rule's transform is ${r.transform}`,
            },
          ]
        : []),
      ...(r.transform !== 'zip3' && r.smallAreas !== undefined
        ? [
            {
              path: at(i, 'rules', k, 'smallAreas'),
              value: r.smallAreas,
              message: `applies to zip3 rules only; this rule's transform is ${r.transform}`,
            },
          ]
        : []),
    ]),
};

const safeFieldsOnce: DatasetRule = {
  requires: "A dataset's `safeFields` name each field once.",
  check: (d, i) =>
    duplicates(d.safeFields).map(([k, first]) => ({
      path: at(i, 'safeFields', k),
      value: d.safeFields[k],
      message: `duplicate field; safeFields[${first}] has it already`,
    })),
};

const safeOrRuled: DatasetRule = {
  requires: 'A field is either transformed by a rule or listed in `safeFields`, not both.',
  check: (d, i) =>
    d.safeFields.flatMap((field, k) =>
      d.rules.some((r) => r.field === field)
        ? [
            {
              path: at(i, 'safeFields', k),
              value: field,
              message:
                'the field has a rule; expected a field either transformed by a rule or listed as safe, not both',
            },
          ]
        : [],
    ),
};

export const eachDataset: CrossFieldRule<PseudonymizationContext> = eachItem(
  (config) => config.pseudonymization.datasets,
  [prefixesDisjoint, tokenRule, oneRulePerField, optionsFitTransform, safeFieldsOnce, safeOrRuled],
);

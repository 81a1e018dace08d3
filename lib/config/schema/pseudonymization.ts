import { z } from 'zod';
import { isSupportedCountry } from 'libphonenumber-js';
import {
  DATASET_FORMATS,
  NORMALIZERS,
  DATE_TRANSFORMS,
  OVER_89_DATES,
  TRANSFORMS,
} from '../../functions/pseudonymize/rules';
import { defaultText, name } from './fields';
import { duplicates, eachItem, type CrossFieldRule, type ItemRule } from './rules';
import { namedSegment, segmentOfKind, type RawSegment } from './segments';

const fieldName = z
  .string()
  .min(1, 'expected a field name')
  .max(128, 'expected a field name of at most 128 characters')
  // eslint-disable-next-line no-control-regex
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'expected a field name without control characters');

// Shape

const ruleFields = {
  field: fieldName.describe('The CSV column or JSON property.'),
  domain: name('an identifier domain', 40)
    .optional()
    .describe(
      "token: the identifier domain, MACed with the value and the token scope; the same value in the same domain gets the same token in every dataset of the dataset's linkage group (only in the dataset itself when it is in none).",
    )
    .register(defaultText, { text: 'the field name' }),
  normalize: z
    .enum(NORMALIZERS, { error: `expected one of ${NORMALIZERS.join(', ')}` })
    .optional()
    .describe(
      'token: how the value is normalised before it is MACed, so that spellings agree; every normaliser first applies Unicode NFC and trims. `trim`; `lowercase`; `digits` (SSN); `name` (case-folded, spaces collapsed); `email` (lower-cased, one `@`); `phone` (E.164 by libphonenumber-js, `pseudonymization.phoneCountry` for numbers without a country code). A value the normaliser cannot read quarantines its record.',
    )
    .register(defaultText, { text: '`"trim"`' }),
  smallAreas: z
    .array(z.string().regex(/^\d{3}$/, 'expected a three-digit ZIP prefix such as 036'))
    .optional()
    .describe(
      'zip3: three-digit prefixes of further small areas, which become `000` besides those of the HHS list (instead of them with `replaceSmallAreas`).',
    )
    .register(defaultText, {
      text: 'none: the HHS list alone (areas of 20,000 people or fewer, 2000 census)',
    }),
  replaceSmallAreas: z
    .boolean()
    .optional()
    .describe(
      "zip3: `smallAreas` replaces the HHS list instead of adding to it (an expert determination's own list); manifests record it.",
    )
    .register(defaultText, { text: '`false`' }),
  optional: z
    .boolean()
    .optional()
    .describe(
      'Records without the field are kept (the field empty) rather than quarantined; otherwise the field must be present and non-empty.',
    )
    .register(defaultText, { text: '`false`' }),
};

const FIELD_TRANSFORMS = TRANSFORMS.filter((t) => t !== 'object');

const nestedRule = z.strictObject({
  ...ruleFields,
  transform: z
    .enum(FIELD_TRANSFORMS, { error: `expected one of ${FIELD_TRANSFORMS.join(', ')}` })
    .describe("The transform of a property of an `object` field: as a field rule's, one level only."),
});

const fieldRule = z.strictObject({
  ...ruleFields,
  transform: z
    .enum(TRANSFORMS, { error: `expected one of ${TRANSFORMS.join(', ')}` })
    .describe(
      '`token`: a keyed HMAC token (direct identifiers); `date-to-year`, `date-to-month`: an ISO 8601 date generalised to its year or month; `age`: whole years, 90 and over as `90+`; `zip3`: a ZIP code generalised to its first three digits, small areas to `000`; `object` (JSON Lines): a JSON object, or an array of objects, whose properties have rules of their own.',
    ),
  rules: z
    .array(nestedRule)
    .optional()
    .describe("object: the rules of the object's properties (one level: no `object` within)."),
  safeFields: z
    .array(fieldName)
    .optional()
    .describe("object: the object's properties passed through unchanged; they must be scalars."),
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
      'Fields reviewed as not identifying anyone: passed through unchanged. Every other field without a rule is dropped. A safe field must hold a scalar (a string, number, boolean or null): a record with an object or array in one is quarantined.',
    ),
  multilineFields: z
    .array(fieldName)
    .default([])
    .describe(
      'CSV: columns whose quoted values may hold line breaks (addresses, notes). A line break in any other column quarantines its record, since that is how a stray opening quote that swallows the records after it looks.',
    ),
  over89: z
    .strictObject({
      birthDate: fieldName
        .optional()
        .describe(
          "A field with a date rule that is the patient's birth date: ages are also computed from it, on the day the file was received.",
        )
        .register(defaultText, { text: 'none: ages come from the `age` rule alone' }),
      dates: z
        .enum(OVER_89_DATES, { error: `expected one of ${OVER_89_DATES.join(', ')}` })
        .default('aggregate')
        .describe('`aggregate`: every date field becomes `90+`; `remove`: every date field is emptied.'),
    })
    .optional()
    .describe(
      "HIPAA Safe Harbor's over-89 rule: for a patient aged 90 or more (by the `age` rule's field, or computed from `birthDate`), every date field of the record (fields with a date rule, nested ones too) reveals nothing but `90+`. Applied with `dates: aggregate` to every dataset with an `age` rule even when not set.",
    )
    .register(defaultText, { text: 'ages from the `age` rule; dates `aggregate`' }),
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
    phoneCountry: z
      .string()
      .refine(
        (c) => isSupportedCountry(c),
        'expected an ISO 3166 alpha-2 country code libphonenumber-js knows, such as US or GB',
      )
      .default('US')
      .describe(
        'The country of phone numbers written without a country code, for `phone` normalisation (ISO 3166 alpha-2).',
      ),
    linkageGroups: z
      .array(
        z.strictObject({
          name: name('a linkage group name', 40).describe("The group's name: its datasets' token scope."),
          datasets: z
            .array(name('a dataset name', 40))
            .min(2, 'expected at least two datasets: a group links datasets to each other')
            .describe('The datasets whose tokens are equal for equal values in the same domain.'),
        }),
      )
      .default([])
      .describe(
        'Datasets whose tokens link: a value gets the same token in every dataset of its group (in the same domain). A dataset in no group has tokens of its own, so whoever learns one token for a known value links that person in that dataset only.',
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
  const { linkageGroups, phoneCountry } = config.pseudonymization;
  return {
    ...config.pseudonymization,
    segment: segmentOfKind(config, 'pipeline', config.pseudonymization.segment),
    // Each dataset carries what the transform needs: its token scope and the default phone country.
    datasets: config.pseudonymization.datasets.map((d) => {
      const group = linkageGroups.find((g) => g.datasets.includes(d.name));
      return { ...d, phoneCountry, tokenScope: group ? `group:${group.name}` : `dataset:${d.name}` };
    }),
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

/** The interface endpoints the stage's function calls through: KMS (its MACs) and Step Functions (large objects' runs). */
export const STAGE_ENDPOINTS = ['kms', 'states'] as const;

export const stageSegmentHasItsEndpoints: CrossFieldRule<PseudonymizationContext> = {
  requires: [
    "The stage's segment keeps the `kms` and `states` interface endpoints: the function MACs identifiers through KMS and starts large objects' runs through Step Functions, with no other path out.",
  ],
  check: (config) => {
    const { segment } = config.pseudonymization;
    const named = namedSegment(config, 'pseudonymization', 'pipeline', segment).segment;
    const pipelines = config.segments.filter((s) => s.kind === 'pipeline');
    const stage = named ?? (segment === undefined && pipelines.length === 1 ? pipelines[0] : undefined);
    const listed = stage?.interfaceEndpoints;
    const missing = listed ? STAGE_ENDPOINTS.filter((e) => !listed.includes(e)) : [];
    return stage && missing.length > 0
      ? [
          {
            path: ['segments', config.segments.indexOf(stage), 'interfaceEndpoints'],
            value: listed,
            message: `the pseudonymization stage runs here and calls ${STAGE_ENDPOINTS.join(' and ')} through their endpoints; expected a list with ${missing.join(' and ')}`,
          },
        ]
      : [];
  },
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

type RawRule = RawDataset['rules'][number] | NonNullable<RawDataset['rules'][number]['rules']>[number];

/** A rule's options that belong to another transform, as issues at `path`. */
function misplacedOptions(r: RawRule, path: (string | number)[]) {
  const owners: [string, string][] = [
    ['domain', 'token'],
    ['normalize', 'token'],
    ['smallAreas', 'zip3'],
    ['replaceSmallAreas', 'zip3'],
    ['rules', 'object'],
    ['safeFields', 'object'],
  ];
  return owners.flatMap(([option, transform]) =>
    (r as Record<string, unknown>)[option] !== undefined && r.transform !== transform
      ? [
          {
            path: [...path, option],
            value: (r as Record<string, unknown>)[option],
            message: `applies to ${transform} rules only; this rule's transform is ${r.transform}`,
          },
        ]
      : [],
  );
}

const optionsFitTransform: DatasetRule = {
  requires:
    '`domain` and `normalize` are set on `token` rules only, `smallAreas` and `replaceSmallAreas` on `zip3` rules only, `rules` and `safeFields` on `object` rules only.',
  check: (d, i) =>
    d.rules.flatMap((r, k) => [
      ...misplacedOptions(r, at(i, 'rules', k)),
      ...(r.rules ?? []).flatMap((n, m) => misplacedOptions(n, at(i, 'rules', k, 'rules', m))),
    ]),
};

const objectRules: DatasetRule = {
  requires:
    'An `object` rule is for JSON Lines datasets, names at least one property in `rules` or `safeFields`, each once, none both ruled and safe.',
  check: (d, i) =>
    d.rules.flatMap((r, k) => {
      if (r.transform !== 'object') return [];
      const nested = r.rules ?? [];
      const safe = r.safeFields ?? [];
      return [
        ...(d.format !== 'jsonl'
          ? [
              {
                path: at(i, 'rules', k, 'transform'),
                value: r.transform,
                message: `applies to JSON Lines datasets only; this dataset's format is ${d.format}`,
              },
            ]
          : []),
        ...(nested.length + safe.length === 0
          ? [
              {
                path: at(i, 'rules', k),
                value: r.field,
                message: 'expected rules or safeFields for the properties of the object; it has neither',
              },
            ]
          : []),
        ...duplicates([...nested.map((n) => n.field), ...safe]).map(([m]) => ({
          path:
            m < nested.length
              ? at(i, 'rules', k, 'rules', m, 'field')
              : at(i, 'rules', k, 'safeFields', m - nested.length),
          value: m < nested.length ? nested[m].field : safe[m - nested.length],
          message:
            'the property is named twice; expected each property either ruled once or listed safe once',
        })),
      ];
    }),
};

const over89Fields: DatasetRule = {
  requires:
    '`over89.birthDate` names a field of the dataset with a date rule; `over89` is set only on a dataset with an `age` rule or a `birthDate`.',
  check: (d, i) => {
    if (!d.over89) return [];
    const { birthDate } = d.over89;
    if (birthDate !== undefined) {
      const rule = d.rules.find((r) => r.field === birthDate);
      return rule && DATE_TRANSFORMS.has(rule.transform)
        ? []
        : [
            {
              path: at(i, 'over89', 'birthDate'),
              value: birthDate,
              message: `expected a field of the dataset with a date-to-year or date-to-month rule; ${rule ? `its rule is ${rule.transform}` : 'no rule names it'}`,
            },
          ];
    }
    return [...d.rules, ...d.rules.flatMap((r) => r.rules ?? [])].some((r) => r.transform === 'age')
      ? []
      : [
          {
            path: at(i, 'over89'),
            value: d.over89,
            message:
              'has no effect: the dataset has no age rule and over89 names no birthDate; expected a birthDate field, or an age rule',
          },
        ];
  },
};

const multilineColumns: DatasetRule = {
  requires: '`multilineFields` are set on CSV datasets only.',
  check: (d, i) =>
    d.multilineFields.length > 0 && d.format !== 'csv'
      ? [
          {
            path: at(i, 'multilineFields'),
            value: d.multilineFields,
            message: `applies to CSV datasets only (JSON Lines strings escape their line breaks); this dataset's format is ${d.format}`,
          },
        ]
      : [],
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
  [
    prefixesDisjoint,
    tokenRule,
    oneRulePerField,
    optionsFitTransform,
    objectRules,
    over89Fields,
    multilineColumns,
    safeFieldsOnce,
    safeOrRuled,
  ],
);

export const linkageGroups: CrossFieldRule<PseudonymizationContext> = {
  requires: [
    'Each linkage group has a name of its own and names datasets that exist; a dataset is in one linkage group at most.',
  ],
  check: ({ pseudonymization: { linkageGroups: groups, datasets } }) => [
    ...duplicates(groups.map((g) => g.name)).map(([k, first]) => ({
      path: ['pseudonymization', 'linkageGroups', k, 'name'],
      value: groups[k].name,
      message: `duplicate linkage group name; linkageGroups[${first}] has it already`,
    })),
    ...groups.flatMap((g, k) =>
      g.datasets.flatMap((name, m) => {
        const path = ['pseudonymization', 'linkageGroups', k, 'datasets', m];
        if (!datasets.some((d) => d.name === name)) {
          return [
            {
              path,
              value: name,
              message: `no such dataset; expected one of ${datasets.map((d) => d.name).join(', ') || 'none (pseudonymization.datasets is empty)'}`,
            },
          ];
        }
        const earlier = groups
          .slice(0, k + 1)
          .findIndex((h, j) => h.datasets.slice(0, j === k ? m : undefined).includes(name));
        return earlier === -1
          ? []
          : [
              {
                path,
                value: name,
                message: `the dataset is already in linkageGroups[${earlier}] (${groups[earlier].name}); expected each dataset in one group at most`,
              },
            ];
      }),
    ),
  ],
};

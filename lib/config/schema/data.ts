import { z } from 'zod';
import { DEFAULT_CLASSIFICATION_CONTROLS, type ClassificationControls } from '../../classification';
import { DATA_CLASSIFICATIONS, type DataClassification } from '../../contract/classification';
import { defaultText } from './fields';

const days = (what: string) =>
  z
    .number()
    .int('expected a whole number of days')
    .min(1, `expected ${what} of at least 1 day`)
    .max(36500, `expected ${what} of at most 36500 days`);

// Shape

/** Overrides of one class's lifecycle; the reference shows the class's own defaults. */
const classRetention = (c: DataClassification) => {
  const defaults = DEFAULT_CLASSIFICATION_CONTROLS[c];
  return z
    .strictObject({
      archiveAfterDays: days('an archive age')
        .nullable()
        .optional()
        .describe('Days until objects move to Glacier Instant Retrieval; `null` for never; 1 to 36500.')
        .register(defaultText, {
          text: defaults.archiveAfterDays === undefined ? 'never' : `\`${defaults.archiveAfterDays}\``,
        }),
      noncurrentVersionDays: days('a version retention')
        .optional()
        .describe('Days an overwritten or deleted version is kept; 1 to 36500.')
        .register(defaultText, { text: `\`${defaults.noncurrentVersionDays}\`` }),
    })
    .optional()
    .describe(`Lifecycle of the data stores classified \`${c}\`.`)
    .register(defaultText, { text: "the class's defaults" });
};

export const dataFields = {
  dataRetention: z
    .strictObject({
      phi: classRetention('phi'),
      pii: classRetention('pii'),
      proprietary: classRetention('proprietary'),
      public: classRetention('public'),
    })
    .default({})
    .describe('Lifecycle of the data zones, per classification; each field overrides the class default.'),
};

type RawDataRetention = z.output<typeof dataFields.dataRetention>;

/** Each class's controls: its defaults, with what the file overrides. */
export function resolveDataRetention(given: RawDataRetention) {
  return Object.fromEntries(
    DATA_CLASSIFICATIONS.map((c) => {
      const overrides = given[c];
      const defaults = DEFAULT_CLASSIFICATION_CONTROLS[c];
      return [
        c,
        {
          ...defaults,
          noncurrentVersionDays: overrides?.noncurrentVersionDays ?? defaults.noncurrentVersionDays,
          archiveAfterDays:
            overrides?.archiveAfterDays === undefined
              ? defaults.archiveAfterDays
              : (overrides.archiveAfterDays ?? undefined),
        },
      ];
    }),
  ) as Record<DataClassification, ClassificationControls>;
}

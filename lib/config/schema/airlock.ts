import { z } from 'zod';
import { duplicates, type CrossFieldRule, type Issue } from './rules';

/** An IAM role or user: a person's principal, never a whole account. */
const PERSON_ARN = /^arn:aws(-[a-z]+)*:iam::\d{12}:(role|user)\/[\w+=,.@/-]{1,512}$/;

const people = (description: string) =>
  z
    .array(
      z
        .string()
        .regex(
          PERSON_ARN,
          'expected an IAM role or user ARN such as arn:aws:iam::123456789012:role/DataSteward (not an account root: the airlock separates named principals)',
        ),
    )
    .min(1, 'expected at least one principal')
    .describe(description);

// Shape

const airlock = z
  .strictObject({
    importers: people(
      'IAM roles or users that may assume the airlock importer role (with MFA): they upload datasets and models into the import zone, from outside every segment.',
    ),
    reviewers: people(
      'IAM roles or users that may assume the airlock reviewer role (with MFA): they read what waits in the import zone and approve or reject it. None may be an importer.',
    ),
    reviewDays: z
      .number()
      .int()
      .min(1)
      .max(90)
      .default(14)
      .describe(
        'Days a clean import waits for a decision; after them the request expires and the object stays held in the import zone.',
      ),
    keepCopiedDays: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .default(30)
      .describe(
        "Days the import zone keeps an object after the workflow copied it into its target zone (the copy is kept by the target zone's retention). Held objects (quarantined, rejected, expired) are never expired.",
      ),
  })
  .optional()
  .describe(
    'The airlock: the reviewed way datasets and models come in (see docs/airlock.md). Uploads are scanned by GuardDuty Malware Protection for S3; a clean one waits for a reviewer, and an approved one is copied by the workflow into raw (datasets) or models. Off unless set.',
  );

export const airlockFields = { airlock };

type RawAirlock = z.output<typeof airlock>;

interface AirlockContext {
  readonly airlock?: RawAirlock;
  readonly identities: {
    readonly dataScientists?: readonly string[];
    readonly breakGlass: { readonly enabled: boolean; readonly principals?: readonly string[] };
  };
}

/** The account root of a principal ARN, which stands for every principal of that account. */
const rootOf = (arn: string) => arn.replace(/:(role|user)\/.*$/, ':root');

/** Whether `list` admits `arn`: named, or through its account's root. */
const admits = (list: readonly string[], arn: string) => list.includes(arn) || list.includes(rootOf(arn));

// Cross-field rules

export const airlockSeparation: CrossFieldRule<AirlockContext> = {
  requires: [
    '`airlock.importers` and `airlock.reviewers` name each principal once, and no principal is in both: the same principal may not request and approve.',
    'With an airlock, `identities.dataScientists` (and `identities.breakGlass.principals` when break-glass is enabled) are named: unset, any principal an administrator allows may assume those roles, importers included.',
    'No importer may assume a role that reads the curated zone (data scientist, break-glass): one who puts datasets into raw and reads their pseudonymized records could link the tokens back to the people.',
  ],
  check: ({ airlock: lock, identities }) => {
    if (!lock) return [];
    const issues: Issue[] = [];
    for (const field of ['importers', 'reviewers'] as const) {
      for (const [at, first] of duplicates(lock[field])) {
        issues.push({
          path: ['airlock', field, at],
          value: lock[field][at],
          message: `duplicate principal; airlock.${field}[${first}] has it already`,
        });
      }
    }
    lock.reviewers.forEach((arn, i) => {
      if (lock.importers.includes(arn))
        issues.push({
          path: ['airlock', 'reviewers', i],
          value: arn,
          message: `${arn} is also an importer: expected reviewers who never import, since the same principal may not request and approve`,
        });
    });
    const readers: [string, readonly string[] | undefined, (string | number)[]][] = [
      ['the data scientist role', identities.dataScientists, ['identities', 'dataScientists']],
      ...(identities.breakGlass.enabled
        ? [
            [
              'the break-glass role',
              identities.breakGlass.principals,
              ['identities', 'breakGlass', 'principals'],
            ] as [string, readonly string[] | undefined, (string | number)[]],
          ]
        : []),
    ];
    for (const [role, list, path] of readers) {
      if (list === undefined) {
        issues.push({
          path,
          value: list,
          message: `with an airlock, expected the principals who may assume ${role} named: unset, any principal of the account an administrator allows may assume it, importers included, and it reads the curated zone`,
        });
        continue;
      }
      lock.importers.forEach((arn, i) => {
        if (admits(list, arn))
          issues.push({
            path: ['airlock', 'importers', i],
            value: arn,
            message: `${arn} may assume ${role} (${path.join('.')}), which reads the curated zone: an importer into raw who reads its pseudonymized records could link the tokens back to the people; expected importers who read no curated data`,
          });
      });
    }
    return issues;
  },
};

import { z } from 'zod';
import { DATA_ZONES } from '../../contract/classification';
import { ZONE_CONTROLS } from '../../classification';
import { admitsPrincipal } from './identities';
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

/** An S3 bucket name, as S3 takes it for a general purpose bucket. */
const BUCKET = /^(?!xn--)(?!.*-s3alias$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** A key prefix: parts of letters, digits and . _ - joined by '/', ending in '/'. */
const KEY_PREFIX = /^([A-Za-z0-9][A-Za-z0-9._-]{0,62}\/){1,8}$/;

/** The zones an export may name as its source; phi zones are refused by rule, with the reason. */
const EXPORTABLE = DATA_ZONES;

const exportConfig = z
  .strictObject({
    sources: z
      .array(z.enum(EXPORTABLE))
      .min(1, 'expected at least one zone')
      .describe(
        'The zones whose objects may be asked out (`curated`, `models`). A zone of class phi (`raw`, `quarantine`) is refused: phi never leaves. The staged copy takes the class of its source zone.',
      ),
    destination: z
      .strictObject({
        bucket: z
          .string()
          .regex(BUCKET, 'expected an S3 bucket name: 3-63 lower-case letters, digits, dots and hyphens')
          .describe(
            "The bucket outside the blueprint that approved exports are copied into. Its bucket policy admits the blueprint's exporter role (see docs/airlock.md); none of the blueprint's own buckets.",
          ),
        account: z
          .string()
          .regex(/^\d{12}$/, 'expected a 12-digit AWS account id')
          .describe(
            'The account that owns the destination bucket: a copy goes nowhere if the bucket of that name belongs to any other account.',
          ),
        prefix: z
          .string()
          .regex(KEY_PREFIX, "expected a key prefix such as 'airlock/' (parts joined by '/', ending in '/')")
          .default('airlock/')
          .describe('Where approved exports land in the destination bucket, each under its request id.'),
      })
      .describe('Where approved exports go.'),
  })
  .optional()
  .describe(
    "The airlock's way out: a data scientist or ML engineer asks for one object of a source zone; the workflow stages a copy in the export zone for a reviewer (an `airlock.reviewers` principal, never the requester), and copies an approved one to the destination. Off unless set.",
  );

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
        "Days the import zone keeps an object after the workflow copied it into its target zone, and the export zone one it sent out (the copy is kept by the target zone's retention). Held objects (quarantined, rejected, expired) are never expired.",
      ),
    export: exportConfig,
  })
  .optional()
  .describe(
    'The airlock: the reviewed way datasets and models come in (see docs/airlock.md). Uploads are scanned by GuardDuty Malware Protection for S3; a clean one waits for a reviewer, and an approved one is copied by the workflow into raw (datasets) or models. Off unless set.',
  );

export const airlockFields = { airlock };

type RawAirlock = z.output<typeof airlock>;

interface AirlockContext {
  readonly namePrefix: string;
  readonly airlock?: RawAirlock;
  readonly identities: {
    readonly dataScientists?: readonly string[];
    readonly mlEngineers?: readonly string[];
    readonly breakGlass: { readonly enabled: boolean; readonly principals?: readonly string[] };
  };
}

/** Whether `list` names `arn` (case aside) or a pattern of it matches it. */
const names = admitsPrincipal;

// Cross-field rules

export const airlockSeparation: CrossFieldRule<AirlockContext> = {
  requires: [
    '`airlock.importers` and `airlock.reviewers` name each principal once, and no principal is in both: the same principal may not request and approve.',
    'No importer may assume a role that reads the curated zone (data scientist, break-glass): one who puts datasets into raw and reads their pseudonymized records could link the tokens back to the people.',
    "With an export: no source zone of class phi; a destination that is none of the blueprint's buckets (named `<namePrefix>-…`); no reviewer among `identities.dataScientists` and `identities.mlEngineers` (who request exports): the same principal may not request and approve.",
  ],
  check: ({ namePrefix, airlock: lock, identities }) => {
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
      if (names(lock.importers, arn))
        issues.push({
          path: ['airlock', 'reviewers', i],
          value: arn,
          message: `${arn} is also an importer: expected reviewers who never import, since the same principal may not request and approve`,
        });
    });
    const readers: NamedRole[] = [
      ['the data scientist role', identities.dataScientists, ['identities', 'dataScientists']],
      ...(identities.breakGlass.enabled
        ? [
            [
              'the break-glass role',
              identities.breakGlass.principals,
              ['identities', 'breakGlass', 'principals'],
            ] as NamedRole,
          ]
        : []),
    ];
    issues.push(
      ...keptOut(
        readers,
        'importers',
        lock.importers,
        (arn, role, path) =>
          `${arn} may assume ${role} (${path}), which reads the curated zone: an importer into raw who reads its pseudonymized records could link the tokens back to the people; expected importers who read no curated data`,
      ),
    );
    if (lock.export) issues.push(...exportIssues(namePrefix, lock, lock.export, identities));
    return issues;
  },
};

function exportIssues(
  namePrefix: string,
  lock: RawAirlock & object,
  exp: NonNullable<RawAirlock>['export'] & object,
  identities: AirlockContext['identities'],
): Issue[] {
  const issues: Issue[] = [];
  exp.sources.forEach((zone, i) => {
    const classification = ZONE_CONTROLS[zone].classification;
    if (classification === 'phi')
      issues.push({
        path: ['airlock', 'export', 'sources', i],
        value: zone,
        message: `${zone} is a zone of class phi: phi never leaves through the airlock; expected a zone of another class (${DATA_ZONES.filter((z) => ZONE_CONTROLS[z].classification !== 'phi').join(', ')})`,
      });
  });
  for (const [at, first] of duplicates(exp.sources))
    issues.push({
      path: ['airlock', 'export', 'sources', at],
      value: exp.sources[at],
      message: `duplicate zone; airlock.export.sources[${first}] has it already`,
    });
  if (exp.destination.bucket.startsWith(`${namePrefix}-`))
    issues.push({
      path: ['airlock', 'export', 'destination', 'bucket'],
      value: exp.destination.bucket,
      message: `the blueprint names its own buckets ${namePrefix}-…: an export's destination is a bucket outside the blueprint, never one of its zones`,
    });
  const requesters: NamedRole[] = [
    ['the data scientist role', identities.dataScientists, ['identities', 'dataScientists']],
    ['the ML engineer role', identities.mlEngineers, ['identities', 'mlEngineers']],
  ];
  issues.push(
    ...keptOut(
      requesters,
      'reviewers',
      lock.reviewers,
      (arn, role, path) =>
        `${arn} may assume ${role} (${path}), which requests exports: the same principal may not request and approve; expected reviewers who request nothing`,
    ),
  );
  return issues;
}

/** A role of the blueprint, the principals the config lets assume it, and that config field's path. */
type NamedRole = [role: string, principals: readonly string[] | undefined, path: (string | number)[]];

/**
 * Keeps the principals of `airlock.<field>` out of each of `roles`: each principal a role admits
 * (named, or matched by a pattern) is refused at its place in the field. A role whose principals
 * are unset trusts no one.
 */
function keptOut(
  roles: readonly NamedRole[],
  field: 'importers' | 'reviewers',
  arns: readonly string[],
  admitted: (arn: string, role: string, path: string) => string,
): Issue[] {
  return roles.flatMap(([role, list, path]): Issue[] =>
    arns.flatMap((arn, i) =>
      names(list ?? [], arn)
        ? [{ path: ['airlock', field, i], value: arn, message: admitted(arn, role, path.join('.')) }]
        : [],
    ),
  );
}

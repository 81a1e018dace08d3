import { z } from 'zod';
import { defaultText, ipv4Cidr } from './fields';
import type { CrossFieldRule, Issue } from './rules';
import { principalsOverlap } from '../../contract/pattern';

export { principalsOverlap };

/**
 * A role or user ARN, never an account root (which trusts every principal of that account that
 * its administrators allow). `*` and `?` are patterns, which only `identities.mfa`
 * `identity-provider` takes (it names principals by `aws:PrincipalArn`).
 */
export const NAMED_PRINCIPAL_ARN = /^arn:aws(-[a-z]+)*:iam::\d{12}:(role|user)\/[\w+=,.@/*?-]{1,512}$/;

const ROOT_ARN = /^arn:aws(-[a-z]+)*:iam::\d{12}:root$/;

/** A list of principals: role or user ARNs, no account root, the reason said for each kind of mistake. */
export const namedPrincipals = (example: string) =>
  z.array(
    z.string().superRefine((value, ctx) => {
      if (ROOT_ARN.test(value)) {
        ctx.addIssue({
          code: 'custom',
          message: `expected a role or user ARN, not an account root: ${value} would trust every principal of that account its administrators allow; name the roles or users (such as ${example})`,
        });
      } else if (!NAMED_PRINCIPAL_ARN.test(value)) {
        ctx.addIssue({
          code: 'custom',
          message: `expected an IAM role or user ARN such as ${example}`,
        });
      }
    }),
  );

const principals = (description: string) =>
  namedPrincipals('arn:aws:iam::123456789012:role/DataScience').optional().describe(description);

/** What a role whose principals are unset trusts. */
const NO_ONE =
  'no one: the role is built with a trust policy that denies every principal, and the synth and `npm run preflight` say so';

const humanRole = (role: string, does = '') =>
  principals(
    `IAM role or user ARNs that may assume the ${role} role${does}, for at most an hour (MFA as \`identities.mfa\` says).`,
  ).register(defaultText, { text: NO_ONE });

// Shape

const breakGlass = z
  .strictObject({
    enabled: z.boolean().default(false).describe('Create the break-glass role.'),
    principals: principals('Who may assume the break-glass role (with MFA).').register(defaultText, {
      text: NO_ONE,
    }),
  })
  .describe('An emergency role that may read the raw and quarantine zones; off unless switched on.');

const identities = z
  .strictObject({
    mfa: z
      .enum(['iam', 'identity-provider'], { error: 'expected iam or identity-provider' })
      .default('iam')
      .describe(
        "Who enforces the MFA of the people the human roles name. `iam`: they are IAM users, or roles whose sessions carry MFA; each role's trust names them as principals and requires `aws:MultiFactorAuthPresent`, used within the hour. `identity-provider`: they are federated or IAM Identity Center roles, whose identity provider enforces MFA (their sessions carry no `aws:MultiFactorAuthPresent`, so an MFA condition would lock them out); each role's trust names them by `aws:PrincipalArn`, where `*` may stand for Identity Center's changing suffix.",
      ),
    platformAdmins: humanRole('platform administrator'),
    dataScientists: humanRole('data scientist'),
    mlEngineers: humanRole('ML engineer'),
    auditors: humanRole('auditor'),
    legalHold: humanRole(
      'legal hold',
      ', the only one that may place and lift legal holds on the objects of the zones and the decision log (it reads nothing)',
    ),
    pipelineOperators: humanRole(
      'pipeline operator',
      ", which reads the pseudonymization stage's dead letters (they name raw objects) and re-sends their events to the stage",
    ),
    studioUsers: z
      .array(
        z
          .string()
          .regex(
            /^[a-z0-9](-*[a-z0-9]){1,62}$/,
            'expected a Studio user name: 2 to 63 lower-case letters, digits and hyphens, starting and ending with a letter or digit (it is also the source identity of its owner)',
          ),
      )
      .optional()
      .describe(
        "The people who work in SageMaker Studio: a user profile of this name in each development segment's domain, tagged `ai-segmentation:owner` with it. A data scientist opens only the profile whose owner is the source identity of their session, exactly: an IAM user's own user name (the trust requires it), or the one their session already carries, which their identity provider sets (`https://aws.amazon.com/SAML/Attributes/SourceIdentity`). A name taken out of the list keeps its profile (retained, with its tag): delete it in SageMaker when the person leaves. Unset: no profile is made; the platform team makes and tags them.",
      ),
    studioSourceIps: z
      .array(ipv4Cidr(8, 32))
      .optional()
      .describe(
        "The ranges (the corporate egress) that Studio may be opened from and used from: IAM checks `aws:SourceIp` on the presigned URL's creation and on every request and WebSocket frame of the session. Unset: from anywhere, with MFA.",
      ),
    ingestion: principals(
      'The machine principals (an ETL job, a transfer service) that may assume the ingestion role, which writes the raw zone.',
    ).register(defaultText, { text: NO_ONE }),
    ingestionExternalId: z
      .string()
      .min(2, 'expected an external id of 2 to 1224 characters')
      .max(1224, 'expected an external id of 2 to 1224 characters')
      .regex(/^[\w+=,.@:/-]+$/, 'expected an external id of letters, digits and + = , . @ : / _ -')
      .optional()
      .describe(
        'The external id (`sts:ExternalId`) the ingestion principals must present: for an uploader run by a third party (a lab, a CRO), so that it cannot be led to use its access for someone else.',
      ),
    breakGlass: breakGlass.default({ enabled: false }),
  })
  .describe("Who may assume each of the blueprint's roles.");

export const identitiesFields = {
  identities: identities.default(() => identities.parse({})),
};

type Identities = z.output<typeof identities>;

/** The human roles' fields, as the config names them. */
function humanFields(ids: Identities): [path: (string | number)[], list: readonly string[] | undefined][] {
  return [
    [['identities', 'platformAdmins'], ids.platformAdmins],
    [['identities', 'dataScientists'], ids.dataScientists],
    [['identities', 'mlEngineers'], ids.mlEngineers],
    [['identities', 'auditors'], ids.auditors],
    [['identities', 'pipelineOperators'], ids.pipelineOperators],
    [['identities', 'legalHold'], ids.legalHold],
    [['identities', 'breakGlass', 'principals'], ids.breakGlass.principals],
  ];
}

/** Whether `list` may name a principal that `arn` (a principal or a pattern) names too. */
export const admitsPrincipal = (list: readonly string[] | undefined, arn: string) =>
  (list ?? []).some((entry) => principalsOverlap(entry, arn));

// Cross-field rules

export const identityModel: CrossFieldRule<{ identities: Identities }> = {
  requires: [
    'Patterns (`*`, `?`) in the principals of human roles only with `identities.mfa` `identity-provider`: a trust policy names IAM principals exactly. Machine principals (`identities.ingestion`) are always exact.',
    'No principal may both put data into raw (`identities.ingestion`, `identities.pipelineOperators`; `airlock.importers` below) and read curated data (`identities.dataScientists`, whose Studio and training roles read the curated zone): one who writes raw and reads its tokens back could link them to the people.',
  ],
  check: ({ identities: ids }) => {
    const issues: Issue[] = [];
    const exact: [(string | number)[], readonly string[] | undefined][] = [
      [['identities', 'ingestion'], ids.ingestion],
      ...(ids.mfa === 'iam' ? humanFields(ids) : []),
    ];
    for (const [path, list] of exact) {
      (list ?? []).forEach((arn, i) => {
        if (/[*?]/.test(arn))
          issues.push({
            path: [...path, i],
            value: arn,
            message:
              path[1] === 'ingestion'
                ? 'expected an exact role or user ARN: machine principals are named in the trust policy, which takes no patterns'
                : 'expected an exact role or user ARN: with identities.mfa "iam" the trust policy names principals exactly; patterns need identities.mfa "identity-provider"',
          });
      });
    }
    const rawActors: [string, (string | number)[], readonly string[] | undefined][] = [
      ['the ingestion role, which writes raw', ['identities', 'ingestion'], ids.ingestion],
      [
        'the pipeline operator role, which re-sends raw objects to the stage',
        ['identities', 'pipelineOperators'],
        ids.pipelineOperators,
      ],
    ];
    for (const [role, path, list] of rawActors) {
      (list ?? []).forEach((arn, i) => {
        if (admitsPrincipal(ids.dataScientists, arn))
          issues.push({
            path: [...path, i],
            value: arn,
            message: `${arn} may also assume the data scientist role (identities.dataScientists), which reads the curated zone: a principal of ${role} who reads curated tokens could link them back to the people; expected separate principals`,
          });
      });
    }
    return issues;
  },
};

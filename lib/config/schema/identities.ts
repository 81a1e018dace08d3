import { z } from 'zod';
import { defaultText, PRINCIPAL_ARN } from './fields';

const principals = (description: string) =>
  z
    .array(
      z
        .string()
        .regex(
          PRINCIPAL_ARN,
          'expected an IAM principal ARN such as arn:aws:iam::123456789012:role/DataScience or arn:aws:iam::123456789012:root',
        ),
    )
    .optional()
    .describe(description);

/** Who may assume a human role when the file names no one. */
const ACCOUNT_PRINCIPALS = "the account's principals (`:root`), as an administrator allows them through IAM";

const humanRole = (role: string, does = '') =>
  principals(
    `IAM role, user or account ARNs that may assume the ${role} role${does} (always with MFA, for at most an hour).`,
  ).register(defaultText, { text: ACCOUNT_PRINCIPALS });

// Shape

const breakGlass = z
  .strictObject({
    enabled: z.boolean().default(false).describe('Create the break-glass role.'),
    principals: principals('Who may assume the break-glass role (with MFA).'),
  })
  .describe('An emergency role that may read the raw and quarantine zones; off unless switched on.');

const identities = z
  .strictObject({
    platformAdmins: humanRole('platform administrator'),
    dataScientists: humanRole('data scientist'),
    mlEngineers: humanRole('ML engineer'),
    auditors: humanRole('auditor'),
    pipelineOperators: humanRole(
      'pipeline operator',
      ", which reads the pseudonymization stage's dead letters (they name raw objects) and re-sends their events to the stage",
    ),
    ingestion: principals(
      'The machine principals (an ETL job, a transfer service) that may assume the ingestion role, which writes the raw zone.',
    ).register(defaultText, { text: "the account's principals" }),
    breakGlass: breakGlass.default({ enabled: false }),
  })
  .describe("Who may assume each of the blueprint's roles.");

export const identitiesFields = {
  identities: identities.default(() => identities.parse({})),
};

import { z } from 'zod';
import { duplicates, type CrossFieldRule } from './rules';

/** Retention periods, in years, that CloudWatch Logs accepts as a log group retention. */
export const RETENTION_YEARS = [1, 2, 3, 5, 6, 7, 8, 9, 10] as const;

const EMAIL = /^[^\s@]+@[^\s@]+\.[a-zA-Z]{2,}$/;

// Shape

const audit = z
  .strictObject({
    logRetentionYears: z
      .number()
      .refine((v) => (RETENTION_YEARS as readonly number[]).includes(v), {
        message: `expected one of ${RETENTION_YEARS.join(', ')} (the retention periods CloudWatch Logs accepts)`,
      })
      // The refinement is lost on the JSON Schema; the list it checks is not.
      .meta({ enum: [...RETENTION_YEARS] })
      .default(6)
      .describe(
        'Years the audit trail is kept: Object Lock retention of audit records and retention of every log group; 1, 2, 3, 5, 6, 7, 8, 9 or 10 (the periods CloudWatch Logs accepts).',
      ),
    objectLockMode: z
      .enum(['COMPLIANCE', 'GOVERNANCE'], { error: 'expected COMPLIANCE or GOVERNANCE' })
      .default('COMPLIANCE')
      .describe(
        '`COMPLIANCE`: nobody, root included, can delete or shorten a record before it expires; `GOVERNANCE`: principals with `s3:BypassGovernanceRetention` can.',
      ),
    alertEmails: z
      .array(z.string().regex(EMAIL, 'expected an e-mail address'))
      .default([])
      .describe(
        'Addresses subscribed to the security alert topic (each must confirm the subscription); each address once, in any case.',
      ),
    sageMakerLogGroups: z
      .boolean()
      .default(true)
      .describe(
        "Create SageMaker's log groups (`/aws/sagemaker/TrainingJobs`, `ProcessingJobs`, `studio`, `Endpoints/<inferenceApi.endpointName>`) beforehand, encrypted with the audit key, kept `logRetentionYears`, retained, instead of letting SageMaker create them on first use with neither; `false` in an account that already has them (or adopt them with `cdk deploy --import-existing-resources`).",
      ),
  })
  .describe('The audit trail, its retention, and who hears about security alerts.');

export const auditFields = {
  audit: audit.default(() => audit.parse({})),
};

export type RawAudit = z.output<typeof audit>;

// Cross-field rules

export const alertEmailsOnce: CrossFieldRule<{ readonly audit: RawAudit }> = {
  requires: ['`audit.alertEmails` holds each address once, compared without regard to case.'],
  check: ({ audit: { alertEmails } }) =>
    duplicates(alertEmails.map((e) => e.toLowerCase())).map(([at, first]) => ({
      path: ['audit', 'alertEmails', at],
      value: alertEmails[at],
      message: `duplicate address; alertEmails[${first}] has it already`,
    })),
};

import { z } from 'zod';

const SWITCH_OFF = "`false` where the organisation's delegated administrator already runs it.";

// Shape

const detectiveServices = z
  .strictObject({
    guardDuty: z
      .boolean()
      .default(true)
      .describe(
        `A GuardDuty detector (S3 protection, malware scans, runtime and Lambda network monitoring), findings of medium severity and above to the alert topic; ${SWITCH_OFF}`,
      ),
    securityHub: z
      .boolean()
      .default(true)
      .describe(
        `Security Hub with AWS Foundational Security Best Practices and NIST 800-53 R5; ${SWITCH_OFF}`,
      ),
    awsConfig: z
      .boolean()
      .default(true)
      .describe(
        `An AWS Config recorder delivering to the audit bucket, with managed rules for the invariants, non-compliance to the alert topic; ${SWITCH_OFF}`,
      ),
    accessAnalyzer: z
      .boolean()
      .default(true)
      .describe(
        `IAM Access Analyzer for external and unused access, findings to the alert topic; ${SWITCH_OFF}`,
      ),
  })
  .describe(
    "The account's detective services; switch GuardDuty, Security Hub, AWS Config or IAM Access Analyzer off where the organisation's delegated administrator already runs it.",
  );

export const detectiveFields = {
  detectiveServices: detectiveServices.default(() => detectiveServices.parse({})),
};

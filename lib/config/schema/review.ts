import { z } from 'zod';
import { duplicates, type CrossFieldRule } from './rules';

/** The longest an acceptance may run, from the day the config is validated. */
export const MAX_ACCEPTANCE_DAYS = 366;
const DAY = 24 * 60 * 60 * 1000;

/** Accepted risks whose last day is before `today` (YYYY-MM-DD): they cover nothing. */
export function expiredRisks<R extends { readonly expires: string }>(
  risks: readonly R[],
  today: string,
): R[] {
  return risks.filter((r) => r.expires < today);
}

// Shape

const acceptedRisk = z
  .strictObject({
    id: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
        'expected letters, digits, `.`, `_` and `-`, starting with a letter or digit',
      )
      .describe('A name for the acceptance, as the posture diff cites it (`AR-2027-01`).'),
    opening: z
      .string()
      .min(1)
      .describe(
        'The opening it covers, as `npm run verify -- --baseline` prints it after `OPENED`; `*` stands for any run of characters (`access aiseg-data-scientist on curated: *`).',
      ),
    reason: z
      .string()
      .min(40, 'expected a reason of at least 40 characters: what is accepted, why, and what limits it')
      .describe(
        'Why the risk is accepted, in at least 40 characters: what is accepted, why, and what limits it. The evidence report and the posture diff show it.',
      ),
    approvedBy: z.string().min(1).describe('Who accepted it.'),
    expires: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'expected a date as YYYY-MM-DD', abort: true })
      .refine((d) => {
        const time = Date.parse(`${d}T00:00:00Z`);
        return !Number.isNaN(time) && new Date(time).toISOString().startsWith(d);
      }, 'expected a date that exists')
      .refine((d) => {
        const time = Date.parse(`${d}T00:00:00Z`);
        return Number.isNaN(time) || time <= Date.now() + MAX_ACCEPTANCE_DAYS * DAY;
      }, `expected a day at most ${MAX_ACCEPTANCE_DAYS} days ahead: an acceptance is renewed, not open-ended`)
      .describe(
        `The last day the acceptance covers the opening (YYYY-MM-DD), at most ${MAX_ACCEPTANCE_DAYS} days ahead; after it, the opening fails the diff and the verifier again, and synth warns.`,
      ),
  })
  .describe('A risk a reviewer accepted: an opening of the posture diff, why, by whom, until when.');

const acceptedRisks = z
  .array(acceptedRisk)
  .default([])
  .describe(
    'Openings of the posture diff (`npm run verify -- NEW --baseline OLD`) that reviewers accepted: the diff names the acceptance beside each opening it covers and does not fail on it until it expires. The blueprint builds nothing from them.',
  );

export const reviewFields = { acceptedRisks };

type RawReview = z.output<typeof acceptedRisks>;

// Cross-field rules

export const acceptedRiskIdsOnce: CrossFieldRule<{ readonly acceptedRisks: RawReview }> = {
  requires: ['`acceptedRisks` names each `id` once.'],
  check: ({ acceptedRisks: risks }) =>
    duplicates(risks.map((r) => r.id)).map(([at, first]) => ({
      path: ['acceptedRisks', at, 'id'],
      value: risks[at].id,
      message: `duplicate id; acceptedRisks[${first}] has it already`,
    })),
};

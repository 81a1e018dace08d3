import { z } from 'zod';
import { parseCidr } from '../cidr';

/** Lower-case letters, digits and single hyphens, starting with a letter: safe in stack names and ids. */
const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** An IAM role or user ARN, exact: never an account root, which trusts every principal of its account. */
export const PRINCIPAL_ARN = /^arn:aws(-[a-z]+)*:iam::\d{12}:(role|user)\/[\w+=,.@/-]{1,512}$/;

/**
 * The outline of an IPv4 CIDR block, for the JSON Schema: editors flag a malformed block, while
 * the prefix range and the host bits are left to the refinement, which JSON Schema cannot run.
 */
const CIDR_OUTLINE = '^\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}$';

export const name = (what: string, max: number) =>
  z
    .string()
    .max(max, `expected ${what} of at most ${max} characters`)
    .regex(NAME, `expected ${what}: lower-case letters, digits and single hyphens, starting with a letter`);

export const ipv4Cidr = (minPrefix: number, maxPrefix: number) =>
  z
    .string()
    .superRefine((value, ctx) => {
      const problem = parseCidr(value, minPrefix, maxPrefix).error;
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .meta({ pattern: CIDR_OUTLINE });

/**
 * How the configuration reference states a default that the schema cannot show: one that code
 * works out (from the segment's kind, the data class, another field), or what leaving an optional
 * field out means. Register it last, on the field as its parent object holds it.
 */
export const defaultText = z.registry<{ text: string }>();

/** Values as a Markdown list of code spans, for default texts. */
export const codeList = (values: readonly (string | number)[]) => values.map((v) => `\`${v}\``).join(', ');

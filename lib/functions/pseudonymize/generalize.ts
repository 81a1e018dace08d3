import { HHS_SMALL_ZIP3 } from './small-areas';

/** A value that cannot be transformed: the record goes to quarantine with this reason. */
export class RecordRejection extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'RecordRejection';
  }
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/;

export function parseDate(value: string, field: string): { year: string; month: string; day: string } {
  const match = ISO_DATE.exec(value.trim());
  if (!match) throw new RecordRejection(`${field}: expected an ISO 8601 date such as 1984-07-12`);
  const [, year, month, day] = match;
  const m = Number(month);
  const d = Number(day);
  const daysInMonth = new Date(Date.UTC(Number(year), m, 0)).getUTCDate();
  if (m < 1 || m > 12 || d < 1 || d > daysInMonth) {
    throw new RecordRejection(`${field}: not a calendar date`);
  }
  return { year, month, day };
}

/** A date as parseDate reads it, generalised to its year (1984-07-12 → 1984) or month (→ 1984-07). */
export function generalizeDate(
  date: { readonly year: string; readonly month: string },
  to: 'date-to-year' | 'date-to-month',
): string {
  return to === 'date-to-year' ? date.year : `${date.year}-${date.month}`;
}

/** 1984-07-12 → 1984. */
export function dateToYear(value: string, field: string): string {
  return generalizeDate(parseDate(value, field), 'date-to-year');
}

/** 1984-07-12 → 1984-07. */
export function dateToMonth(value: string, field: string): string {
  return generalizeDate(parseDate(value, field), 'date-to-month');
}

/** The oldest age reported as itself; older ages become `90+` (HIPAA Safe Harbor). */
export const MAX_REPORTED_AGE = 89;
const MAX_PLAUSIBLE_AGE = 130;

/** What Safe Harbor reports for ages over 89, and for the dates of such patients. */
export const OVER_89 = `${MAX_REPORTED_AGE + 1}+`;

/** Whole years from 0 to 130, or a rejection. */
export function parseAge(value: string, field: string): number {
  const text = value.trim();
  if (!/^\d{1,3}$/.test(text) || Number(text) > MAX_PLAUSIBLE_AGE) {
    throw new RecordRejection(`${field}: expected a whole number of years from 0 to ${MAX_PLAUSIBLE_AGE}`);
  }
  return Number(text);
}

/** An age as reported: 90 and over → `90+`. */
export function reportedAge(age: number): string {
  return age > MAX_REPORTED_AGE ? OVER_89 : String(age);
}

/** Whole years; 90 and over → `90+`. */
export function generalizeAge(value: string, field: string): string {
  return reportedAge(parseAge(value, field));
}

/** Age in whole years on `asOf` (YYYY-MM-DD) of someone born on `born` (as parseDate reads it). */
export function ageOn(born: { year: string; month: string; day: string }, asOf: string): number {
  const [year, month, day] = asOf.split('-').map(Number);
  const age = year - Number(born.year);
  return month < Number(born.month) || (month === Number(born.month) && day < Number(born.day))
    ? age - 1
    : age;
}

const HHS_AREAS: ReadonlySet<string> = new Set(HHS_SMALL_ZIP3.areas);

/** 02139 or 02139-4307 → 021; a prefix of a small area → 000. */
export function zip3(value: string, field: string, smallAreas: ReadonlySet<string> = HHS_AREAS): string {
  const text = value.trim();
  if (!/^\d{5}(-\d{4})?$/.test(text)) {
    throw new RecordRejection(`${field}: expected a five-digit ZIP code, optionally ZIP+4`);
  }
  const prefix = text.slice(0, 3);
  return smallAreas.has(prefix) ? '000' : prefix;
}

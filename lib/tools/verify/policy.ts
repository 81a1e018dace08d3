/** A statement of an IAM, bucket, topic, queue, key or log-group policy, resolved. */
export interface Statement {
  Sid?: string;
  Effect: string;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
  Principal?: unknown;
}

export const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
export const strings = (v: unknown) => list(v).map(String);

/** Whether an IAM pattern (`*` any run of characters, `?` any one) matches a value; symbolic parts compare literally. */
export function matches(pattern: string, value: string): boolean {
  let regex = compiled.get(pattern);
  if (!regex) {
    regex = new RegExp(
      `^${pattern
        .split('*')
        .map((part) =>
          part
            .split('?')
            .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
            .join('.'),
        )
        .join('.*')}$`,
    );
    compiled.set(pattern, regex);
  }
  return regex.test(value);
}

/** Patterns already compiled: the same few hundred come back for every resource and action. */
const compiled = new Map<string, RegExp>();

/** Action names compare without case. */
export const actionMatches = (granted: string, wanted: string) =>
  matches(granted.toLowerCase(), wanted.toLowerCase());

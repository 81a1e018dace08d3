/**
 * The one wildcard matcher of the blueprint: IAM patterns in policies, and the openings an
 * accepted risk names (which config validation and the verifier's posture diff both read).
 */

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

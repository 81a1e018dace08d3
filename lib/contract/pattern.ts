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

/**
 * Whether two principal ARNs, either of which may be a pattern (`*` any run, `?` one character),
 * can name one principal: whether some ARN matches both. IAM names are unique regardless of case:
 * role/Alice is role/alice.
 */
export function principalsOverlap(a: string, b: string): boolean {
  // IAM Identity Center's roles are `…:role/aws-reserved/sso.amazonaws.com/[<region>/]<name>`: a
  // path only Identity Center creates (no one else may create roles under /aws-reserved/), whose
  // segments before the name are at most a region. Two patterns of them can name one role only if
  // their names can be one name, whatever a `*` before the name would match elsewhere.
  const [sa, sb] = [SSO_ROLE.exec(a), SSO_ROLE.exec(b)];
  if (sa && sb) {
    if (sa[1].toLowerCase() !== sb[1].toLowerCase()) return false;
    const name = (p: string) => p.slice(p.lastIndexOf('/') + 1);
    return globsOverlap(name(a), name(b));
  }
  return globsOverlap(a, b);
}

/** The literal start of an IAM Identity Center role ARN: partition, account, the reserved path. */
const SSO_ROLE = /^(arn:[a-z-]+:iam::\d{12}:role\/aws-reserved\/sso\.amazonaws\.com\/)/i;

/** Whether some string matches both patterns (`*` any run, `?` one character), regardless of case. */
function globsOverlap(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const seen = new Set<string>();
  const todo: [number, number][] = [[0, 0]];
  while (todo.length > 0) {
    const [i, j] = todo.pop()!;
    const key = `${i},${j}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (i === x.length && j === y.length) return true;
    // A star may match nothing.
    if (x[i] === '*') todo.push([i + 1, j]);
    if (y[j] === '*') todo.push([i, j + 1]);
    // Or both produce one character: stars stay, anything else moves on.
    if (i < x.length && j < y.length) {
      const wild = (c: string) => c === '*' || c === '?';
      if (wild(x[i]) || wild(y[j]) || x[i] === y[j]) {
        todo.push([x[i] === '*' ? i : i + 1, y[j] === '*' ? j : j + 1]);
      }
    }
  }
  return false;
}

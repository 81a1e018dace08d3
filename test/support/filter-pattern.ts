/**
 * Evaluates a CloudWatch Logs JSON filter pattern against an event, for the subset the blueprint
 * writes: `{ ... }` around comparisons `$.a.b = "text*"`, `!=`, numbers (also `<`, `>`, `<=`, `>=`), `NOT EXISTS`, combined
 * with `&&`, `||` and parentheses. A comparison on a field the event lacks is false, `=` and `!=`
 * alike, as CloudWatch Logs treats it; `NOT EXISTS` is true then.
 */
export function matchesPattern(pattern: string, event: unknown): boolean {
  const body = /^\{\s*([\s\S]*)\s*\}$/.exec(pattern.trim());
  if (!body) throw new Error(`not a JSON filter pattern: ${pattern}`);
  const tokens =
    body[1].match(/\(|\)|&&|\|\||\$\.[\w.]+|!=|<=|>=|<|>|=|NOT EXISTS|"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?/g) ??
    [];
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++];

  function or(): boolean {
    let value = and();
    while (peek() === '||') {
      next();
      const right = and();
      value = value || right;
    }
    return value;
  }
  function and(): boolean {
    let value = unary();
    while (peek() === '&&') {
      next();
      const right = unary();
      value = value && right;
    }
    return value;
  }
  function unary(): boolean {
    if (peek() === '(') {
      next();
      const value = or();
      if (next() !== ')') throw new Error(`unbalanced parentheses in ${pattern}`);
      return value;
    }
    const selector = next();
    if (!selector?.startsWith('$.')) throw new Error(`expected a selector at token ${i} of ${pattern}`);
    const actual = selector
      .slice(2)
      .split('.')
      .reduce<unknown>(
        (node, key) =>
          node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined,
        event,
      );
    const operator = next();
    if (operator === 'NOT EXISTS') return actual === undefined;
    const literal = next() ?? '';
    if (actual === undefined || actual === null) return false;
    const expected = literal.startsWith('"') ? (JSON.parse(literal) as string) : literal;
    const equal = literal.startsWith('"')
      ? new RegExp(
          `^${expected
            .split('*')
            .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
            .join('.*')}$`,
        ).test(typeof actual === 'string' ? actual : JSON.stringify(actual))
      : Number(actual) === Number(expected);
    if (operator === '=') return equal;
    if (operator === '!=') return !equal;
    // Numeric comparisons, on numbers only.
    const [a, b] = [Number(actual), Number(expected)];
    if (!literal.startsWith('"') && !Number.isNaN(a)) {
      if (operator === '<') return a < b;
      if (operator === '>') return a > b;
      if (operator === '<=') return a <= b;
      if (operator === '>=') return a >= b;
    }
    throw new Error(`unknown operator ${operator} in ${pattern}`);
  }

  const result = or();
  if (i !== tokens.length) throw new Error(`unparsed tokens from ${i} in ${pattern}`);
  return result;
}

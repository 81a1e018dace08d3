/** A cross-field problem, with the value at fault (which may be a default the file did not set). */
export interface Issue {
  readonly path: (string | number)[];
  readonly message: string;
  readonly value?: unknown;
}

/** A rule that spans fields, so that no field's type can state it. */
export interface CrossFieldRule<C> {
  /** What the rule requires, one sentence each, as the configuration reference lists them. */
  readonly requires: readonly string[];
  readonly check: (config: C) => Issue[];
}

/** A rule that each item of a list (a segment, a dataset) must meet. */
export interface ItemRule<C, T> {
  readonly requires: string;
  readonly check: (item: T, index: number, config: C) => Issue[];
}

/** Applies item rules item by item, so that each item's problems are reported together. */
export function eachItem<C, T>(
  items: (config: C) => readonly T[],
  rules: readonly ItemRule<C, T>[],
): CrossFieldRule<C> {
  return {
    requires: rules.map((r) => r.requires),
    check: (config) => items(config).flatMap((item, i) => rules.flatMap((r) => r.check(item, i, config))),
  };
}

/** [index, index of the first occurrence] of every repeated value. */
export function duplicates(values: readonly string[]): [number, number][] {
  return values.flatMap((value, i) => {
    const first = values.indexOf(value);
    return first < i ? [[i, first] as [number, number]] : [];
  });
}

/** The value after `--name` on the command line, if the flag is there. */
export function option(argv: readonly string[], name: string): string | undefined {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? argv[at + 1] : undefined;
}

/** The arguments that are neither a flag nor the value of one of the flags `valued` names. */
export function positionals(argv: readonly string[], valued: readonly string[]): string[] {
  return argv.filter((a, i) => !a.startsWith('--') && !valued.some((name) => argv[i - 1] === `--${name}`));
}

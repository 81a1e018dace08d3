import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import * as ts from 'typescript';

/** One import of a module, as written in a file. */
interface Import {
  readonly specifier: string;
  /** Erased by the compiler: `import type`, or only `type` names. It loads nothing at run time. */
  readonly typeOnly: boolean;
}

function importsOf(file: string): Import[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const found: Import[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const bindings = clause?.namedBindings;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            bindings !== undefined &&
            ts.isNamedImports(bindings) &&
            bindings.elements.length > 0 &&
            bindings.elements.every((e) => e.isTypeOnly)));
      found.push({ specifier: node.moduleSpecifier.text, typeOnly });
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      found.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      found.push({ specifier: node.moduleReference.expression.text, typeOnly: node.isTypeOnly });
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === 'require')) &&
      node.arguments.length === 1 &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      found.push({ specifier: node.arguments[0].text, typeOnly: false });
    } else if (ts.isImportTypeNode(node)) {
      // `import('x').T` in a type position: erased.
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function resolveRelative(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  // A JSON file is data: it resolves, and imports nothing.
  return [`${base}.ts`, join(base, 'index.ts'), base].find(
    (p) => existsSync(p) && (p.endsWith('.ts') || p.endsWith('.json')),
  );
}

/** The package a bare specifier names: `@scope/name/sub` -> `@scope/name`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Whether a package (found from `from`) depends on one of `forbidden`, as a dependency or peer. */
function packageDependsOn(pkg: string, from: string, forbidden: readonly string[]): boolean {
  if (pkg.startsWith('node:')) return false;
  let manifest: string;
  try {
    manifest = require.resolve(`${pkg}/package.json`, { paths: [dirname(from)] });
  } catch {
    return false; // a Node.js built-in, or a package that hides its manifest (none of ours do)
  }
  const json = JSON.parse(readFileSync(manifest, 'utf8')) as {
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
  };
  return forbidden.some((f) => f in (json.dependencies ?? {}) || f in (json.peerDependencies ?? {}));
}

export function typeScriptFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return typeScriptFilesUnder(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/**
 * Every way the files under `roots` reach one of the `forbidden` packages: directly, through a
 * package that depends on it, or through the relative imports they load at run time, followed
 * transitively (type-only imports are erased by the compiler and load nothing, so they are not
 * followed). Each as `a.ts -> b.ts -> package`, paths relative to `base`; an import that resolves
 * to no file is reported too, so that nothing is skipped unseen.
 */
export function forbiddenImportChains(
  roots: readonly string[],
  forbidden: readonly string[],
  base: string,
): string[] {
  const chains: string[] = [];
  const seen = new Set<string>();
  const show = (path: string) => relative(base, path);
  const walk = (file: string, via: readonly string[]): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const chain = [...via, show(file)];
    for (const { specifier, typeOnly } of importsOf(file)) {
      if (specifier.startsWith('.')) {
        const target = resolveRelative(file, specifier);
        if (target === undefined) chains.push(`${chain.join(' -> ')} -> ${specifier} (not found)`);
        else if (!typeOnly && target.endsWith('.ts')) walk(target, chain);
        continue;
      }
      const pkg = packageName(specifier);
      if (forbidden.includes(pkg)) chains.push(`${chain.join(' -> ')} -> ${specifier}`);
      else if (!typeOnly && packageDependsOn(pkg, file, forbidden)) {
        chains.push(`${chain.join(' -> ')} -> ${specifier} (which depends on ${forbidden.join(' or ')})`);
      }
    }
  };
  for (const root of roots) walk(root, []);
  return chains;
}

/**
 * The relative imports of the files under `folder` that lead out of it, as `file -> specifier`
 * (paths relative to `base`), whether or not they load anything at run time.
 */
export function importsLeaving(folder: string, base: string): string[] {
  return typeScriptFilesUnder(folder).flatMap((file) =>
    importsOf(file)
      .filter(({ specifier }) => specifier.startsWith('.'))
      .filter(({ specifier }) => relative(folder, resolve(dirname(file), specifier)).startsWith('..'))
      .map(({ specifier }) => `${relative(base, file)} -> ${specifier}`),
  );
}

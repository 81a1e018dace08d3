import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as ts from 'typescript';
import { ZONE_CONTROLS } from '../lib/classification';
import { SEGMENT_KIND_PROFILES, SEGMENT_KINDS } from '../lib/segment-kinds';

const ROOT = join(__dirname, '..');
const KINDS_FILE = join(ROOT, 'lib', 'segment-kinds.ts');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Type-checks the app (bin and lib) with lib/segment-kinds.ts replaced; returns `file:line message`. */
function typeErrorsWith(
  kindsSource: string,
  oldProgram?: ts.Program,
): { errors: string[]; program: ts.Program } {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  )!;
  const host = ts.createCompilerHost(config.options);
  const readFile = host.readFile.bind(host);
  host.readFile = (file) => (file === KINDS_FILE ? kindsSource : readFile(file));
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, language, onError, create) =>
    file === KINDS_FILE
      ? ts.createSourceFile(file, kindsSource, language)
      : getSourceFile(file, language, onError, create);
  const rootNames = [join(ROOT, 'bin', 'app.ts'), ...sources(join(ROOT, 'lib'))];
  const program = ts.createProgram({ rootNames, options: config.options, host, oldProgram });
  // The places a kind can be missing are the files that use the kinds' module (the whole app is
  // type-checked by npm test already); checking only those keeps this test fast.
  const users = program
    .getSourceFiles()
    .filter((f) => f.fileName === KINDS_FILE || /from '[./]+(?:\.\.\/)*segment-kinds'/.test(f.text));
  const errors = [
    ...program.getGlobalDiagnostics(),
    ...users.flatMap((f) => [...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f)]),
  ].map((d) => {
    const where = d.file
      ? `${relative(ROOT, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}`
      : '';
    return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
  return { errors, program };
}

describe('segment kinds', () => {
  test('adding a kind: the compiler points at its profile, the one place to fill', () => {
    const original = readFileSync(KINDS_FILE, 'utf8');
    const declaration =
      "export const SEGMENT_KINDS = ['development', 'training', 'inference', 'pipeline'] as const;";
    expect(original).toContain(declaration);
    const withKind = original.replace(
      declaration,
      declaration.replace("'pipeline']", "'pipeline', 'evaluation']"),
    );
    const first = typeErrorsWith(withKind);
    expect(first.errors).toEqual([
      expect.stringMatching(/^lib\/segment-kinds\.ts:\d+ Property 'evaluation' is missing in type/),
    ]);

    // The recipe in CONTRIBUTING.md: one profile entry, and the app compiles again.
    const profiles =
      'export const SEGMENT_KIND_PROFILES: Readonly<Record<SegmentKind, SegmentKindProfile>> = {';
    expect(withKind).toContain(profiles);
    const withProfile = withKind.replace(
      profiles,
      `${profiles}
  evaluation: {
    purpose: 'Evaluates models on held-out curated data, offline',
    internet: 'never',
    defaultEgressAllowlist: [],
    defaultInterfaceEndpoints: ['sagemaker-api', 'sagemaker-runtime', 'logs', 'kms'],
    zonePath: ['curated', 'models'],
    sagemaker: {
      reads: ['curated', 'models'],
      writes: [],
      volumeClassification: 'pii',
      hostsEndpoints: false,
      studio: false,
      logGroups: ['/aws/sagemaker/ProcessingJobs'],
    },
  },`,
    );
    expect(typeErrorsWith(withProfile, first.program).errors).toEqual([]);
  });

  test('a kind gets zone access only from its profile: nothing by default', () => {
    // Written out: which kinds' execution roles each zone admits, and whose endpoints reach it.
    expect(Object.fromEntries(Object.entries(ZONE_CONTROLS).map(([zone, c]) => [zone, c.segments]))).toEqual({
      raw: ['pipeline'],
      curated: ['development', 'training', 'pipeline'],
      models: ['training', 'inference'],
      quarantine: ['pipeline'],
    });
    const kindActors = (actors: readonly string[]) =>
      actors.filter((a) => (SEGMENT_KINDS as readonly string[]).includes(a));
    expect(
      Object.fromEntries(
        Object.entries(ZONE_CONTROLS).map(([zone, c]) => [
          zone,
          { read: kindActors(c.readers), write: kindActors(c.writers), prefix: c.prefixWriters ?? [] },
        ]),
      ),
    ).toEqual({
      raw: { read: [], write: [], prefix: [] },
      curated: { read: ['development', 'training'], write: [], prefix: [] },
      models: {
        read: ['inference'],
        write: ['training'],
        prefix: [{ actor: 'inference', prefix: 'data-capture/' }],
      },
      quarantine: { read: [], write: [], prefix: [] },
    });
    expect(SEGMENT_KIND_PROFILES.pipeline.sagemaker).toBeUndefined();
  });
});

/**
 * Type-checks the project (what `tsc --noEmit` does), then tries the "add a segment kind" recipe
 * of CONTRIBUTING.md on the same program: with a new kind in SEGMENT_KINDS the compiler must point
 * at its profile, the one place to fill, and with the profile written the app must compile. The
 * second program reuses the first's parsed files, so the recipe costs a few seconds, not a second
 * type-check.
 *
 *   npm run typecheck
 */
import { join, relative } from 'node:path';
import * as ts from 'typescript';

const ROOT = join(__dirname, '..');
const KINDS_FILE = join(ROOT, 'lib', 'segment-kinds.ts');
const DECLARATION =
  "export const SEGMENT_KINDS = ['development', 'training', 'inference', 'pipeline'] as const;";
const PROFILES = 'export const SEGMENT_KIND_PROFILES: Readonly<Record<SegmentKind, SegmentKindProfile>> = {';
/** The profile the recipe writes for the new kind. */
const NEW_PROFILE = `
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
  },`;

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

/** Parsed files, shared by the programs: only the changed kinds module is parsed again. */
const parsed = new Map<string, ts.SourceFile | undefined>();

/** A program of the project with lib/segment-kinds.ts read as `kinds` (the file itself when undefined). */
function program(kinds?: string, oldProgram?: ts.Program): ts.Program {
  const host = ts.createCompilerHost(config.options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, language, onError, create) => {
    if (file === KINDS_FILE && kinds !== undefined) return ts.createSourceFile(file, kinds, language);
    if (!parsed.has(file)) parsed.set(file, getSourceFile(file, language, onError, create));
    return parsed.get(file);
  };
  return ts.createProgram({ rootNames: config.fileNames, options: config.options, host, oldProgram });
}

/** `file:line message` of the diagnostics of the files that use the kinds module (where a kind can be missing). */
function kindErrors(p: ts.Program): string[] {
  const users = p
    .getSourceFiles()
    .filter(
      (f) => f.fileName === KINDS_FILE || (!f.isDeclarationFile && /from '[./]*segment-kinds'/.test(f.text)),
    );
  return [
    ...p.getGlobalDiagnostics(),
    ...users.flatMap((f) => [...p.getSyntacticDiagnostics(f), ...p.getSemanticDiagnostics(f)]),
  ].map(
    (d) =>
      `${d.file ? `${relative(ROOT, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : ''} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`,
  );
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

let started = Date.now();
const lap = () => {
  const ms = Date.now() - started;
  started = Date.now();
  return `${(ms / 1000).toFixed(1)} s`;
};
const project = program();
const diagnostics = ts.getPreEmitDiagnostics(project);
if (diagnostics.length > 0) {
  console.error(
    ts.formatDiagnosticsWithColorAndContext(diagnostics, {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => ROOT,
      getNewLine: () => '\n',
    }),
  );
  fail(`Found ${diagnostics.length} error(s).`);
}

const original = ts.sys.readFile(KINDS_FILE)!;
if (!original.includes(DECLARATION) || !original.includes(PROFILES)) {
  fail(
    `${relative(ROOT, KINDS_FILE)} no longer declares SEGMENT_KINDS or SEGMENT_KIND_PROFILES as the recipe says: update CONTRIBUTING.md and this check`,
  );
}
const checked = lap();
const withKind = original.replace(
  DECLARATION,
  DECLARATION.replace("'pipeline']", "'pipeline', 'evaluation']"),
);
const added = program(withKind, project);
const pointed = kindErrors(added);
if (
  pointed.length !== 1 ||
  !/^lib\/segment-kinds\.ts:\d+ Property 'evaluation' is missing in type/.test(pointed[0])
) {
  fail(
    `Adding a segment kind should make the compiler point at its profile alone; it said:\n${pointed.join('\n')}`,
  );
}
const filled = kindErrors(program(withKind.replace(PROFILES, `${PROFILES}${NEW_PROFILE}`), added));
if (filled.length > 0)
  fail(`With the new kind's profile written, the app should compile; it said:\n${filled.join('\n')}`);
console.log(
  `type-check: no errors (${checked}); adding a segment kind points at its profile only, ${pointed[0].split(' ')[0]} (${lap()})`,
);

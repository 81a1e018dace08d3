import { cpSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workerScript } from '../../lib/gate/worker-script';
import { importsLeaving, typeScriptFilesUnder } from '../support/imports';

const ROOT = join(__dirname, '..', '..');
const WORKERS = join(ROOT, 'lib', 'gate', 'workers');
const FIXTURE = join(__dirname, '..', 'fixtures', 'gate-workers');

/** A copy of the fixture folder elsewhere, its job.ts replaced by `job` if given. */
function copyOfFixture(job?: string): string {
  const folder = join(mkdtempSync(join(tmpdir(), 'aiseg-workers-')), 'gate-workers');
  cpSync(FIXTURE, folder, { recursive: true });
  if (job !== undefined) writeFileSync(join(folder, 'job.ts'), job);
  return folder;
}

describe('workerScript', () => {
  test('gives each worker of the gate as plain JavaScript, built from its TypeScript', () => {
    for (const file of typeScriptFilesUnder(WORKERS)) {
      const script = workerScript(file.replace(/\.ts$/, ''));
      expect(script).toMatch(/\.js$/);
      expect(readFileSync(script, 'utf8')).not.toMatch(/^import |: string\b|\binterface /m);
    }
  });

  test('builds once per content: the same folder gives the same file, untouched', () => {
    const entry = join(FIXTURE, 'job');
    const first = workerScript(entry);
    const built = statSync(first).mtimeMs;
    expect(workerScript(entry)).toBe(first);
    expect(statSync(first).mtimeMs).toBe(built);
    // Content-addressed: the same files in another place give the same script.
    expect(workerScript(join(copyOfFixture(), 'job'))).toBe(first);
  });

  test('a change to any file of the folder gives another script', () => {
    const changed = workerScript(join(copyOfFixture('process.stdout.write("changed");\n'), 'job'));
    expect(changed).not.toBe(workerScript(join(FIXTURE, 'job')));
    expect(readFileSync(changed, 'utf8')).toContain('changed');
  });

  test("the gate's workers import nothing outside their folder but packages (the hash covers only it)", () => {
    expect(importsLeaving(WORKERS, ROOT)).toEqual([]);
  });
});

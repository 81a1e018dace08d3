import { DEFAULT_SEGMENTS } from '../../lib/config/schema';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, configFromContext, misspeltConfigKeys } from '../../lib/config/load';
import { ConfigError, validateConfig } from '../../lib/config/validate';
import { buildBlueprint, recordConfigSource } from '../../lib/blueprint';
import { testApp } from '../support/synth';
import { ACCEPTED_RISK } from '../support/fixtures';

const ROOT = join(__dirname, '..', '..');

function writeTemp(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'aiseg-config-')), name);
  writeFileSync(file, text);
  return file;
}

function loadError(path: string): ConfigError {
  try {
    loadConfig(path);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`${path} was accepted`);
}

describe('loadConfig', () => {
  test('without a file, returns the validated defaults', () => {
    expect(loadConfig(undefined).segments).toHaveLength(DEFAULT_SEGMENTS.length);
  });

  test('reads and validates the example file', () => {
    const config = loadConfig(join(ROOT, 'config', 'example.json'));
    expect(config.namePrefix).toBe('acme-ai');
    expect(config.segments.map((s) => s.name)).toEqual([
      'development',
      'training-oncology',
      'training-cardiology',
      'inference',
      'clinical-pipeline',
    ]);
  });

  test('names a missing file', () => {
    expect(loadError('/nonexistent/blueprint.json').message).toMatch(
      /\/nonexistent\/blueprint\.json.*cannot read the file/s,
    );
  });

  test('names a file that is not JSON', () => {
    expect(loadError(writeTemp('bad.json', '{ "namePrefix": ')).problems[0]).toMatch(/^not valid JSON: /);
  });

  test('refuses a top level that is not an object', () => {
    expect(loadError(writeTemp('list.json', '[]')).problems).toEqual([
      'config: expected a JSON object at the top level',
    ]);
  });

  test('reports validation problems with the file name', () => {
    const file = writeTemp(
      'kinds.json',
      JSON.stringify({ segments: [{ name: 'x', kind: 'lab', vpcCidr: '10.1.0.0/16' }] }),
    );
    const error = loadError(file);
    expect(error.message).toContain(file);
    expect(error.problems).toEqual([
      'config.segments[0].kind: got "lab"; expected one of development, training, inference, pipeline',
    ]);
  });
});

describe('the app, given an invalid config', () => {
  test('exits 1 with the problems on stderr and synthesizes nothing', () => {
    const file = writeTemp('overlap.json', JSON.stringify({ corporateCidrs: ['10.0.0.0/8'] }));
    const outdir = mkdtempSync(join(tmpdir(), 'aiseg-out-'));
    const result = spawnSync(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', join(ROOT, 'bin', 'app.ts')],
      {
        cwd: ROOT,
        env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ config: file }) },
        encoding: 'utf8',
      },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`Invalid blueprint configuration (${file})`);
    expect(result.stderr).toContain(
      'config.segments[0].vpcCidr: got "10.10.0.0/16" (default); overlaps corporateCidrs[0] 10.0.0.0/8; expected a range disjoint from the corporate network',
    );
    expect(readdirSync(outdir)).toEqual([]);
  });
});

describe('the config source, recorded for the verifier', () => {
  test("in the audit stack's metadata, relative to the project, or the built-in defaults", () => {
    const blueprint = buildBlueprint(testApp(), validateConfig({}));
    recordConfigSource(blueprint, join(ROOT, 'config', 'example.json'), ROOT);
    expect(blueprint.audit.templateOptions.metadata).toEqual({
      'ai-segmentation:config-source': join('config', 'example.json'),
    });
    recordConfigSource(blueprint, 'built-in defaults', ROOT);
    expect(blueprint.audit.templateOptions.metadata?.['ai-segmentation:config-source']).toBe(
      'built-in defaults',
    );
  });
});

describe("the accepted risks, recorded for the verifier's posture diff", () => {
  test("in the audit stack's metadata when there are any, and nowhere when there are none", () => {
    const risk = ACCEPTED_RISK;
    const withRisk = buildBlueprint(testApp(), validateConfig({ acceptedRisks: [risk] }));
    expect(withRisk.audit.templateOptions.metadata?.['ai-segmentation:accepted-risks']).toEqual([risk]);
    const without = buildBlueprint(testApp(), validateConfig({}));
    expect(without.audit.templateOptions.metadata?.['ai-segmentation:accepted-risks']).toBeUndefined();
  });
});

describe('the app and the command line', () => {
  const runApp = (context: Record<string, unknown>) => {
    const outdir = mkdtempSync(join(tmpdir(), 'aiseg-out-'));
    const result = spawnSync(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', join(ROOT, 'bin', 'app.ts')],
      {
        cwd: ROOT,
        env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(context) },
        encoding: 'utf8',
      },
    );
    return { result, outdir };
  };

  test('a misspelt -c config is refused, naming the key, and nothing is synthesized', () => {
    const { result, outdir } = runApp({ conifg: 'config/example.json' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'context key "conifg" looks like a misspelt "config"; expected -c config=path/to/file.json',
    );
    expect(readdirSync(outdir)).toEqual([]);
  });

  test('feature flags and other settings are not mistaken for it', () => {
    expect(
      misspeltConfigKeys([
        '@aws-cdk/core:enablePartitionLiterals',
        'cli-telemetry',
        'config',
        'aws:cdk:enable-path-metadata',
      ]),
    ).toEqual([]);
    expect(misspeltConfigKeys(['Config', 'cofnig', 'configs', 'confg'])).toEqual([
      'Config',
      'cofnig',
      'configs',
      'confg',
    ]);
  });

  test('every synth says which configuration it used', () => {
    const file = join(ROOT, 'config', 'example.json');
    expect(configFromContext({ config: 'config/example.json' }).source).toBe(file);
    expect(configFromContext({}).source).toBe('built-in defaults');
  });
});

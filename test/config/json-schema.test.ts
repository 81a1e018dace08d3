import Ajv2020 from 'ajv/dist/2020';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// The committed files, as an editor reads them (reference.test.ts keeps them equal to the schema).
const ROOT = join(__dirname, '..', '..');
const schema = JSON.parse(readFileSync(join(ROOT, 'config', 'schema.json'), 'utf8')) as Record<
  string,
  unknown
>;
const example = JSON.parse(readFileSync(join(ROOT, 'config', 'example.json'), 'utf8')) as Record<
  string,
  unknown
> & { segments: Record<string, unknown>[]; audit: Record<string, unknown> };

// zod emits draft 2020-12, which Ajv's default class does not read.
const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);

/** The JSON Schema's errors for a config, as `path: message`. */
function errors(config: unknown): string[] {
  return validate(config)
    ? []
    : (validate.errors ?? []).map(
        (e) =>
          `${e.instancePath}: ${e.message}${e.keyword === 'additionalProperties' ? ` (${String(e.params.additionalProperty)})` : ''}`,
      );
}

const withSegment = (overrides: Record<string, unknown>) => ({
  ...example,
  segments: [{ ...example.segments[0], ...overrides }, ...example.segments.slice(1)],
});

describe('config/schema.json', () => {
  test('is draft 2020-12', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  test('accepts the example configuration, which names it in $schema', () => {
    expect(example.$schema).toBe('./schema.json');
    expect(errors(example)).toEqual([]);
  });

  test('accepts an empty configuration, with or without $schema', () => {
    expect(errors({})).toEqual([]);
    expect(errors({ $schema: './schema.json' })).toEqual([]);
  });

  test('refuses a misspelt top-level field', () => {
    const { namePrefix, ...rest } = example;
    expect(errors({ ...rest, namPrefix: namePrefix })).toEqual([
      ': must NOT have additional properties (namPrefix)',
    ]);
  });

  test('refuses a misspelt nested field', () => {
    const { vpcCidr, ...segment } = example.segments[0];
    expect(
      errors({ ...example, segments: [{ ...segment, vpcCdir: vpcCidr }, ...example.segments.slice(1)] }),
    ).toEqual([
      "/segments/0: must have required property 'vpcCidr'",
      '/segments/0: must NOT have additional properties (vpcCdir)',
    ]);
  });

  test('refuses a value of the wrong type', () => {
    expect(errors({ ...example, audit: { ...example.audit, logRetentionYears: 'seven' } })).toEqual(
      expect.arrayContaining(['/audit/logRetentionYears: must be number']),
    );
  });

  // What the JSON Schema cannot check (cross-field rules, a CIDR's prefix range and host bits) is
  // left to the loader; what it does check must agree with it.
  test.each([
    ['a retention CloudWatch cannot keep', { audit: { logRetentionYears: 4 } }, '/audit/logRetentionYears'],
    ['a malformed CIDR', withSegment({ vpcCidr: '10.50.0/16' }), '/segments/0/vpcCidr'],
    [
      'an allowlist wildcard',
      withSegment({ egressAllowlist: ['*.example.org'] }),
      '/segments/0/egressAllowlist/0',
    ],
    ['an e-mail without a domain', { audit: { alertEmails: ['soc.example.org'] } }, '/audit/alertEmails/0'],
    ['an unknown segment kind', withSegment({ kind: 'staging' }), '/segments/0/kind'],
  ])('refuses %s, as the loader does', (_what, config, path) => {
    expect(errors(config).map((e) => e.split(':')[0])).toContain(path);
  });

  test.each([
    ['a retention CloudWatch keeps', { audit: { logRetentionYears: 7 } }],
    ['an e-mail domain in capitals', { audit: { alertEmails: ['SOC@Example.ORG'] } }],
    ['a domain with its subdomains', withSegment({ egressAllowlist: ['.hf.co', 'pypi.org'] })],
    ['a data class that is never archived', { dataRetention: { proprietary: { archiveAfterDays: null } } }],
  ])('accepts %s, as the loader does', (_what, config) => {
    expect(errors(config)).toEqual([]);
  });
});

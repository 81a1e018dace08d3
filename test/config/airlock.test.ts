import { ConfigError, validateConfig } from '../../lib/config/validate';

function problems(raw: unknown): string[] {
  try {
    validateConfig(raw, 'test.json');
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error(`config was accepted: ${JSON.stringify(raw)}`);
}

const ACCOUNT = '123456789012';
const arn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const identities = {
  dataScientists: [arn('DataScience')],
  breakGlass: { enabled: true, principals: [arn('IncidentResponse')] },
};
const airlock = { importers: [arn('ClinicalDataSteward')], reviewers: [arn('DataGovernance')] };

describe('the airlock config', () => {
  test('is off unless set, and takes named importers and reviewers with defaults', () => {
    expect(validateConfig({}).airlock).toBeUndefined();
    expect(validateConfig({ identities, airlock }).airlock).toEqual({
      ...airlock,
      reviewDays: 14,
      keepCopiedDays: 30,
    });
  });

  test('refuses the same principal as importer and reviewer', () => {
    expect(
      problems({
        identities,
        airlock: { ...airlock, reviewers: [arn('DataGovernance'), arn('ClinicalDataSteward')] },
      }),
    ).toEqual([
      `config.airlock.reviewers[1]: got "${arn('ClinicalDataSteward')}"; ${arn('ClinicalDataSteward')} is also an importer: expected reviewers who never import, since the same principal may not request and approve`,
    ]);
  });

  test('refuses an account root, which stands for every principal of the account', () => {
    const [problem] = problems({
      identities,
      airlock: { ...airlock, reviewers: [`arn:aws:iam::${ACCOUNT}:root`] },
    });
    expect(problem).toContain('config.airlock.reviewers[0]');
    expect(problem).toContain('not an account root');
  });

  test('refuses an importer who reads curated, named or matched by a pattern', () => {
    expect(
      problems({ identities: { ...identities, dataScientists: [arn('ClinicalDataSteward')] }, airlock }),
    ).toEqual([
      expect.stringContaining(
        `config.airlock.importers[0]: got "${arn('ClinicalDataSteward')}"; ${arn('ClinicalDataSteward')} may assume the data scientist role (identities.dataScientists), which reads the curated zone`,
      ),
    ]);
    expect(
      problems({
        identities: {
          ...identities,
          mfa: 'identity-provider',
          breakGlass: { enabled: true, principals: [arn('Clinical*')] },
        },
        airlock,
      })[0],
    ).toContain('may assume the break-glass role (identities.breakGlass.principals)');
  });

  test('with an airlock, unset curated readers are accepted: their roles trust no one', () => {
    expect(() => validateConfig({ airlock, identities: { breakGlass: { enabled: false } } })).not.toThrow();
    expect(() =>
      validateConfig({ airlock, identities: { dataScientists: [arn('DataScience')] } }),
    ).not.toThrow();
  });

  test('refuses a principal named twice, and review windows out of range', () => {
    const found = problems({
      identities,
      airlock: { ...airlock, importers: [arn('A'), arn('A')], reviewDays: 0, keepCopiedDays: 0 },
    });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringContaining('config.airlock.importers[1]'),
        expect.stringContaining('config.airlock.reviewDays'),
        expect.stringContaining('config.airlock.keepCopiedDays'),
      ]),
    );
  });

  test('compares principals as IAM names them, whatever their case', () => {
    expect(
      problems({
        identities,
        airlock: { ...airlock, reviewers: [arn('clinicaldatasteward')] },
      }),
    ).toEqual([expect.stringContaining('is also an importer')]);
    expect(
      problems({ identities: { ...identities, dataScientists: [arn('CLINICALDATASTEWARD')] }, airlock }),
    ).toEqual([expect.stringContaining('may assume the data scientist role')]);
  });
});

describe('the airlock export config', () => {
  const requesters = { ...identities, mlEngineers: [arn('MlEngineering')] };
  const exporting = (exp: object, ids: object = requesters) => ({
    namePrefix: 'acme-ai',
    identities: ids,
    airlock: { ...airlock, export: exp },
  });
  const destination = { bucket: 'partner-results', account: '210987654321' };

  test('is off unless set, and takes sources and a destination with a default prefix', () => {
    expect(validateConfig({ identities, airlock }).airlock?.export).toBeUndefined();
    expect(
      validateConfig(exporting({ sources: ['curated', 'models'], destination })).airlock?.export,
    ).toEqual({
      sources: ['curated', 'models'],
      destination: { ...destination, prefix: 'airlock/' },
    });
  });

  test('refuses a phi source: phi never leaves', () => {
    expect(problems(exporting({ sources: ['models', 'raw', 'quarantine'], destination }))).toEqual([
      'config.airlock.export.sources[1]: got "raw"; raw is a zone of class phi: phi never leaves through the airlock; expected a zone of another class (curated, models)',
      'config.airlock.export.sources[2]: got "quarantine"; quarantine is a zone of class phi: phi never leaves through the airlock; expected a zone of another class (curated, models)',
    ]);
    expect(problems(exporting({ sources: ['models', 'models'], destination }))).toEqual([
      expect.stringContaining('config.airlock.export.sources[1]: got "models"; duplicate zone'),
    ]);
    expect(problems(exporting({ sources: [], destination }))[0]).toContain('config.airlock.export.sources');
  });

  test("refuses a destination that is one of the blueprint's buckets, or no bucket, account or prefix at all", () => {
    expect(
      problems(
        exporting({ sources: ['models'], destination: { ...destination, bucket: 'acme-ai-models-1' } }),
      ),
    ).toEqual([
      expect.stringContaining(
        'config.airlock.export.destination.bucket: got "acme-ai-models-1"; the blueprint names its own buckets acme-ai-…',
      ),
    ]);
    const bad = problems(
      exporting({
        sources: ['models'],
        destination: { bucket: 'Partner_Results', account: '1234', prefix: '/airlock' },
      }),
    );
    expect(bad).toEqual(
      expect.arrayContaining([
        expect.stringContaining('config.airlock.export.destination.bucket'),
        expect.stringContaining('config.airlock.export.destination.account'),
        expect.stringContaining('config.airlock.export.destination.prefix'),
      ]),
    );
  });

  test('refuses a reviewer who may request; unset requesters trust no one', () => {
    expect(() => validateConfig(exporting({ sources: ['models'], destination }, identities))).not.toThrow();
    expect(
      problems(
        exporting(
          { sources: ['models'], destination },
          { ...requesters, mlEngineers: [arn('DataGovernance')] },
        ),
      ),
    ).toEqual([
      expect.stringContaining(
        `config.airlock.reviewers[0]: got "${arn('DataGovernance')}"; ${arn('DataGovernance')} may assume the ML engineer role (identities.mlEngineers), which requests exports`,
      ),
    ]);
  });
});

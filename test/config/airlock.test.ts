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

  test('refuses an importer who reads curated, named or through the account root', () => {
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
          breakGlass: { enabled: true, principals: [`arn:aws:iam::${ACCOUNT}:root`] },
        },
        airlock,
      })[0],
    ).toContain('may assume the break-glass role (identities.breakGlass.principals)');
  });

  test('with an airlock, the curated readers must be named', () => {
    expect(problems({ airlock, identities: { breakGlass: { enabled: false } } })).toEqual([
      expect.stringMatching(
        /^config\.identities\.dataScientists: .*with an airlock, expected the principals who may assume the data scientist role named/,
      ),
    ]);
    // Break-glass only when enabled.
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
});

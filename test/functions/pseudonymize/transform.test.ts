import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { loadConfig } from '../../../lib/config/load';
import {
  dateToMonth,
  dateToYear,
  generalizeAge,
  RecordRejection,
  zip3,
} from '../../../lib/functions/pseudonymize/generalize';
import { datasetFor, ruleVersion, type DatasetRules } from '../../../lib/functions/pseudonymize/rules';
import { LocalMac, Tokenizer } from '../../../lib/functions/pseudonymize/tokenizer';
import {
  BATCH_SIZE,
  pseudonymize,
  type Rejected,
  type TransformResult,
} from '../../../lib/functions/pseudonymize/transform';

const ROOT = join(__dirname, '..', '..', '..');
const SAMPLES = join(ROOT, 'samples', 'pseudonymization');
const example = loadConfig(join(ROOT, 'config', 'example.json'));
const dataset = (name: string) => example.pseudonymization.datasets.find((d) => d.name === name)!;
const KEY_A = Buffer.alloc(32, 1);
const KEY_B = Buffer.alloc(32, 2);

interface Run {
  readonly result: TransformResult;
  readonly curated: string;
  readonly rejected: Rejected[];
}

function collector(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

async function run(input: string | Readable, rules: DatasetRules, key = KEY_A): Promise<Run> {
  const curated = collector();
  const rejected = collector();
  const source = typeof input === 'string' ? Readable.from([Buffer.from(input)]) : input;
  const result = await pseudonymize(source, rules, new Tokenizer(new LocalMac(key)), {
    curated: curated.stream,
    rejected: rejected.stream,
  });
  return {
    result,
    curated: curated.text(),
    rejected: rejected
      .text()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Rejected),
  };
}

const csvRows = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => l.split(','));

const samplePatients = readFileSync(join(SAMPLES, 'patients.csv'), 'utf8');
const sampleEncounters = readFileSync(join(SAMPLES, 'encounters.jsonl'), 'utf8');

/** Every direct identifier value in the sample patients file (columns with a token rule, and names). */
function directIdentifiers(text: string, rules: DatasetRules): string[] {
  const [header, ...rows] = text
    .trim()
    .split('\n')
    .map((l) => l.split(','));
  const columns = [...rules.rules.filter((r) => r.transform === 'token').map((r) => r.field), 'name'];
  return rows.flatMap((row) =>
    columns.map((c) => row[header.indexOf(c)]?.trim()).filter((v): v is string => !!v && v.length > 2),
  );
}

describe('tokens', () => {
  test('are deterministic: the same key gives the same token, for every record of the same patient', async () => {
    const first = await run(samplePatients, dataset('patients'));
    const second = await run(samplePatients, dataset('patients'));
    expect(first.curated).toBe(second.curated);
    const rows = csvRows(first.curated);
    // Rows 1 and 3 are the same patient (P-000101): same patient, MRN, e-mail (after lower-casing),
    // phone (digits only) and SSN tokens.
    expect(rows[1].slice(0, 5)).toEqual(rows[3].slice(0, 5));
    expect(rows[1][0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  test('differ per key', async () => {
    const a = csvRows((await run(samplePatients, dataset('patients'), KEY_A)).curated);
    const b = csvRows((await run(samplePatients, dataset('patients'), KEY_B)).curated);
    expect(a[1][0]).not.toBe(b[1][0]);
    // Generalised fields do not depend on the key.
    expect(a[1].slice(5)).toEqual(b[1].slice(5));
  });

  test('link a patient across datasets that name the same domain, and differ between domains', async () => {
    const patients = csvRows((await run(samplePatients, dataset('patients'))).curated);
    const encounters = (await run(sampleEncounters, dataset('encounters'))).curated
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>);
    // P-000101 is the first patient of both files; both datasets tokenise it in domain "patient".
    expect(encounters[0].patient_id).toBe(patients[1][0]);
    // The same text in another domain gets another token.
    const tokenizer = new Tokenizer(new LocalMac(KEY_A));
    const tokens = await tokenizer.resolve([Tokenizer.input('patient', 'X1'), Tokenizer.input('mrn', 'X1')]);
    expect(new Set(tokens.values()).size).toBe(2);
  });

  test('are MACed once per distinct identifier, a batch at a time, not once per record', async () => {
    const mac = new LocalMac(KEY_A);
    const rows = Array.from({ length: 5000 }, (_, i) => `P${i % 50},2000-01-01`);
    const rules: DatasetRules = {
      name: 't',
      prefix: 't/',
      format: 'csv',
      rules: [
        { field: 'id', transform: 'token' },
        { field: 'd', transform: 'date-to-year' },
      ],
      safeFields: [],
    };
    const out = collector();
    const result = await pseudonymize(
      Readable.from([`id,d\n${rows.join('\n')}\n`]),
      rules,
      new Tokenizer(mac),
      {
        curated: out.stream,
        rejected: new PassThrough(),
      },
    );
    expect(result.output.records).toBe(5000);
    expect(mac.calls).toBe(50);
  });

  test('keep no direct identifier of the input in the output', async () => {
    const { curated } = await run(samplePatients, dataset('patients'));
    const values = directIdentifiers(samplePatients, dataset('patients'));
    expect(values.length).toBeGreaterThan(10);
    for (const value of values) expect(curated).not.toContain(value);
    expect(curated.toLowerCase()).not.toContain('example.org');
  });
});

describe('generalisation', () => {
  test.each([
    ['0', '0'],
    ['89', '89'],
    ['90', '90+'],
    ['130', '90+'],
    [' 45 ', '45'],
  ])('age %p → %p', (age, expected) => expect(generalizeAge(age, 'age')).toBe(expected));

  test.each(['131', '-1', '45.5', 'forty', ''])('age %p is refused', (age) =>
    expect(() => generalizeAge(age, 'age')).toThrow(RecordRejection),
  );

  test.each([
    ['1984-07-12', '1984', '1984-07'],
    ['2024-02-29', '2024', '2024-02'],
    ['2026-03-14T08:30:00Z', '2026', '2026-03'],
    ['2026-03-14T08:30:00+02:00', '2026', '2026-03'],
  ])('date %p → year %p, month %p', (date, year, month) => {
    expect(dateToYear(date, 'd')).toBe(year);
    expect(dateToMonth(date, 'd')).toBe(month);
  });

  test.each(['2023-02-29', '1990-13-01', '1990-04-31', '1990-00-10', '02/04/2026', '1975'])(
    'date %p is refused, without its value in the reason',
    (date) => {
      expect(() => dateToYear(date, 'birth_date')).toThrow(RecordRejection);
      try {
        dateToMonth(date, 'birth_date');
      } catch (err) {
        expect((err as Error).message).toMatch(/^birth_date: /);
        expect((err as Error).message).not.toContain(date);
      }
    },
  );

  test.each([
    ['02139', '021'],
    ['02139-4307', '021'],
    ['03601', '000'],
    ['89301', '000'],
    ['10001', '100'],
  ])('ZIP %p → %p', (zip, expected) => expect(zip3(zip, 'zip')).toBe(expected));

  test('a set of small areas in place of the HHS list', () => {
    expect(zip3('10001', 'zip', new Set(['100']))).toBe('000');
    expect(zip3('03601', 'zip', new Set(['100']))).toBe('036');
  });

  test.each(['2139', '021390', 'ABCDE', '02139-43'])('ZIP %p is refused', (zip) =>
    expect(() => zip3(zip, 'zip')).toThrow(RecordRejection),
  );
});

describe('fields', () => {
  test('no rule and not safe: dropped, from CSV columns and JSON properties', async () => {
    const patients = await run(samplePatients, dataset('patients'));
    expect(csvRows(patients.curated)[0]).toEqual([
      'patient_id',
      'mrn',
      'email',
      'phone',
      'ssn',
      'birth_date',
      'age',
      'zip',
      'sex',
      'diagnosis_code',
    ]);
    expect(patients.curated).not.toContain('Alice');
    const encounters = await run(sampleEncounters, dataset('encounters'));
    const first = JSON.parse(encounters.curated.split('\n')[0]) as Record<string, unknown>;
    expect(Object.keys(first)).toEqual([
      'patient_id',
      'encounter_id',
      'admitted',
      'discharged',
      'department',
      'icd10',
      'length_of_stay_days',
      'diagnoses',
    ]);
    expect(encounters.curated).not.toContain('attending');
    // An object rule keeps its safe properties, generalises its dated ones, drops the rest.
    expect(first.diagnoses).toEqual([{ system: 'ICD-10', code: 'I50.9', recorded: '2026-03' }]);
    expect(encounters.curated).not.toContain('Dr. Who');
    // Safe fields keep their JSON type.
    expect(first.length_of_stay_days).toBe(4);
  });

  test('an optional field may be missing; a required one may not', async () => {
    const rules: DatasetRules = {
      name: 't',
      prefix: 't/',
      format: 'jsonl',
      rules: [
        { field: 'id', transform: 'token' },
        { field: 'email', transform: 'token', normalize: 'lowercase', optional: true },
      ],
      safeFields: [],
    };
    const { curated, rejected } = await run(
      '{"id":"a"}\n{"id":"b","email":null}\n{"email":"x@y.org"}\n',
      rules,
    );
    expect(curated.trim().split('\n')).toHaveLength(2);
    expect(rejected).toEqual([{ line: 3, reason: 'id: missing value', record: '{"email":"x@y.org"}\n' }]);
  });
});

describe('bad input', () => {
  test('malformed and non-conforming records are quarantined with reasons and raw text; none is lost', async () => {
    const patients = await run(samplePatients, dataset('patients'));
    expect(patients.rejected.map(({ line, reason }) => ({ line, reason }))).toEqual([
      { line: 4, reason: 'birth_date: not a calendar date' },
      { line: 6, reason: 'age: expected a whole number of years from 0 to 130' },
      { line: 7, reason: 'malformed CSV: 10 field(s) where the header has 11' },
      { line: 8, reason: 'patient_id: missing value' },
    ]);
    const lines = samplePatients.split('\n');
    for (const r of patients.rejected) expect(r.record).toBe(`${lines[r.line - 1]}\n`);
    expect(patients.result.input.records).toBe(lines.filter((l) => l !== '').length - 1);
    expect(patients.result.output.records + patients.result.quarantined.records).toBe(
      patients.result.input.records,
    );

    const encounters = await run(sampleEncounters, dataset('encounters'));
    expect(encounters.rejected.map(({ line, reason }) => ({ line, reason }))).toEqual([
      { line: 3, reason: 'admitted: expected an ISO 8601 date such as 1984-07-12' },
      { line: 4, reason: 'malformed JSON' },
      { line: 5, reason: 'expected a JSON object' },
      { line: 6, reason: 'patient_id: expected a string or a number' },
    ]);
    expect(encounters.result.quarantined.reasons).toEqual({
      'admitted: expected an ISO 8601 date such as 1984-07-12': 1,
      'malformed JSON': 1,
      'expected a JSON object': 1,
      'patient_id: expected a string or a number': 1,
    });
  });

  test('a CSV record with text after a closing quote is one quarantine entry, whole; the records after it are kept', async () => {
    const rules = dataset('patients');
    const header = samplePatients.split('\n')[0];
    const good = 'P-1,M-1,,,,,1980-01-01,44,02139,F,I10';
    const bad = 'P-2,M-2,"Eve "x,,,,1980-01-01,44,02139,F,I10';
    const { rejected, result } = await run(`${header}\n${good}\n${bad}\n${good}\n`, rules);
    expect(result.output.records).toBe(2);
    expect(rejected).toEqual([
      { line: 3, reason: 'malformed CSV: text after a closing quote', record: `${bad}\n` },
    ]);
    expect(result.input.records).toBe(3);
  });

  test.each([
    [
      'a header without a required column',
      'patient_id,mrn,birth_date,zip\nP-1,M-1,1980-01-01,02139\n',
      /lacks the required column\(s\) age/,
    ],
    [
      'a header naming a column twice',
      'patient_id,mrn,birth_date,age,zip,age\n',
      /header names one column twice \(columns 4 and 6\)/,
    ],
    ['an empty file', '', /empty file/],
  ])('%s rejects the whole file', async (_what, text, reason) => {
    const { result, curated } = await run(text, dataset('patients'));
    expect(result.fileRejection).toMatch(reason);
    expect(result.output.records).toBe(0);
    expect(curated).not.toContain('P-1');
  });
});

describe('hashes and versions', () => {
  test('the input and output hashes are the SHA-256 of the bytes read and written', async () => {
    const { result, curated } = await run(samplePatients, dataset('patients'));
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    expect(result.input).toMatchObject({
      sha256: sha(samplePatients),
      bytes: Buffer.byteLength(samplePatients),
    });
    expect(result.output).toMatchObject({ sha256: sha(curated), bytes: Buffer.byteLength(curated) });
  });

  test('the rule version changes with the rules and not with their order of safe fields', () => {
    const rules = dataset('patients');
    expect(ruleVersion(rules)).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(ruleVersion({ ...rules, safeFields: [...rules.safeFields].reverse() })).toBe(ruleVersion(rules));
    expect(ruleVersion({ ...rules, safeFields: [...rules.safeFields, 'notes'] })).not.toBe(
      ruleVersion(rules),
    );
    expect(
      ruleVersion({
        ...rules,
        rules: rules.rules.map((r) => (r.field === 'age' ? { ...r, optional: true } : r)),
      }),
    ).not.toBe(ruleVersion(rules));
  });

  test('a key belongs to the dataset whose prefix it starts with', () => {
    const { datasets } = example.pseudonymization;
    expect(datasetFor(datasets, 'ehr/patients/2026/11/a.csv')?.name).toBe('patients');
    expect(datasetFor(datasets, 'ehr/encounters/x.jsonl')?.name).toBe('encounters');
    expect(datasetFor(datasets, 'ehr/labs/x.csv')).toBeUndefined();
  });
});

describe('streaming', () => {
  test('a large file is transformed a batch at a time, never held whole', async () => {
    const rows = 100_000;
    let produced = 0;
    let written = 0;
    let maxAhead = 0;
    const input = Readable.from(
      (function* () {
        yield 'patient_id,mrn,birth_date,age,zip,sex\n';
        for (let i = 0; i < rows; i++) {
          produced++;
          yield `P-${i % 2_000},M-${i % 2_000},1970-01-01,${i % 100},02139,F\n`;
        }
      })(),
      { highWaterMark: 16 },
    );
    const output = new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer, _encoding, done) {
        written += chunk.toString('utf8').split('\n').length - 1;
        maxAhead = Math.max(maxAhead, produced - written);
        setImmediate(done);
      },
    });
    const result = await pseudonymize(input, dataset('patients'), new Tokenizer(new LocalMac(KEY_A)), {
      curated: output,
      rejected: new PassThrough(),
    });
    expect(result.output.records).toBe(rows);
    // The reader is never more than a few batches ahead of what has been written out.
    expect(maxAhead).toBeLessThan(5 * BATCH_SIZE);
  }, 30_000);
});

import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { buildManifest } from '../../../lib/functions/pseudonymize/manifest';
import { combineResults, planRanges } from '../../../lib/functions/pseudonymize/ranges';
import { MAX_RECORD_BYTES } from '../../../lib/functions/pseudonymize/records';
import { HHS_SMALL_ZIP3 } from '../../../lib/functions/pseudonymize/small-areas';
import { TOKEN_SCHEME, type DatasetRules } from '../../../lib/functions/pseudonymize/rules';
import { LocalMac, Tokenizer } from '../../../lib/functions/pseudonymize/tokenizer';
import {
  pseudonymize,
  type Rejected,
  type TransformOptions,
  type TransformResult,
} from '../../../lib/functions/pseudonymize/transform';
import {
  SYNTHETIC_CSV_RULES,
  SYNTHETIC_JSONL_RULES,
  syntheticCsv,
  syntheticJsonLines,
  type Synthetic,
} from './synthetic';

const KEY = Buffer.alloc(32, 7);
const AS_OF = new Date('2026-12-02T10:00:00Z');

interface Run {
  readonly result: TransformResult;
  readonly curated: string;
  readonly rejected: Rejected[];
  readonly rejectedText: string;
}

async function run(
  input: string | Buffer,
  rules: DatasetRules,
  options: TransformOptions = { asOf: AS_OF },
  tokenizer = new Tokenizer(new LocalMac(KEY)),
): Promise<Run> {
  const curated: Buffer[] = [];
  const rejected: Buffer[] = [];
  const outputs = { curated: new PassThrough(), rejected: new PassThrough() };
  outputs.curated.on('data', (c: Buffer) => curated.push(c));
  outputs.rejected.on('data', (c: Buffer) => rejected.push(c));
  // Small chunks, so that records, quoted fields and the byte-order mark straddle chunk boundaries.
  const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input);
  const chunks = Array.from({ length: Math.ceil(bytes.length / 997) }, (_, i) =>
    bytes.subarray(i * 997, (i + 1) * 997),
  );
  const result = await pseudonymize(Readable.from(chunks), rules, tokenizer, outputs, options);
  const rejectedText = Buffer.concat(rejected).toString('utf8');
  return {
    result,
    curated: Buffer.concat(curated).toString('utf8'),
    rejectedText,
    rejected: rejectedText
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Rejected),
  };
}

const jsonl = (rules: Partial<DatasetRules> = {}): DatasetRules => ({
  name: 'visits',
  prefix: 'v/',
  format: 'jsonl',
  rules: [{ field: 'id', transform: 'token' }],
  safeFields: ['code', 'n'],
  ...rules,
});

const csv = (rules: Partial<DatasetRules> = {}): DatasetRules => ({
  name: 'patients',
  prefix: 'p/',
  format: 'csv',
  rules: [{ field: 'id', transform: 'token' }],
  safeFields: ['note'],
  ...rules,
});

const records = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('the eight findings of the privacy test', () => {
  test('1. a safe field holding an object or an array quarantines its record; nothing nested reaches curated', async () => {
    const { curated, rejected, result } = await run(
      [
        '{"id":"a","code":"I10"}',
        '{"id":"b","code":{"text":"I10","name":"Alice Example","ssn":"123-45-6789"}}',
        '{"id":"c","code":["617-555-0101","alice@example.org"]}',
        '{"id":"d","code":12.5,"n":true}',
      ].join('\n'),
      jsonl(),
    );
    expect(records(curated).map((r) => r.code)).toEqual(['I10', 12.5]);
    expect(rejected.map(({ line, reason }) => [line, reason])).toEqual([
      [2, 'code: expected a string, number, boolean or null in a safe field, not an object'],
      [3, 'code: expected a string, number, boolean or null in a safe field, not an array'],
    ]);
    for (const value of ['Alice', '6789', '0101', 'alice@']) expect(curated).not.toContain(value);
    expect(result.input.records).toBe(4);
  });

  test('2. integers beyond 2^53 are read exactly: two patients never share a token, and safe numbers keep their digits', async () => {
    const { curated } = await run(
      '{"id":9007199254740993,"n":12345678901234567890}\n{"id":9007199254740992,"n":0.1000000000000000055511151231257827}\n',
      jsonl(),
    );
    const [first, second] = records(curated);
    expect(first.id).not.toBe(second.id);
    // The digits as written, not as a double would round them.
    expect(curated).toContain('"n":12345678901234567890');
    expect(curated).toContain('"n":0.1000000000000000055511151231257827');
    // A number and the same digits as a string are the same identifier.
    const asText = await run('{"id":"9007199254740993"}\n', jsonl());
    expect(records(asText.curated)[0].id).toBe(first.id);
  });

  test('3. a stray quote inside an unquoted field is one quarantine entry with the whole record; the count holds', async () => {
    const bad = 'P-2,he said "no" twice';
    const { rejected, result, curated } = await run(`id,note\nP-1,fine\n${bad}\nP-3,fine\n`, csv());
    expect(rejected).toEqual([
      { line: 3, reason: 'malformed CSV: a quote inside an unquoted field', record: `${bad}\n` },
    ]);
    expect(curated.trim().split('\n')).toHaveLength(3);
    expect(result.input.records).toBe(3);
    expect(result.output.records + result.quarantined.records).toBe(result.input.records);
  });

  test('4. quarantine lines are exact in CRLF files with line breaks inside quoted fields', async () => {
    const text = [
      'id,note',
      'P-1,"two\r\nlines"',
      'P-2,"three\r\nmore\r\nlines"',
      'P-3,extra,field',
      '',
      'P-4,"unterminated',
    ].join('\r\n');
    const { rejected, result } = await run(text, csv({ multilineFields: ['note'] }));
    expect(rejected).toEqual([
      { line: 7, reason: 'malformed CSV: 3 field(s) where the header has 2', record: 'P-3,extra,field\r\n' },
      { line: 9, reason: 'malformed CSV: a quoted field is not closed', record: 'P-4,"unterminated' },
    ]);
    const lineCount = text.split('\n').length;
    for (const r of rejected) expect(r.line).toBeLessThanOrEqual(lineCount);
    expect(text.split('\r\n')[rejected[0].line - 1]).toBe('P-3,extra,field');
    expect(result.output.records).toBe(2);
  });

  test('5. a byte-order mark costs neither format its first record', async () => {
    const bom = '\uFEFF';
    const json = await run(`${bom}{"id":"a"}\r\n{"id":"b"}\r\n`, jsonl());
    expect(json.result.output.records).toBe(2);
    expect(json.rejected).toEqual([]);
    const table = await run(`${bom}id,note\r\nP-1,x\r\n`, csv());
    expect(table.result.output.records).toBe(1);
    expect(table.curated.startsWith('id,note\n')).toBe(true);
  });

  test('6. the dates of a patient aged 90 or more say nothing but 90+ (given age, or computed from the birth date)', async () => {
    const rules = csv({
      rules: [
        { field: 'id', transform: 'token' },
        { field: 'birth_date', transform: 'date-to-year' },
        { field: 'admitted', transform: 'date-to-month' },
        { field: 'age', transform: 'age', optional: true },
      ],
      over89: { birthDate: 'birth_date' },
    });
    const { curated, result } = await run(
      [
        'id,birth_date,admitted,age',
        'P-1,1931-04-12,2026-03-14,95', // 95 by the age field
        'P-2,1936-12-01,2026-03-14,', // 90 on 2026-12-02, computed from the birth date
        'P-3,1936-12-03,2026-03-14,', // 89 still
        'P-4,1978-11-30,2026-03-14,47',
      ].join('\n'),
      rules,
    );
    expect(result.asOf).toBe('2026-12-02');
    expect(
      curated
        .trim()
        .split('\n')
        .map((l) => l.split(',').slice(1)),
    ).toEqual([
      ['birth_date', 'admitted', 'age'],
      ['90+', '90+', '90+'],
      ['90+', '90+', ''],
      ['1936', '2026-03', ''],
      ['1978', '2026-03', '47'],
    ]);
    // Removed instead of aggregated, where the rule says so.
    const removed = await run('id,birth_date,admitted,age\nP-1,1931-04-12,2026-03-14,95\n', {
      ...rules,
      over89: { birthDate: 'birth_date', dates: 'remove' },
    });
    expect(removed.curated.trim().split('\n')[1].split(',').slice(1)).toEqual(['', '', '90+']);
  });

  test('7. a rule’s small areas add to the HHS list; replacing it takes replaceSmallAreas', async () => {
    const zip = (extra: Partial<DatasetRules['rules'][number]>) =>
      csv({
        rules: [
          { field: 'id', transform: 'token' },
          { field: 'zip', transform: 'zip3', ...extra },
        ],
      });
    const input = 'id,zip\nP-1,03601\nP-2,10001\nP-3,94110\n';
    const column = async (rules: DatasetRules) =>
      (await run(input, rules)).curated
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',')[1]);
    expect(await column(zip({}))).toEqual(['000', '100', '941']);
    expect(await column(zip({ smallAreas: ['100'] }))).toEqual(['000', '000', '941']);
    expect(await column(zip({ smallAreas: ['100'], replaceSmallAreas: true }))).toEqual([
      '036',
      '000',
      '941',
    ]);
  });

  test('8. a name in NFC and NFD, or a phone with and without its country code, gets one token', async () => {
    const rules = csv({
      rules: [
        { field: 'id', transform: 'token', normalize: 'name' },
        { field: 'phone', transform: 'token', normalize: 'phone' },
      ],
      safeFields: [],
    });
    const nfc = 'Zoë Núñez';
    const nfd = nfc.normalize('NFD');
    expect(nfd).not.toBe(nfc);
    const { curated } = await run(
      `id,phone\n${nfc},+1 (617) 555-0101\n${nfd},617.555.0101\n  ZOË   NÚÑEZ ,16175550101\n`,
      rules,
    );
    const rows = curated.trim().split('\n').slice(1);
    expect(new Set(rows).size).toBe(1);
  });
});

describe('normalisation', () => {
  const rules = (normalize: 'email' | 'phone') =>
    csv({ rules: [{ field: 'id', transform: 'token', normalize }], safeFields: [] });

  test('a value the normaliser cannot read is quarantined, its value not in the reason', async () => {
    const phone = await run('id\n555\nnot a number\n', rules('phone'));
    expect(phone.rejected.map((r) => r.reason)).toEqual([
      'id: expected a phone number',
      'id: expected a phone number',
    ]);
    const email = await run('id\nalice.example.org\n', rules('email'));
    expect(email.rejected.map((r) => r.reason)).toEqual(['id: expected an e-mail address']);
  });

  test('the phone country is the dataset’s: the same digits are another number elsewhere', async () => {
    const us = await run('id\n020 7946 0958\n', { ...rules('phone'), phoneCountry: 'US' });
    const gb = await run('id\n020 7946 0958\n+44 20 7946 0958\n', { ...rules('phone'), phoneCountry: 'GB' });
    expect(us.rejected).toHaveLength(1);
    const [first, second] = gb.curated.trim().split('\n').slice(1);
    expect(first).toBe(second);
  });
});

describe('token scope', () => {
  const one = (name: string, tokenScope?: string): DatasetRules => ({
    ...csv({ name, safeFields: [] }),
    ...(tokenScope ? { tokenScope } : {}),
  });
  const token = async (rules: DatasetRules) => (await run('id\nP-1\n', rules)).curated.trim().split('\n')[1];

  test('tokens differ between datasets by default, and agree within a linkage group', async () => {
    expect(await token(one('patients'))).not.toBe(await token(one('visits')));
    expect(await token(one('patients', 'group:ehr'))).toBe(await token(one('visits', 'group:ehr')));
    expect(await token(one('patients', 'group:ehr'))).not.toBe(await token(one('patients')));
  });

  test('the manifest records the scheme, the scope, each normaliser, the small-area list and the key name', async () => {
    const rules: DatasetRules = {
      ...SYNTHETIC_CSV_RULES,
      tokenScope: 'group:ehr',
      rules: [
        ...SYNTHETIC_CSV_RULES.rules.slice(0, -1),
        { field: 'zip', transform: 'zip3', smallAreas: ['100'] },
      ],
    };
    const { result } = await run(syntheticCsv(20).bytes, rules);
    const manifest = buildManifest(result, {
      source: { bucket: 'raw', keyToken: 't' },
      output: { bucket: 'curated', key: 'k' },
      hmacKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/x',
      hmacKeyName: 'release-2',
    });
    expect(manifest).toMatchObject({
      manifestVersion: 2,
      hmac: { keyName: 'release-2' },
      asOf: '2026-12-02',
      rules: {
        tokens: {
          scheme: TOKEN_SCHEME,
          scope: 'group:ehr',
          normalizations: {
            patient_id: 'trim',
            name: 'name',
            email: 'email',
            phone: 'phone:US',
            ssn: 'digits',
          },
        },
        smallAreas: {
          version: HHS_SMALL_ZIP3.version,
          source: HHS_SMALL_ZIP3.source,
          added: ['100'],
          replaced: false,
        },
        over89: { birthDate: 'birth_date', dates: 'aggregate' },
      },
    });
  });
});

describe('the HHS small-area list', () => {
  test('is data with its source and version: three-digit prefixes, none twice', () => {
    expect(HHS_SMALL_ZIP3.version).toMatch(/\S/);
    expect(HHS_SMALL_ZIP3.source).toMatch(/HHS/);
    expect(HHS_SMALL_ZIP3.census).toMatch(/Census/);
    for (const area of HHS_SMALL_ZIP3.areas) expect(area).toMatch(/^\d{3}$/);
    expect(new Set(HHS_SMALL_ZIP3.areas).size).toBe(HHS_SMALL_ZIP3.areas.length);
    // The 2000 census list HHS published: 17 areas.
    expect(HHS_SMALL_ZIP3.areas).toHaveLength(17);
  });
});

/**
 * Every identifier of the synthetic file found anywhere in `text`. Each identifier is looked for
 * where the first six characters of one occur, so that 15,000 values are found in one pass.
 */
function leaks(synthetic: Synthetic, text: string): string[] {
  const byPrefix = new Map<string, string[]>();
  for (const value of synthetic.identifiers) {
    const v = value.trim();
    if (v.length < 6) continue;
    const list = byPrefix.get(v.slice(0, 6)) ?? [];
    list.push(v);
    byPrefix.set(v.slice(0, 6), list);
  }
  const found = new Set<string>();
  for (let i = 0; i + 6 <= text.length; i++) {
    const candidates = byPrefix.get(text.slice(i, i + 6));
    for (const v of candidates ?? []) if (text.startsWith(v, i)) found.add(v);
  }
  return [...found];
}

describe.each([
  ['CSV', SYNTHETIC_CSV_RULES, () => syntheticCsv()],
  ['JSON Lines', SYNTHETIC_JSONL_RULES, () => syntheticJsonLines()],
])(
  'a generated 5,000-patient %s extract (BOM, CRLF, nested JSON, malformed records)',
  (_format, rules, make) => {
    const synthetic = make();
    let outcome: Run;
    let manifestText: string;
    beforeAll(async () => {
      outcome = await run(synthetic.bytes, rules);
      manifestText = JSON.stringify(
        buildManifest(outcome.result, {
          source: { bucket: 'raw', keyToken: 't' },
          output: { bucket: 'curated', key: 'k' },
          hmacKeyId: 'local',
        }),
      );
    });

    test('no input value of a direct identifier appears in curated output or the manifest', () => {
      expect(synthetic.identifiers.size).toBeGreaterThan(15_000);
      // The search finds what is there: the raw file holds nearly every identifier written
      // (the rest are in records whose bytes are not UTF-8).
      const raw = synthetic.bytes.toString('utf8');
      expect(leaks(synthetic, raw).length).toBeGreaterThan(synthetic.identifiers.size * 0.95);
      expect(leaks(synthetic, outcome.curated)).toEqual([]);
      expect(leaks(synthetic, manifestText)).toEqual([]);
      // Nor their normalised spellings: no digits of a phone or an SSN.
      expect(outcome.curated).not.toMatch(/\+1617555\d{4}|617555\d{4}|\d{3}-\d{2}-\d{4}/);
      expect(outcome.curated).not.toMatch(/@hospital-/i);
    });

    test('every record is accounted for: input = curated + quarantined, as the generator wrote them', () => {
      const { result, rejected } = outcome;
      expect(result.input.records).toBe(synthetic.records);
      expect(result.output.records + result.quarantined.records).toBe(result.input.records);
      expect(result.input.bytes).toBe(synthetic.bytes.length);
      // Exactly the malformed records are quarantined, at their lines, with their reasons.
      expect(new Map(rejected.map((r) => [r.line, r.reason]))).toEqual(synthetic.malformed);
    });

    test('a quarantined record is kept whole: its raw bytes are the file’s, from the line it names', () => {
      const starts = [synthetic.bytes[0] === 0xef ? 3 : 0];
      for (let i = synthetic.bytes.indexOf(0x0a); i !== -1; i = synthetic.bytes.indexOf(0x0a, i + 1))
        starts.push(i + 1);
      expect(outcome.rejected.some((r) => r.recordBase64 !== undefined)).toBe(true);
      for (const r of outcome.rejected) {
        const raw =
          r.record !== undefined ? Buffer.from(r.record, 'utf8') : Buffer.from(r.recordBase64!, 'base64');
        const at = starts[r.line - 1];
        expect(synthetic.bytes.subarray(at, at + raw.length).equals(raw)).toBe(true);
        // Whole: it ends where a line ends (or the file does).
        expect([0x0a, undefined]).toContain(
          synthetic.bytes[at + raw.length - 1] === 0x0a ? 0x0a : synthetic.bytes[at + raw.length],
        );
      }
    });

    test('Safe Harbor: no birth year that reveals an age over 89 reaches curated', () => {
      const [header, ...rows] = outcome.curated.trim().split('\n');
      const column = header.split(',').indexOf('birth_date');
      const years =
        rules.format === 'csv'
          ? rows.map((l) => l.split(',')[column])
          : records(outcome.curated).map((r) => r.birth_date);
      expect(years.filter((y) => y === '90+' || y === null).length).toBeGreaterThan(100);
      for (const y of years) if (y !== '90+' && y !== null) expect(Number(y)).toBeGreaterThanOrEqual(1936);
    });

    test('cut into ranges by the planner and transformed apart, it gives the single pass’s output and result', async () => {
      const plan = await planRanges(Readable.from([synthetic.bytes]), rules, 64 * 1024);
      expect(plan.items.length).toBeGreaterThan(5);
      expect(plan.input).toEqual({ sha256: outcome.result.input.sha256, bytes: synthetic.bytes.length });
      // The ranges tile the file.
      plan.items.forEach((item, i) => expect(item.start).toBe(i === 0 ? 0 : plan.items[i - 1].end));
      expect(plan.items.at(-1)!.end).toBe(synthetic.bytes.length);
      // One tokenizer per range, as each child invocation would have its own.
      const parts: Run[] = [];
      for (const item of plan.items) {
        const options: TransformOptions = {
          asOf: AS_OF,
          start: { offset: item.start, line: item.line },
          ...(item.index > 0 && plan.header ? { header: plan.header } : {}),
        };
        parts.push(
          await run(
            synthetic.bytes.subarray(item.start, item.end),
            rules,
            options,
            new Tokenizer(new LocalMac(KEY)),
          ),
        );
      }
      const curated = parts.map((p) => p.curated).join('');
      expect(curated).toBe(outcome.curated);
      expect(parts.map((p) => p.rejectedText).join('')).toBe(outcome.rejectedText);
      const output = {
        sha256: createHash('sha256').update(curated).digest('hex'),
        bytes: Buffer.byteLength(curated),
      };
      expect(
        combineResults(
          plan,
          parts.map((p) => p.result),
          output,
        ),
      ).toEqual(outcome.result);
    });
  },
);

describe('the planner', () => {
  const plan = (text: string, rules: DatasetRules, bytes = 8) =>
    planRanges(Readable.from([Buffer.from(text)]), rules, bytes);

  test('cuts only where a record starts: never inside a quoted field that spans lines', async () => {
    const text = 'id,note\nP-1,"a\nb\nc"\nP-2,x\n';
    const { items, header } = await plan(text, csv(), 1);
    expect(header).toEqual(['id', 'note']);
    expect(items.map(({ start, line }) => [text.slice(start, start + 3), line])).toEqual([
      ['id,', 1],
      ['P-1', 2],
      ['P-2', 5],
    ]);
  });

  test('a file whose header cannot be read is not cut: the stage sets it aside whole', async () => {
    expect(await plan('id,id\nP-1,x\n', csv())).toMatchObject({
      items: [],
      fileRejection: 'header names one column twice (columns 1 and 2)',
    });
    expect(await plan('', csv())).toMatchObject({ items: [], fileRejection: 'empty file: no header row' });
    await expect(plan('{"id":1}\n', jsonl(), 0)).rejects.toThrow(
      'rangeBytes 0: expected a whole number of bytes above 0',
    );
  });
});

describe('what an attacker’s inputs meet', () => {
  test('a nested zip3 rule applies its own small areas, and never borrows another rule’s list', async () => {
    const rules = jsonl({
      rules: [
        { field: 'id', transform: 'token' },
        { field: 'zip', transform: 'zip3', optional: true, smallAreas: ['100'], replaceSmallAreas: true },
        {
          field: 'home',
          transform: 'object',
          rules: [{ field: 'zip', transform: 'zip3', smallAreas: ['021'] }],
        },
      ],
    });
    const { curated } = await run(
      '{"id":"a","zip":"03601","home":{"zip":"03601"}}\n{"id":"b","home":{"zip":"02139"}}\n',
      rules,
    );
    const [a, b] = records(curated);
    // The top-level rule replaced the HHS list; the nested one adds to it.
    expect([a.zip, (a.home as { zip: string }).zip, (b.home as { zip: string }).zip]).toEqual([
      '036',
      '000',
      '000',
    ]);
  });

  test('an age of 90 or more anywhere in the record aggregates every date of it', async () => {
    const rules = jsonl({
      rules: [
        { field: 'id', transform: 'token' },
        { field: 'admitted', transform: 'date-to-year' },
        {
          field: 'patient',
          transform: 'object',
          rules: [
            { field: 'age', transform: 'age' },
            { field: 'born', transform: 'date-to-year' },
          ],
        },
      ],
    });
    const { curated } = await run(
      '{"id":"a","admitted":"2026-03-01","patient":{"age":97,"born":"1929-01-05"}}\n',
      rules,
    );
    expect(records(curated)[0]).toEqual({
      id: expect.any(String),
      admitted: '90+',
      patient: { age: '90+', born: '90+' },
    });
  });

  test('a CSV file with CR alone for line endings is set aside whole, not read as one header', async () => {
    const { result } = await run('id,note\rP-1,a\rP-2,b\r', csv());
    expect(result.fileRejection).toMatch(/^header row: column 2 holds a line break/);
  });

  test('a stray opening quote that swallows the rows after it quarantines them, whole, in one entry', async () => {
    const rules = csv({ rules: [{ field: 'id', transform: 'token' }], safeFields: ['code', 'sex'] });
    const text = 'id,code,sex\nP001,"E11.9,F\nP002,I10,M\nP003,J45",F\nP004,K21,M\n';
    const { curated, rejected, result } = await run(text, rules);
    expect(rejected).toEqual([
      {
        line: 2,
        reason: "malformed CSV: column 2 holds a line break (expected only in the dataset's multilineFields)",
        record: 'P001,"E11.9,F\nP002,I10,M\nP003,J45",F\n',
      },
    ]);
    expect(curated).not.toMatch(/P00[123]/);
    expect(result.output.records).toBe(1);
  });

  test('a record longer than the cap is quarantined by its first bytes and length, its bytes copied once', async () => {
    const huge = `{"id":"a","code":"${'x'.repeat(MAX_RECORD_BYTES + 1000)}"}`;
    const input = Buffer.from(`{"id":"b"}\n${huge}\n{"id":"c"}\n`);
    const chunks = Array.from({ length: Math.ceil(input.length / 65536) }, (_, i) =>
      input.subarray(i * 65536, (i + 1) * 65536),
    );
    // Chunks are joined once a record's end is found, never again as each chunk arrives.
    const concat = jest.spyOn(Buffer, 'concat');
    const curated = new PassThrough().resume();
    const rejectedLines: Buffer[] = [];
    const rejected = new PassThrough();
    rejected.on('data', (c: Buffer) => rejectedLines.push(c));
    const result = await pseudonymize(Readable.from(chunks), jsonl(), new Tokenizer(new LocalMac(KEY)), {
      curated,
      rejected,
    });
    const copied = concat.mock.calls.reduce((sum, [list]) => sum + list.reduce((n, b) => n + b.length, 0), 0);
    concat.mockRestore();
    expect(copied).toBeLessThan(2 * MAX_RECORD_BYTES);
    expect(result.output.records).toBe(2);
    const entry = JSON.parse(Buffer.concat(rejectedLines).toString('utf8')) as Rejected;
    expect(entry).toMatchObject({
      line: 2,
      reason: 'record longer than 16 MiB',
      length: Buffer.byteLength(huge) + 1,
    });
    expect(entry.record).toHaveLength(MAX_RECORD_BYTES);
  });

  test('a bare number, a duplicate key or half a surrogate pair is no record to tokenise', async () => {
    const rules = jsonl({
      rules: [{ field: 'id', transform: 'token', optional: true }],
      safeFields: ['value'],
    });
    const { rejected } = await run(
      ['9007199254740993', '{"id":"a","id":"b"}', '{"id":"A\\ud800"}', '{"id":1.5}', '{"id":1e1}'].join('\n'),
      rules,
    );
    expect(rejected.map((r) => r.reason)).toEqual([
      'expected a JSON object',
      'malformed JSON',
      'id: not well-formed Unicode',
      'id: expected a string or a whole number',
      'id: expected a string or a whole number',
    ]);
  });

  test('a phone’s extension is part of it; a nested field’s default domain is its path', async () => {
    const phones = await run(
      'id,phone\nP-1,617-555-0101 ext. 23\nP-2,617-555-0101 x45\nP-3,617-555-0101\n',
      csv({
        rules: [
          { field: 'id', transform: 'token' },
          { field: 'phone', transform: 'token', normalize: 'phone' },
        ],
        safeFields: [],
      }),
    );
    const tokens = phones.curated
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',')[1]);
    expect(new Set(tokens).size).toBe(3);
    const nested = await run(
      '{"id":"4711","practitioner":{"id":"4711"}}\n',
      jsonl({
        rules: [
          { field: 'id', transform: 'token' },
          { field: 'practitioner', transform: 'object', rules: [{ field: 'id', transform: 'token' }] },
        ],
      }),
    );
    const [record] = records(nested.curated);
    expect(record.id).not.toBe((record.practitioner as { id: string }).id);
  });

  test('a range is refused a header the whole file would be refused for', async () => {
    await expect(
      run(
        'P-1,x\n',
        csv({
          rules: [
            { field: 'id', transform: 'token' },
            { field: 'mrn', transform: 'token' },
          ],
        }),
        {
          asOf: AS_OF,
          start: { offset: 100, line: 5 },
          header: ['id', 'note'],
        },
      ),
    ).rejects.toThrow(
      'the header given for a range cannot be processed: header lacks the required column(s) mrn',
    );
  });

  test('a row of one empty kept column is written as "", so readers count it', async () => {
    const { curated, result } = await run(
      'id,note\nP-1,\nP-2,x\n',
      csv({ rules: [{ field: 'id', transform: 'token', optional: true }], safeFields: [] }),
    );
    expect(result.output.records).toBe(2);
    expect(curated.split('\n').slice(1, 3)[0]).not.toBe('');
  });
});

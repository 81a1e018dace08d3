import type { DatasetRules } from '../../../lib/functions/pseudonymize/rules';

/**
 * A synthetic patient extract, the kind a privacy officer tests a pseudonymization stage with:
 * names with accents (in NFC and in NFD) and quotes, several spellings of each phone, e-mail and
 * SSN, CRLF line endings, a byte-order mark, line breaks inside quoted fields, nested JSON, and
 * malformed records at known lines. It knows every direct identifier value it wrote, in every
 * spelling, and every record it wrote with where it starts.
 */
export interface Synthetic {
  readonly bytes: Buffer;
  /** Every direct identifier value written, as written. */
  readonly identifiers: ReadonlySet<string>;
  /** Records written (as the format delimits them), and the lines of the malformed ones. */
  readonly records: number;
  readonly malformed: ReadonlyMap<number, string>;
}

const FIRST = ['Zoë', 'José', 'Renée', 'Ægir', 'Łucja', 'Siân', 'Ðorđe', 'Françoise', 'Bjørn', 'Ngọc'];
const LAST = ["O'Brien", 'Müller', 'Núñez', 'Dvořák', 'Søgaard', 'Ğündüz', 'Nguyễn', 'Ó Súilleabháin'];

/** A small deterministic generator (a linear congruential one), so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

interface Patient {
  readonly id: string;
  readonly mrn: string;
  readonly name: string;
  readonly email: string;
  readonly phone: string;
  readonly ssn: string;
  readonly birth: string;
  readonly age: number;
  readonly zip: string;
}

function patients(count: number, seed: number): Patient[] {
  const next = random(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)];
  return Array.from({ length: count }, (_, i) => {
    const age = Math.floor(next() * 105);
    const birthYear = 2026 - age - 1;
    const month = 1 + Math.floor(next() * 12);
    const day = 1 + Math.floor(next() * 28);
    const line = String(1000 + Math.floor(next() * 9000));
    const name = `${pick(FIRST)} ${pick(LAST)} ${i}`;
    return {
      id: `PT-${String(100_000 + i)}`,
      mrn: `MRN-${String(7_000_000 + i * 7)}`,
      name,
      email: `${name.split(' ')[0].toLowerCase()}.${i}@hospital-${i % 7}.example.org`,
      phone: `617555${line}`,
      ssn: `${String(100 + (i % 800))}${String(10 + (i % 89))}${String(1000 + i).slice(-4)}`,
      birth: `${birthYear}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`,
      age,
      zip: pick(['02139', '03601', '10001', '59001', '94110', '82301']),
    };
  });
}

/** Several spellings of the same phone, SSN, e-mail and name. */
function spellings(p: Patient, n: number) {
  const [area, exchange, line] = [p.phone.slice(0, 3), p.phone.slice(3, 6), p.phone.slice(6)];
  const phone = [
    `+1 (${area}) ${exchange}-${line}`,
    `${area}.${exchange}.${line}`,
    `1${p.phone}`,
    `(${area}) ${exchange} ${line}`,
  ][n % 4];
  const ssn = [`${p.ssn.slice(0, 3)}-${p.ssn.slice(3, 5)}-${p.ssn.slice(5)}`, p.ssn][n % 2];
  const email = [p.email, p.email.toUpperCase(), ` ${p.email}`][n % 3];
  const name = n % 2 ? p.name.normalize('NFD').toUpperCase() : p.name.normalize('NFC');
  return { phone, ssn, email, name };
}

export const SYNTHETIC_CSV_RULES: DatasetRules = {
  name: 'synthetic-patients',
  prefix: 'synthetic/patients/',
  format: 'csv',
  rules: [
    { field: 'patient_id', transform: 'token', domain: 'patient' },
    { field: 'mrn', transform: 'token', domain: 'mrn' },
    { field: 'name', transform: 'token', normalize: 'name' },
    { field: 'email', transform: 'token', normalize: 'email', optional: true },
    { field: 'phone', transform: 'token', normalize: 'phone', optional: true },
    { field: 'ssn', transform: 'token', normalize: 'digits', optional: true },
    { field: 'birth_date', transform: 'date-to-year' },
    { field: 'age', transform: 'age' },
    { field: 'zip', transform: 'zip3' },
  ],
  safeFields: ['sex', 'diagnosis_code', 'comment_code'],
  multilineFields: ['name'],
  over89: { birthDate: 'birth_date' },
};

export const SYNTHETIC_JSONL_RULES: DatasetRules = {
  name: 'synthetic-visits',
  prefix: 'synthetic/visits/',
  format: 'jsonl',
  rules: [
    { field: 'patient_id', transform: 'token', domain: 'patient' },
    { field: 'name', transform: 'token', normalize: 'name' },
    {
      field: 'contact',
      transform: 'object',
      optional: true,
      rules: [
        { field: 'phone', transform: 'token', normalize: 'phone', optional: true },
        { field: 'email', transform: 'token', normalize: 'email', optional: true },
      ],
    },
    { field: 'birth_date', transform: 'date-to-year' },
    {
      field: 'visits',
      transform: 'object',
      optional: true,
      rules: [{ field: 'date', transform: 'date-to-month' }],
      safeFields: ['department'],
    },
  ],
  safeFields: ['code', 'sex'],
  over89: { birthDate: 'birth_date', dates: 'remove' },
};

const quote = (field: string) => (/[",\r\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field);

/** A CSV extract: BOM, CRLF, quoted fields with quotes and line breaks, and malformed records. */
export function syntheticCsv(count = 5000, seed = 18): Synthetic {
  const identifiers = new Set<string>();
  const malformed = new Map<number, string>();
  const chunks: Buffer[] = [Buffer.from([0xef, 0xbb, 0xbf])];
  const header = 'patient_id,mrn,name,email,phone,ssn,birth_date,age,zip,sex,diagnosis_code,comment_code';
  chunks.push(Buffer.from(`${header}\r\n`));
  let line = 2;
  let records = 0;
  const emit = (text: string, fault?: string) => {
    if (fault) malformed.set(line, fault);
    chunks.push(Buffer.from(text));
    line += text.split('\n').length - 1;
    records++;
  };
  patients(count, seed).forEach((p, i) => {
    const s = spellings(p, i);
    for (const v of [p.id, p.mrn, s.name, s.email.trim(), s.phone, s.ssn]) identifiers.add(v);
    // Some names carry a quote or a line break, so they are quoted fields spanning lines.
    const name = i % 50 === 7 ? `${s.name}\r\n"the second"` : s.name;
    const fields = [
      p.id,
      p.mrn,
      name,
      s.email,
      s.phone,
      s.ssn,
      p.birth,
      String(p.age),
      p.zip,
      i % 2 ? 'F' : 'M',
      'I10',
      'C1',
    ];
    const row = fields.map(quote).join(',');
    if (i % 500 === 11) {
      // A stray quote inside an unquoted field: one record, kept whole.
      emit(`${row.replace(p.mrn, `${p.mrn}"x`)}\r\n`, 'malformed CSV: a quote inside an unquoted field');
    } else if (i % 500 === 23) {
      emit(`${row},extra\r\n`, 'malformed CSV: 13 field(s) where the header has 12');
    } else if (i % 500 === 37) {
      // Bytes that are not UTF-8 in the middle of a name.
      chunks.push(Buffer.from(`${p.id},${p.mrn},`), Buffer.from([0xff, 0xfe]));
      malformed.set(line, 'not valid UTF-8');
      // The bytes before belong to the same record.
      emit(`${fields.slice(3).map(quote).join(',')}\r\n`);
    } else if (i % 500 === 41) {
      emit(
        `${row.replace(`,${quote(name)},`, `,"${name.replace(/"/g, '""')}"x,`)}\r\n`,
        'malformed CSV: text after a closing quote',
      );
    } else {
      emit(`${row}\r\n`);
    }
    if (i % 1000 === 500) {
      // A blank line: a line, not a record.
      chunks.push(Buffer.from('\r\n'));
      line++;
    }
  });
  return { bytes: Buffer.concat(chunks), identifiers, records, malformed };
}

/** A JSON Lines extract: BOM, CRLF, nested objects and arrays, big integers and malformed lines. */
export function syntheticJsonLines(count = 5000, seed = 19): Synthetic {
  const identifiers = new Set<string>();
  const malformed = new Map<number, string>();
  const lines: Buffer[] = [Buffer.from([0xef, 0xbb, 0xbf])];
  let records = 0;
  const emit = (text: string | Buffer, fault?: string) => {
    if (fault) malformed.set(records + 1, fault);
    lines.push(Buffer.isBuffer(text) ? text : Buffer.from(text), Buffer.from('\r\n'));
    records++;
  };
  patients(count, seed).forEach((p, i) => {
    const s = spellings(p, i);
    for (const v of [p.id, s.name, s.email.trim(), s.phone, s.ssn]) identifiers.add(v);
    const record = {
      patient_id: p.id,
      name: s.name,
      contact: { phone: s.phone, email: s.email, ssn: s.ssn },
      birth_date: p.birth,
      visits: [
        { date: '2025-11-03', department: 'cardiology', clinician: s.name },
        { date: '2026-01-15', department: 'oncology' },
      ],
      code: 'I10',
      sex: i % 2 ? 'F' : 'M',
      free_text: `${s.name} called from ${s.phone}`,
    };
    if (i % 500 === 13) {
      // Identifiers nested in a field declared safe.
      emit(
        JSON.stringify({ ...record, code: { text: 'I10', by: s.name, ssn: s.ssn } }),
        'code: expected a string, number, boolean or null in a safe field, not an object',
      );
    } else if (i % 500 === 29) {
      emit(
        JSON.stringify({ ...record, code: [s.phone, s.email] }),
        'code: expected a string, number, boolean or null in a safe field, not an array',
      );
    } else if (i % 500 === 31) {
      emit(`${JSON.stringify(record).slice(0, 40)}`, 'malformed JSON');
    } else if (i % 500 === 43) {
      emit(
        Buffer.concat([Buffer.from(JSON.stringify(record).slice(0, 30)), Buffer.from([0xc3, 0x28])]),
        'not valid UTF-8',
      );
    } else if (i % 500 === 47) {
      emit(JSON.stringify([record.patient_id, record.name]), 'expected a JSON object');
    } else {
      emit(JSON.stringify(record));
    }
  });
  return { bytes: Buffer.concat(lines), identifiers, records, malformed };
}

import { isUtf8 } from 'node:buffer';
import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { Transform, type Readable, type Writable } from 'node:stream';
import { isLosslessNumber, parse as parseJson, stringify as stringifyJson } from 'lossless-json';
import {
  ageOn,
  generalizeDate,
  MAX_REPORTED_AGE,
  OVER_89,
  parseAge,
  parseDate,
  RecordRejection,
  reportedAge,
  zip3,
} from './generalize';
import {
  csvFields,
  MAX_RECORD_BYTES,
  readRecords,
  recordText,
  type RawRecord,
  type RecordStart,
} from './records';
import {
  ruleVersion,
  smallAreasOf,
  summarizeRules,
  type RulesSummary,
  tokenScope,
  type DatasetRules,
  type FieldRule,
} from './rules';
import { normalizeIdentifier, NotNormalizable, Tokenizer } from './tokenizer';

/** Records transformed per batch: one round of MAC calls covers the batch's distinct identifiers. */
export const BATCH_SIZE = 1000;

/**
 * A record set aside: where it was, why, and its raw bytes (the quarantine zone keeps them): as
 * text when they are UTF-8, else in base64. A record longer than MAX_RECORD_BYTES keeps its
 * first bytes and says its length (the raw object, retained in the raw zone, holds it whole).
 */
export interface Rejected {
  readonly line: number;
  readonly reason: string;
  readonly record?: string;
  readonly recordBase64?: string;
  /** Set when the record is longer than what is kept of it. */
  readonly length?: number;
}

export interface TransformResult {
  readonly dataset: string;
  readonly ruleVersion: string;
  readonly rules: RulesSummary;
  readonly input: { readonly sha256: string; readonly bytes: number; readonly records: number };
  readonly output: { readonly sha256: string; readonly bytes: number; readonly records: number };
  readonly quarantined: { readonly records: number; readonly reasons: Readonly<Record<string, number>> };
  /** The date ages were computed on (Safe Harbor's over-89 rule), YYYY-MM-DD. */
  readonly asOf: string;
  /** Set when the file as a whole cannot be processed (its header lacks a required column, say). */
  readonly fileRejection?: string;
}

export interface TransformOptions {
  /**
   * The date ages are computed on from birth dates: the day the file was received (the raw
   * object's last-modified date), so that a retry computes the same. Default: today (UTC).
   */
  readonly asOf?: Date;
  /** Where the input starts when it is a range of a larger file cut at a record boundary. */
  readonly start?: RecordStart;
  /** For a CSV range after the first: the file's header, which the range does not hold. */
  readonly header?: readonly string[];
}

/** Writes to a stream with back-pressure, hashing and counting what it writes. */
class HashingWriter {
  private readonly hash: Hash = createHash('sha256');
  bytes = 0;
  constructor(private readonly out: Writable) {}

  async write(text: string): Promise<void> {
    if (text === '') return;
    const chunk = Buffer.from(text, 'utf8');
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (!this.out.write(chunk)) await once(this.out, 'drain');
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

/** Hashes and counts the bytes passing through, for the manifest's input checksum. */
export class InputTap extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    this.push(chunk);
    done();
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}

/** What a record becomes once its tokens are known: token slots are filled in after the batch's MACs. */
interface Pending {
  /** A CSV row's output fields, or a JSON record's output object. */
  readonly out: unknown[] | Record<string, unknown>;
  readonly slots: Slot[];
}

interface Slot {
  readonly target: unknown[] | Record<string, unknown>;
  readonly key: number | string;
  readonly input: string;
}

/**
 * Pseudonymizes one file of a dataset (or a range of one cut at a record boundary), streaming:
 * records are read, transformed and written a batch at a time, so memory holds one batch, never
 * the file. Kept records go to `curated` (CSV with the kept columns in input order, or JSON
 * Lines); records that cannot be read or do not match the rules go to `rejected` as JSON Lines
 * with the line they start on, the reason and their raw text. Every record the reader delimits is
 * either curated or rejected.
 */
export async function pseudonymize(
  input: Readable,
  dataset: DatasetRules,
  tokenizer: Tokenizer,
  outputs: { readonly curated: Writable; readonly rejected: Writable },
  options: TransformOptions = {},
): Promise<TransformResult> {
  const tap = new InputTap();
  input.on('error', (err) => tap.destroy(err));
  input.pipe(tap);
  const curated = new HashingWriter(outputs.curated);
  const rejected = new HashingWriter(outputs.rejected);
  const reasons: Record<string, number> = {};
  const asOf = (options.asOf ?? new Date()).toISOString().slice(0, 10);
  const plan = planOf(dataset, asOf);
  let kept = 0;
  let quarantined = 0;
  let fileRejection: string | undefined;
  let batch: Pending[] = [];

  const reject = async (record: RawRecord, reason: string) => {
    quarantined++;
    reasons[reason] = (reasons[reason] ?? 0) + 1;
    const r: Rejected = {
      line: record.line,
      reason,
      ...(isUtf8(record.bytes)
        ? { record: record.bytes.toString('utf8') }
        : { recordBase64: record.bytes.toString('base64') }),
      ...(record.length > record.bytes.length ? { length: record.length } : {}),
    };
    await rejected.write(`${JSON.stringify(r)}\n`);
  };

  const flush = async () => {
    if (batch.length === 0) return;
    // Tokens already known are filled in at once; the others are MACed, each once, then filled in.
    const waiting: Slot[] = [];
    for (const p of batch) {
      for (const s of p.slots) {
        const token = tokenizer.known(s.input);
        if (token === undefined) waiting.push(s);
        else (s.target as Record<string | number, unknown>)[s.key] = token;
      }
    }
    if (waiting.length > 0) {
      const resolved = await tokenizer.resolve(waiting.map((s) => s.input));
      for (const s of waiting) (s.target as Record<string | number, unknown>)[s.key] = resolved.get(s.input);
    }
    let text = '';
    for (const p of batch) {
      text += Array.isArray(p.out) ? csvLine(p.out as string[]) : `${stringifyJson(p.out)}\n`;
    }
    kept += batch.length;
    await curated.write(text);
    batch = [];
  };

  let columns: Column[] | undefined;
  if (options.header) {
    const problem = headerProblem(options.header, dataset);
    if (problem) throw new Error(`the header given for a range cannot be processed: ${problem}`);
    columns = columnsOf(options.header, plan);
  }
  for await (const record of readRecords(tap, dataset.format, options.start)) {
    const text = recordText(record.bytes);
    if (dataset.format === 'csv' && columns === undefined) {
      const header = readHeader(record, dataset);
      if ('problem' in header) {
        fileRejection = header.problem;
        break;
      }
      columns = columnsOf(header.columns, plan);
      await curated.write(csvLine(columns.filter((c) => c.kept).map((c) => c.name)));
      continue;
    }
    try {
      if (record.length > record.bytes.length) {
        throw new RecordRejection(`record longer than ${MAX_RECORD_BYTES / 1024 / 1024} MiB`);
      }
      if (text === undefined) throw new RecordRejection('not valid UTF-8');
      batch.push(columns ? prepareCsv(text, columns, plan) : prepareJson(text, plan));
    } catch (err) {
      if (!(err instanceof RecordRejection)) throw err;
      await reject(record, err.message);
      continue;
    }
    if (batch.length >= BATCH_SIZE) await flush();
  }
  if (fileRejection) {
    input.unpipe(tap);
    input.destroy();
  } else {
    await flush();
    if (dataset.format === 'csv' && columns === undefined) fileRejection = 'empty file: no header row';
  }

  return {
    dataset: dataset.name,
    ruleVersion: ruleVersion(dataset),
    rules: summarizeRules(dataset),
    input: { sha256: tap.digest(), bytes: tap.bytes, records: kept + quarantined },
    output: { sha256: curated.digest(), bytes: curated.bytes, records: kept },
    quarantined: { records: quarantined, reasons },
    asOf,
    ...(fileRejection ? { fileRejection } : {}),
  };
}

/** A CSV line: fields quoted where they hold a comma, a quote or a line break (RFC 4180). */
function csvLine(fields: readonly string[]): string {
  // A row of one empty field is written `""`, not as a blank line that readers skip.
  if (fields.length === 1 && fields[0] === '') return '""\n';
  let line = '';
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    if (i > 0) line += ',';
    line += /[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f;
  }
  return `${line}\n`;
}

/** Rules by field and safe fields of a dataset or of an `object` rule, looked up once per file. */
interface Scope {
  readonly rules: ReadonlyMap<string, FieldRule>;
  readonly safe: ReadonlySet<string>;
  readonly required: readonly FieldRule[];
  readonly nested: ReadonlyMap<string, Scope>;
}

interface Plan {
  readonly dataset: DatasetRules;
  readonly top: Scope;
  readonly tokenScope: string;
  readonly asOf: string;
  /** Each zip3 rule's small areas, nested rules' too. */
  readonly smallAreas: ReadonlyMap<FieldRule, ReadonlySet<string>>;
  readonly birthDate?: string;
  readonly removeDates: boolean;
  /** CSV columns that may hold line breaks. */
  readonly multiline: ReadonlySet<string>;
}

function scopeOf(rules: readonly FieldRule[], safe: readonly string[]): Scope {
  return {
    rules: new Map(rules.map((r) => [r.field, r])),
    safe: new Set(safe),
    required: rules.filter((r) => !r.optional),
    nested: new Map(
      rules
        .filter((r) => r.transform === 'object')
        .map((r) => [r.field, scopeOf(r.rules ?? [], r.safeFields ?? [])]),
    ),
  };
}

function planOf(dataset: DatasetRules, asOf: string): Plan {
  return {
    dataset,
    top: scopeOf(dataset.rules, dataset.safeFields),
    tokenScope: tokenScope(dataset),
    asOf,
    smallAreas: new Map(
      [...dataset.rules, ...dataset.rules.flatMap((r) => r.rules ?? [])]
        .filter((r) => r.transform === 'zip3')
        .map((r) => [r, new Set(smallAreasOf(r))]),
    ),
    birthDate: dataset.over89?.birthDate,
    removeDates: dataset.over89?.dates === 'remove',
    multiline: new Set(dataset.multilineFields ?? []),
  };
}

/** A CSV column: its name, and the rule or safe listing that keeps it (or not). */
interface Column {
  readonly name: string;
  readonly rule?: FieldRule;
  readonly kept: boolean;
}

function columnsOf(header: readonly string[], plan: Plan): Column[] {
  return header.map((name) => {
    const rule = plan.top.rules.get(name);
    return { name, ...(rule ? { rule } : {}), kept: rule !== undefined || plan.top.safe.has(name) };
  });
}

/** A CSV file's header row: its columns, or why the file cannot be processed. */
export function readHeader(
  record: RawRecord,
  dataset: DatasetRules,
): { readonly columns: string[] } | { readonly problem: string } {
  const text = record.length > record.bytes.length ? undefined : recordText(record.bytes);
  const header = text === undefined ? { error: 'not UTF-8, or too long' } : csvFields(text);
  if ('error' in header) return { problem: `header row: ${header.error}` };
  const problem = headerProblem(header, dataset);
  return problem ? { problem } : { columns: header };
}

/** Why a CSV header cannot be processed, or undefined. */
function headerProblem(header: readonly string[], dataset: DatasetRules): string | undefined {
  // Positions, not names: a file without a header row has data where the names should be.
  const seen = new Map<string, number>();
  for (const [i, c] of header.entries()) {
    if (/[\r\n]/.test(c)) {
      return `header row: column ${i + 1} holds a line break (are the line endings CR alone? expected LF or CRLF)`;
    }
    const first = seen.get(c);
    if (first !== undefined) return `header names one column twice (columns ${first + 1} and ${i + 1})`;
    seen.set(c, i);
  }
  const missing = dataset.rules.filter((r) => !r.optional && !seen.has(r.field)).map((r) => r.field);
  return missing.length > 0
    ? `header lacks the required column(s) ${missing.join(', ')} of dataset ${dataset.name}`
    : undefined;
}

/** What Safe Harbor's over-89 rule needs of a record: is the patient 90 or older, and its date fields. */
class Record89 {
  over89 = false;
  readonly dates: { target: unknown[] | Record<string, unknown>; key: number | string }[] = [];
}

function prepareCsv(text: string, columns: readonly Column[], plan: Plan): Pending {
  const fields = csvFields(text);
  if ('error' in fields) throw new RecordRejection(fields.error);
  if (fields.length !== columns.length) {
    throw new RecordRejection(
      `malformed CSV: ${fields.length} field(s) where the header has ${columns.length}`,
    );
  }
  // A line break inside a field is where a stray opening quote swallows the records after it:
  // only the columns the dataset says may hold one do.
  if (/[\r\n]/.test(text)) {
    const at = fields.findIndex((f, i) => /[\r\n]/.test(f) && !plan.multiline.has(columns[i].name));
    if (at !== -1) {
      throw new RecordRejection(
        `malformed CSV: column ${at + 1} holds a line break (expected only in the dataset's multilineFields)`,
      );
    }
  }
  const out: string[] = [];
  const slots: Slot[] = [];
  const safeHarbor = new Record89();
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i];
    if (!column.kept) continue;
    const value = fields[i];
    if (!column.rule) {
      out.push(value);
      continue;
    }
    out.push('');
    applyRule(value, column.rule, plan, out, out.length - 1, slots, safeHarbor);
  }
  settleDates(safeHarbor, plan);
  return { out, slots };
}

function prepareJson(text: string, plan: Plan): Pending {
  let value: unknown;
  try {
    // A key given twice with different values is ambiguous: lossless-json refuses it.
    value = parseJson(text);
  } catch {
    throw new RecordRejection('malformed JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || isLosslessNumber(value)) {
    throw new RecordRejection('expected a JSON object');
  }
  const slots: Slot[] = [];
  const safeHarbor = new Record89();
  const out = prepareObject(value as Record<string, unknown>, plan.top, plan, slots, safeHarbor, '');
  settleDates(safeHarbor, plan);
  return { out, slots };
}

/** An object's kept properties, in input order; `path` prefixes the names in reasons. */
function prepareObject(
  value: Record<string, unknown>,
  scope: Scope,
  plan: Plan,
  slots: Slot[],
  safeHarbor: Record89,
  path: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const v = value[key];
    const rule = scope.rules.get(key);
    if (rule) {
      out[key] = null;
      applyRule(v, rule, plan, out, key, slots, safeHarbor, path, scope.nested.get(key));
    } else if (scope.safe.has(key)) {
      if (v !== null && typeof v === 'object' && !isLosslessNumber(v)) {
        throw new RecordRejection(
          `${path}${key}: expected a string, number, boolean or null in a safe field, not ${Array.isArray(v) ? 'an array' : 'an object'}`,
        );
      }
      out[key] = v;
    }
  }
  for (const rule of scope.required) {
    if (!Object.hasOwn(value, rule.field)) throw new RecordRejection(`${path}${rule.field}: missing value`);
  }
  return out;
}

/** Applies a rule to a value, writing the result to `target[key]` (now, or once its token is known). */
function applyRule(
  value: unknown,
  rule: FieldRule,
  plan: Plan,
  target: unknown[] | Record<string, unknown>,
  key: number | string,
  slots: Slot[],
  safeHarbor: Record89,
  path = '',
  nested?: Scope,
): void {
  const name = `${path}${rule.field}`;
  const set = (v: unknown) => ((target as Record<string | number, unknown>)[key] = v);
  if (
    value === undefined ||
    value === null ||
    (typeof value === 'string' && value.trim() === '') ||
    (Array.isArray(value) && value.length === 0 && rule.transform !== 'object')
  ) {
    if (rule.optional) return void set(Array.isArray(target) ? '' : null);
    throw new RecordRejection(`${name}: missing value`);
  }
  if (rule.transform === 'object') {
    if (Array.isArray(value)) {
      const items: unknown[] = [];
      value.forEach((item, i) => {
        if (item === null || typeof item !== 'object' || Array.isArray(item) || isLosslessNumber(item)) {
          throw new RecordRejection(`${name}[${i}]: expected a JSON object`);
        }
        items.push(
          prepareObject(item as Record<string, unknown>, nested!, plan, slots, safeHarbor, `${name}[${i}].`),
        );
      });
      return void set(items);
    }
    if (typeof value !== 'object' || isLosslessNumber(value)) {
      throw new RecordRejection(`${name}: expected a JSON object or an array of objects`);
    }
    return void set(
      prepareObject(value as Record<string, unknown>, nested!, plan, slots, safeHarbor, `${name}.`),
    );
  }
  let text: string;
  if (typeof value === 'string') text = value;
  else if (isLosslessNumber(value)) text = value.toString();
  else throw new RecordRejection(`${name}: expected a string or a number`);

  switch (rule.transform) {
    case 'token': {
      // A number as an identifier is an integer: 1.5, 15 and 1e1 must not meet as digits.
      if (isLosslessNumber(value) && !/^-?\d+$/.test(text)) {
        throw new RecordRejection(`${name}: expected a string or a whole number`);
      }
      // A string with half a surrogate pair would be MACed as U+FFFD, like any other such string.
      // (Generalised values are read by patterns of ASCII digits, which refuse it anyway.)
      if (LONE_SURROGATE.test(text)) throw new RecordRejection(`${name}: not well-formed Unicode`);
      let normalized: string;
      try {
        normalized = normalizeIdentifier(text, rule.normalize ?? 'trim', plan.dataset.phoneCountry);
      } catch (err) {
        if (err instanceof NotNormalizable) throw new RecordRejection(`${name}: ${err.message}`);
        throw err;
      }
      if (normalized === '') {
        throw new RecordRejection(
          `${name}: nothing left to tokenise after normalising (${rule.normalize ?? 'trim'})`,
        );
      }
      set('');
      slots.push({
        target,
        key,
        // A nested field's default domain is its path: `practitioner.id` is not the patient's `id`.
        input: Tokenizer.scoped(plan.tokenScope, rule.domain ?? name.replace(/\[\d+\]/g, ''), normalized),
      });
      return;
    }
    case 'date-to-year':
    case 'date-to-month': {
      const date = parseDate(text, name);
      set(generalizeDate(date, rule.transform));
      safeHarbor.dates.push({ target, key });
      if (path === '' && rule.field === plan.birthDate && ageOn(date, plan.asOf) > MAX_REPORTED_AGE) {
        safeHarbor.over89 = true;
      }
      return;
    }
    case 'age': {
      const age = parseAge(text, name);
      set(reportedAge(age));
      // Anyone aged 90 or more in the record, at any depth (Safe Harbor covers relatives too).
      if (age > MAX_REPORTED_AGE) safeHarbor.over89 = true;
      return;
    }
    case 'zip3':
      set(zip3(text, name, plan.smallAreas.get(rule)));
      return;
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Safe Harbor: the dates of a patient aged 90 or more say nothing but `90+` (or are removed). */
function settleDates(safeHarbor: Record89, plan: Plan): void {
  if (!safeHarbor.over89) return;
  for (const { target, key } of safeHarbor.dates) {
    (target as Record<string | number, unknown>)[key] = plan.removeDates
      ? Array.isArray(target)
        ? ''
        : null
      : OVER_89;
  }
}

import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Transform, type Readable, type Writable } from 'node:stream';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify/sync';
import { dateToMonth, dateToYear, generalizeAge, RecordRejection, zip3 } from './generalize';
import { ruleVersion, type DatasetRules, type FieldRule } from './rules';
import { normalizeIdentifier, Tokenizer } from './tokenizer';

/** Records transformed per batch: one round of MAC calls covers the batch's distinct identifiers. */
export const BATCH_SIZE = 1000;

/** A record set aside: where it was, why, and its raw text (the quarantine zone keeps it). */
export interface Rejected {
  readonly line: number;
  readonly reason: string;
  readonly record: string;
}

export interface TransformResult {
  readonly dataset: string;
  readonly ruleVersion: string;
  readonly input: { readonly sha256: string; readonly bytes: number; readonly records: number };
  readonly output: { readonly sha256: string; readonly bytes: number; readonly records: number };
  readonly quarantined: { readonly records: number; readonly reasons: Readonly<Record<string, number>> };
  /** Set when the file as a whole cannot be processed (its header lacks a required column, say). */
  readonly fileRejection?: string;
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
class InputTap extends Transform {
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

/** A record read from the input: its fields, or why it could not be read. */
type Parsed =
  | { readonly line: number; readonly raw: string; readonly fields: ReadonlyMap<string, unknown> }
  | { readonly line: number; readonly raw: string; readonly error: string };

/** What a record becomes once its tokens are known. */
interface Pending {
  readonly line: number;
  readonly raw: string;
  /** Output values by field; tokens are filled in from `tokens` once resolved. */
  readonly values: Map<string, unknown>;
  readonly tokens: ReadonlyMap<string, string>;
}

/**
 * Pseudonymizes one file of a dataset, streaming: records are read, transformed and written a
 * batch at a time, so memory holds one batch, never the file. Kept records go to `curated`
 * (CSV with the kept columns in input order, or JSON Lines); records that cannot be read or do
 * not match the rules go to `rejected` as JSON Lines with the reason and their raw text.
 */
export async function pseudonymize(
  input: Readable,
  dataset: DatasetRules,
  tokenizer: Tokenizer,
  outputs: { readonly curated: Writable; readonly rejected: Writable },
): Promise<TransformResult> {
  const tap = new InputTap();
  input.on('error', (err) => tap.destroy(err));
  input.pipe(tap);
  const curated = new HashingWriter(outputs.curated);
  const rejected = new HashingWriter(outputs.rejected);
  const reasons: Record<string, number> = {};
  let kept = 0;
  let quarantined = 0;

  const reject = async (r: Rejected) => {
    quarantined++;
    reasons[r.reason] = (reasons[r.reason] ?? 0) + 1;
    await rejected.write(`${JSON.stringify(r)}\n`);
  };

  const reader = dataset.format === 'csv' ? readCsv(tap) : readJsonLines(tap);
  const plan = planOf(dataset);
  let columns: string[] | undefined;
  let fileRejection: string | undefined;
  let batch: Pending[] = [];

  const flush = async () => {
    if (batch.length === 0) return;
    const resolved = await tokenizer.resolve(batch.flatMap((p) => [...p.tokens.values()]));
    const rows = batch.map((p) => {
      for (const [field, tokenInput] of p.tokens) p.values.set(field, resolved.get(tokenInput));
      return p.values;
    });
    kept += rows.length;
    await curated.write(
      dataset.format === 'csv'
        ? stringify(rows.map((values) => columns!.map((c) => values.get(c) ?? '')))
        : rows.map((values) => `${JSON.stringify(Object.fromEntries(values))}\n`).join(''),
    );
    batch = [];
  };

  for await (const item of reader) {
    if (item.kind === 'header') {
      const problem = headerProblem(item.columns, dataset);
      if (problem) {
        fileRejection = problem;
        break;
      }
      columns = item.columns.filter((c) => isKept(c, plan));
      await curated.write(stringify([columns]));
      continue;
    }
    const parsed = item.record;
    if ('error' in parsed) {
      await reject({ line: parsed.line, reason: parsed.error, record: parsed.raw });
      continue;
    }
    try {
      batch.push(prepare(parsed, plan));
    } catch (err) {
      if (!(err instanceof RecordRejection)) throw err;
      await reject({ line: parsed.line, reason: err.message, record: parsed.raw });
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
    input: { sha256: tap.digest(), bytes: tap.bytes, records: kept + quarantined },
    output: { sha256: curated.digest(), bytes: curated.bytes, records: kept },
    quarantined: { records: quarantined, reasons },
    ...(fileRejection ? { fileRejection } : {}),
  };
}

/** A dataset's rules by field and its safe fields, looked up once per file, not per record. */
interface Plan {
  readonly dataset: DatasetRules;
  readonly rules: ReadonlyMap<string, FieldRule>;
  readonly safe: ReadonlySet<string>;
}

function planOf(dataset: DatasetRules): Plan {
  return {
    dataset,
    rules: new Map(dataset.rules.map((r) => [r.field, r])),
    safe: new Set(dataset.safeFields),
  };
}

function isKept(field: string, plan: Plan): boolean {
  return plan.rules.has(field) || plan.safe.has(field);
}

/** Why a CSV header cannot be processed, or undefined. */
function headerProblem(columns: readonly string[], dataset: DatasetRules): string | undefined {
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c)) return `header names column "${c}" twice`;
    seen.add(c);
  }
  const missing = dataset.rules.filter((r) => !r.optional && !seen.has(r.field)).map((r) => r.field);
  return missing.length > 0
    ? `header lacks the required column(s) ${missing.join(', ')} of dataset ${dataset.name}`
    : undefined;
}

/** Applies the rules to one record: generalisations now, token inputs for the batch's MAC round. */
function prepare(
  parsed: { line: number; raw: string; fields: ReadonlyMap<string, unknown> },
  plan: Plan,
): Pending {
  const values = new Map<string, unknown>();
  const tokens = new Map<string, string>();
  // Fields in input order; rules for fields the record lacks are checked after.
  for (const [field, value] of parsed.fields) {
    const rule = plan.rules.get(field);
    if (rule) {
      const text = textOf(value, rule);
      if (text === undefined) values.set(field, null);
      else if (rule.transform === 'token') {
        tokens.set(field, tokenInput(text, rule));
        values.set(field, '');
      } else values.set(field, generalise(text, rule));
    } else if (plan.safe.has(field)) {
      values.set(field, value);
    }
  }
  for (const rule of plan.dataset.rules) {
    if (!parsed.fields.has(rule.field) && !rule.optional) {
      throw new RecordRejection(`${rule.field}: missing value`);
    }
  }
  return { line: parsed.line, raw: parsed.raw, values, tokens };
}

/** The value as text, undefined when absent and allowed to be; rejects what cannot be read. */
function textOf(value: unknown, rule: FieldRule): string | undefined {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
    if (rule.optional) return undefined;
    throw new RecordRejection(`${rule.field}: missing value`);
  }
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new RecordRejection(`${rule.field}: expected a string or a number`);
  }
  return String(value);
}

function tokenInput(text: string, rule: FieldRule): string {
  const normalized = normalizeIdentifier(text, rule.normalize ?? 'trim');
  if (normalized === '') {
    throw new RecordRejection(
      `${rule.field}: nothing left to tokenise after normalising (${rule.normalize})`,
    );
  }
  return Tokenizer.input(rule.domain ?? rule.field, normalized);
}

function generalise(text: string, rule: FieldRule): string {
  switch (rule.transform) {
    case 'date-to-year':
      return dateToYear(text, rule.field);
    case 'date-to-month':
      return dateToMonth(text, rule.field);
    case 'age':
      return generalizeAge(text, rule.field);
    case 'zip3':
      return zip3(text, rule.field, rule.smallAreas);
    case 'token':
      throw new Error('tokens are resolved in batches');
  }
}

type ReaderItem = { kind: 'header'; columns: string[] } | { kind: 'record'; record: Parsed };

/** The line a record starts on, from the line it ends on and its raw text. */
function startLine(endLine: number, raw: string): number {
  return endLine - (raw.replace(/\r?\n$/, '').match(/\n/g)?.length ?? 0);
}

async function* readCsv(input: Readable): AsyncGenerator<ReaderItem> {
  const parser = parse({
    bom: true,
    raw: true,
    info: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
  });
  const skipped: Parsed[] = [];
  parser.on('skip', (err: Error & { code?: string; lines?: number; raw?: string }) => {
    // The parser's message may quote data; the reason names the kind of fault only.
    skipped.push({
      line: err.lines ?? 0,
      raw: err.raw ?? '',
      error: `malformed CSV (${err.code ?? 'parse error'})`,
    });
  });
  input.on('error', (err) => parser.destroy(err));
  input.pipe(parser);
  let header: string[] | undefined;
  for await (const { record, raw, info } of parser as AsyncIterable<{
    record: string[];
    raw: string;
    info: { lines: number };
  }>) {
    const line = startLine(info.lines, raw);
    // The parser reports a bad record as soon as it meets it, which may be before records ahead
    // of it have been read from here: keep the quarantine in input order.
    while (skipped.length > 0 && skipped[0].line < line) yield { kind: 'record', record: skipped.shift()! };
    if (!header) {
      header = record.map((c) => c.trim());
      yield { kind: 'header', columns: header };
      continue;
    }
    const fields = new Map<string, unknown>(header.map((c, i) => [c, record[i]]));
    yield { kind: 'record', record: { line, raw, fields } };
  }
  while (skipped.length > 0) yield { kind: 'record', record: skipped.shift()! };
}

async function* readJsonLines(input: Readable): AsyncGenerator<ReaderItem> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      yield { kind: 'record', record: { line, raw: text, error: 'malformed JSON' } };
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      yield { kind: 'record', record: { line, raw: text, error: 'expected a JSON object' } };
      continue;
    }
    yield { kind: 'record', record: { line, raw: text, fields: new Map(Object.entries(value)) } };
  }
}
